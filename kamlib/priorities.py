"""Priorities and performance review (deck part 2: 确定优先顺序, 分析).

确定优先顺序 — "根据客户的大小、潜力及对你本人的及企业的相对重要性来决定对资源的最有效分配":
:func:`pareto` and :func:`smallest_set_for_share` show how concentrated revenue is,
:func:`priority_scores` turns size, potential and importance into one score,
:func:`portfolio_quadrants` sorts accounts into four groups, :func:`service_plan` gives
each account a service level by its priority rank and the hours that level gets, and
:func:`allocate` splits a whole-number budget in proportion to weights.

The scores, weights, groups and service levels are the course's own way of putting the
deck's sentence to work; the deck names the three rulers, not a formula.

分析 — "从账面中检查自己的业绩": :func:`performance_review` gives revenue per account
per year, the year-on-year growth and a trend label.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from kamlib.columns import require_columns

DEFAULT_WEIGHTS: dict[str, float] = {"size": 0.5, "potential": 0.3, "importance": 0.2}
"""Weights of :func:`priority_scores`: size (annual_revenue), potential (growth_potential)
and importance (strategic_importance). Size counts most because the deck invests limited
resources where they bring the firm benefit; potential next, since it decides tomorrow's
size; importance last, as a tie-breaker for strategic reasons beyond the numbers."""

WEIGHT_COLUMNS: dict[str, str] = {
    "size": "annual_revenue",
    "potential": "growth_potential",
    "importance": "strategic_importance",
}

QUADRANTS: dict[str, str] = {
    "重点发展": "规模大、潜力高：投入最多的资源，把潜力变成业务；关系还没到战略联盟的，争取提升一个层级。",
    "重点维护": "规模大、潜力低：守住现有业务，以高效的服务和稳定的关系为主。",
    "选择培育": "规模小、潜力高：挑选其中最有把握的客户，有计划地投入、培育。",
    "维持观察": "规模小、潜力低：按标准流程服务，控制投入，定期观察变化。",
}
"""The four portfolio groups of :func:`portfolio_quadrants` and what each means."""


@dataclass(frozen=True)
class ServiceLevel:
    """One service level of :func:`service_plan`.

    ``share`` is the fraction of accounts (by priority rank) at this level, ``weight`` the
    hours one of its accounts gets relative to one account of the lowest level.
    """

    name: str
    share: float
    weight: int
    meaning_zh: str


SERVICE_LEVELS: tuple[ServiceLevel, ...] = (
    ServiceLevel("A 级　重点投入", 1 / 6, 12, "客户经理每月上门，行政支持者定期拜访客户高层，方案和服务有专人跟进。"),
    ServiceLevel("B 级　定期维护", 1 / 3, 4, "客户经理每季度上门，按客户计划跟进，问题和投诉及时处理。"),
    ServiceLevel("C 级　标准服务", 1 / 2, 1, "以电话、线上和服务网点为主，有项目或问题时再上门。"),
)
"""The course's service levels, highest first: the top sixth of accounts by priority get
A, the next third B, the rest C; hours are shared 12 : 4 : 1 per A, B and C account (then
rounded to whole hours). Effort follows priority in steps, as a sales team plans visits."""

TRENDS = ("增长", "持平", "下降")
"""Trend labels of :func:`performance_review`: up, flat, down."""
FLAT_BAND = 5.0
"""Growth within ±FLAT_BAND percent counts as 持平 in :func:`performance_review`."""


# ---------------------------------------------------------------- validation helpers
def _row_name(df: pd.DataFrame, label: object) -> str:
    if "account_id" in df.columns:
        return f"客户 {df.at[label, 'account_id']}"
    return f"行 {label}"


def _numeric(
    df: pd.DataFrame,
    column: str,
    func: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
) -> pd.Series:
    """The column as floats, or a Chinese ValueError naming the first bad row and value."""
    values = pd.to_numeric(df[column], errors="coerce").astype("float64")
    for label, raw, value in zip(df.index, df[column], values):
        problem = None
        if pd.isna(raw):
            raise ValueError(f"{func}：{_row_name(df, label)} 的 {column} 为空，需要填写。")
        if not math.isfinite(value):
            problem = "不是有效数字"
        elif low is not None and value < low:
            problem = f"小于 {low:g}"
        elif high is not None and value > high:
            problem = f"大于 {high:g}"
        elif integer and value != int(value):
            problem = "不是整数"
        if problem:
            allowed = f"（应为 {low:g}–{high:g} 的整数）" if integer and high is not None else ""
            raise ValueError(f"{func}：{_row_name(df, label)} 的 {column} 为 {raw!r}，{problem}{allowed}。")
    return values


def _account_index(accounts: pd.DataFrame) -> pd.Index:
    if "account_id" in accounts.columns:
        return pd.Index(accounts["account_id"], name="account_id")
    return accounts.index


# ---------------------------------------------------------------- size and Pareto
def pareto(accounts: pd.DataFrame, value: str = "annual_revenue") -> pd.DataFrame:
    """Accounts sorted by *value*, largest first, with Pareto columns added.

    rank (1 = largest), share (of the total), cum_share (running total of share) and
    cum_account_share (fraction of accounts so far). Ties keep the input order.
    """
    require_columns(accounts, [value], "客户表")
    if accounts.empty:
        raise ValueError("pareto：表格中没有任何客户。")
    values = _numeric(accounts, value, "pareto", low=0)
    total = values.sum()
    if total <= 0:
        raise ValueError(f"pareto：{value} 的合计为 {total:g}，无法计算占比（合计必须大于 0）。")
    order = np.argsort(-values.to_numpy(), kind="stable")
    out = accounts.iloc[order].reset_index(drop=True)
    share = values.iloc[order].to_numpy() / total
    n = len(out)
    out["rank"] = np.arange(1, n + 1)
    out["share"] = share
    out["cum_share"] = np.minimum(np.cumsum(share), 1.0)
    out["cum_account_share"] = np.arange(1, n + 1) / n
    return out


def smallest_set_for_share(accounts: pd.DataFrame, share: float = 0.8, value: str = "annual_revenue") -> pd.DataFrame:
    """The fewest accounts (largest first) that together reach *share* of the total."""
    if isinstance(share, bool) or not isinstance(share, numbers.Real) or not 0 < share <= 1:
        raise ValueError(f"smallest_set_for_share：share 为 {share!r}，应为大于 0、不超过 1 的小数（如 0.8）。")
    ranked = pareto(accounts, value)
    reached = ranked["cum_share"].to_numpy() >= share - 1e-12
    count = int(np.argmax(reached)) + 1
    return ranked.iloc[:count].copy()


# ---------------------------------------------------------------- priority scores
def _check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(weights, Mapping):
        raise ValueError(f"weights 应为字典，例如 {DEFAULT_WEIGHTS}，收到的是 {weights!r}。")
    unknown = [k for k in weights if k not in WEIGHT_COLUMNS]
    if unknown:
        raise ValueError(f"未知的权重：{'、'.join(map(repr, unknown))}（可用的权重：{'、'.join(WEIGHT_COLUMNS)}）。")
    clean = {}
    for key in WEIGHT_COLUMNS:
        w = weights.get(key, 0)
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w < 0:
            raise ValueError(f"权重 {key} 为 {w!r}，应为不小于 0 的数。")
        clean[key] = float(w)
    total = sum(clean.values())
    if total <= 0:
        raise ValueError(f"权重之和为 {total:g}，至少要有一个权重大于 0：{dict(weights)}。")
    return {k: w / total for k, w in clean.items()}


def priority_scores(
    accounts: pd.DataFrame, weights: Mapping[str, float] = DEFAULT_WEIGHTS, *, size_scale: str = "rank"
) -> pd.Series:
    """Priority score 0..100 per account (index account_id), higher = more resources.

    Each factor is put on 0..1, then score = 100 × Σ weight × factor, with the weights
    divided by their sum (missing keys count as 0):

    * size — annual_revenue. ``size_scale="rank"`` (default): percentile rank,
      (rank − 1) / (n − 1), ties averaged, so the smallest account scores 0 and the
      largest 1. Revenue is highly skewed (a few accounts bring most of it); min–max
      would squeeze most accounts near 0. ``size_scale="minmax"``: (x − min) / (max − min).
      If all revenues are equal (or there is one account) every account gets 0.5.
    * potential — growth_potential 1–5, as (x − 1) / 4.
    * importance — strategic_importance 1–5, as (x − 1) / 4.
    """
    func = "priority_scores"
    w = _check_weights(weights)
    require_columns(accounts, list(WEIGHT_COLUMNS.values()), "客户表")
    if size_scale not in ("rank", "minmax"):
        raise ValueError(f"{func}：size_scale 为 {size_scale!r}，应为 'rank' 或 'minmax'。")
    revenue = _numeric(accounts, "annual_revenue", func, low=0)
    potential = _numeric(accounts, "growth_potential", func, low=1, high=5, integer=True)
    importance = _numeric(accounts, "strategic_importance", func, low=1, high=5, integer=True)

    spread = revenue.max() - revenue.min() if len(revenue) else 0.0
    if spread == 0:
        size = pd.Series(0.5, index=revenue.index)
    elif size_scale == "rank":
        size = (revenue.rank(method="average") - 1) / (len(revenue) - 1)
    else:
        size = (revenue - revenue.min()) / spread
    factors = {"size": size, "potential": (potential - 1) / 4, "importance": (importance - 1) / 4}
    score = sum(w[k] * factors[k] for k in WEIGHT_COLUMNS) * 100
    return pd.Series(
        np.clip(score.to_numpy(dtype="float64"), 0, 100), index=_account_index(accounts), name="priority_score"
    )


def _upper_half(values: pd.Series) -> np.ndarray | None:
    """Whether each value lies in the upper half of *values*: above the median, and on it
    too when fewer values lie above the median than below (the halves as even as ties
    allow). None when all values are equal (nothing to split)."""
    median = values.median()
    above, below = (values > median).to_numpy(), (values < median).to_numpy()
    if not above.any() and not below.any():
        return None
    return above | (values == median).to_numpy() if above.sum() < below.sum() else above


def portfolio_quadrants(accounts: pd.DataFrame) -> pd.Series:
    """Portfolio group per account (index account_id), one of :data:`QUADRANTS`.

    Size is "large" when annual_revenue is in the upper half of the accounts, potential
    "high" when growth_potential is: above the median, and on the median too when fewer
    accounts are above it than below (so 5, 5, 3 makes both 5s high; 1, 3, 3, 5 keeps the
    3s low). 重点发展 = large & high, 重点维护 = large & low, 选择培育 = small & high,
    维持观察 = small & low. The groups compare accounts with each other: when all accounts
    have the same revenue or the same potential (one account, say), every group is NA.
    """
    func = "portfolio_quadrants"
    require_columns(accounts, ["annual_revenue", "growth_potential"], "客户表")
    revenue = _numeric(accounts, "annual_revenue", func, low=0)
    potential = _numeric(accounts, "growth_potential", func, low=1, high=5, integer=True)
    large, high = _upper_half(revenue), _upper_half(potential)
    if large is None or high is None:
        return pd.Series([None] * len(accounts), index=_account_index(accounts), name="quadrant", dtype="str")
    labels = np.select(
        [large & high, large & ~high, ~large & high], ["重点发展", "重点维护", "选择培育"], default="维持观察"
    )
    return pd.Series(labels, index=_account_index(accounts), name="quadrant")


# ---------------------------------------------------------------- allocation
def _whole(value: object, what: str, *, strict: bool = False) -> int:
    """*value* as a non-negative int; *strict* also rejects whole-valued floats like 400.0."""
    kind = numbers.Integral if strict else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{what} 为 {value!r}，应为不小于 0 的整数。")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"{what} 为 {value!r}，应为不小于 0 的整数。")
    return int(value)


def _water_fill(budget: Fraction, weights: list[Fraction], caps: list[int | None]) -> tuple[list[Fraction], Fraction]:
    """Exact quotas min(cap, λ·weight) summing to *budget*, and what is left if all cap out."""
    quotas = [Fraction(0)] * len(weights)
    active = [i for i, w in enumerate(weights) if w > 0]
    capped = sorted((i for i in active if caps[i] is not None), key=lambda i: (Fraction(caps[i]) / weights[i], i))
    left, weight_sum = budget, sum((weights[i] for i in active), Fraction(0))
    saturated = set()
    for i in capped:
        if weight_sum == 0 or Fraction(caps[i]) / weights[i] > left / weight_sum:
            break
        quotas[i] = Fraction(caps[i])
        saturated.add(i)
        left -= caps[i]
        weight_sum -= weights[i]
    if weight_sum == 0:
        return quotas, left
    level = left / weight_sum
    for i in active:
        if i not in saturated:
            quotas[i] = level * weights[i]
    return quotas, Fraction(0)


def allocate(budget: int, scores: pd.Series, caps: pd.Series | int | None = None) -> pd.Series:
    """Split a whole-number *budget* (hours, 万元 …) over accounts in proportion to *scores*.

    Water-filling with caps: an account whose proportional share would exceed its cap
    gets the cap, and the rest is re-shared among the others. Whole numbers come from the
    largest-remainder method: everyone gets the whole part of their exact share, the
    units left over go to the largest fractional parts, ties to the earlier account.

    The result (int64, same index as *scores*) sums to *budget* exactly, is never
    negative nor above a cap, and an account with a higher score never gets less than
    one with a lower score unless its cap binds. Accounts scoring 0 get something only
    when every positive-score account is at its cap; all scores 0 → an even split.
    """
    budget = _whole(budget, "预算 budget", strict=True)
    if isinstance(scores, Mapping):
        scores = pd.Series(scores, dtype="float64")
    if not isinstance(scores, pd.Series):
        raise ValueError(f"scores 应为 pandas Series（索引为客户），收到的是 {type(scores).__name__}。")
    if scores.index.has_duplicates:
        dup = scores.index[scores.index.duplicated()].unique().tolist()
        raise ValueError(f"scores 的索引有重复的客户：{dup}。")
    if scores.empty and budget > 0:
        raise ValueError(f"scores 中没有任何客户，无法分配预算 {budget}。")
    values = pd.to_numeric(scores, errors="coerce").astype("float64")
    for key, raw, v in zip(scores.index, scores, values):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"客户 {key} 的得分为 {raw!r}，应为不小于 0 的有限数字。")

    n = len(scores)
    if caps is None:
        cap_list: list[int | None] = [None] * n
    elif isinstance(caps, pd.Series):
        missing = [k for k in scores.index if k not in caps.index]
        if missing:
            raise ValueError(f"caps 中缺少这些客户的上限：{missing}。")
        cap_list = [_whole(caps[k], f"客户 {k} 的上限 cap") for k in scores.index]
    else:
        cap_list = [_whole(caps, "上限 caps")] * n
    if all(c is not None for c in cap_list) and sum(cap_list) < budget:
        raise ValueError(f"上限之和为 {sum(cap_list)}，小于预算 {budget}，预算无法全部分配。")

    weights = [Fraction(float(v)) for v in values]
    quotas, left = _water_fill(Fraction(budget), weights, cap_list)
    if left > 0:  # every positive-score account is at its cap: zero scores share evenly
        zero = [Fraction(1) if w == 0 else Fraction(0) for w in weights]
        extra, _ = _water_fill(left, zero, cap_list)
        quotas = [q + e for q, e in zip(quotas, extra)]

    result = [math.floor(q) for q in quotas]
    remainder = budget - sum(result)
    order = sorted(range(n), key=lambda i: (-(quotas[i] - result[i]), i))
    for i in order[:remainder]:
        result[i] += 1
    return pd.Series(result, index=scores.index, dtype="int64", name="allocation")


# ---------------------------------------------------------------- service levels
def service_levels(scores: pd.Series) -> pd.Series:
    """Service level name per account (same index as *scores*), by priority rank.

    The highest-scoring ``share`` of accounts (rounded, at least one) get the first level
    of :data:`SERVICE_LEVELS`, the next share the second, the rest the last. Equal scores
    keep the input order.
    """
    if not isinstance(scores, pd.Series):
        raise ValueError(f"scores 应为 pandas Series（索引为客户），收到的是 {type(scores).__name__}。")
    values = pd.to_numeric(scores, errors="coerce").to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        raise ValueError("scores 中有空值或不是数字的得分，无法排出优先顺序。")
    order = np.argsort(-values, kind="stable")
    names = np.empty(len(values), dtype=object)
    start = 0
    for i, level in enumerate(SERVICE_LEVELS):
        last = i == len(SERVICE_LEVELS) - 1
        count = len(values) - start if last else max(1, round(level.share * len(values)))
        names[order[start : start + count]] = level.name
        start += count
    return pd.Series(names, index=scores.index, dtype="str", name="service_level")


def service_plan(
    accounts: pd.DataFrame, budget: int = 400, weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> pd.DataFrame:
    """Priority score, service level and whole hours per account (index account_id).

    Columns priority_score, service_level and hours, highest score first. The hours split
    *budget* so that every account of a level gets the same share (± 1 hour of rounding)
    and a level's account gets ``weight`` times a lowest-level account; they sum to *budget*.
    """
    scores = priority_scores(accounts, weights)
    levels = service_levels(scores)
    weight_of = {level.name: level.weight for level in SERVICE_LEVELS}
    hours = allocate(budget, levels.map(weight_of).astype("float64"))
    plan = pd.DataFrame({"priority_score": scores, "service_level": levels, "hours": hours})
    order = np.argsort(-scores.to_numpy(), kind="stable")
    return plan.iloc[order]


# ---------------------------------------------------------------- performance review
def performance_review(orders: pd.DataFrame, by: str = "year", *, flat_band: float = FLAT_BAND) -> pd.DataFrame:
    """Revenue per account per period (*by*, default year) with growth and trend.

    Columns: account_id, <by>, revenue (sum of amount; 0 in a period without orders),
    growth_pct (change on the previous period in %, NaN for the first period or when the
    previous revenue was 0) and trend: 增长 / 下降 when growth is beyond ±*flat_band* %,
    else 持平; from 0 to more than 0 is 增长; empty (NA) in the first period.
    """
    func = "performance_review"
    require_columns(orders, ["account_id", by, "amount"], "订单表")
    amount = _numeric(orders, "amount", func, low=0)
    period = _numeric(orders, by, func, integer=True)
    frame = pd.DataFrame(
        {"account_id": orders["account_id"].astype(str), by: period.astype("int64"), "revenue": amount}
    )
    periods = range(int(period.min()), int(period.max()) + 1) if len(frame) else range(0)
    grid = pd.MultiIndex.from_product([pd.unique(frame["account_id"]), periods], names=["account_id", by])
    out = frame.groupby(["account_id", by])["revenue"].sum().reindex(grid, fill_value=0.0).sort_index().reset_index()
    prev = out.groupby("account_id")["revenue"].shift(1)
    out["growth_pct"] = (out["revenue"] - prev) / prev.where(prev > 0) * 100
    up, flat, down = TRENDS
    growth = out["growth_pct"]
    trend = np.select(
        [prev.isna(), growth.gt(flat_band) | ((prev == 0) & (out["revenue"] > 0)), growth.lt(-flat_band)],
        [None, up, down],
        default=flat,
    )
    out["trend"] = pd.Series(trend, index=out.index, dtype="str")
    return out
