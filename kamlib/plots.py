"""Charts of the course, with Chinese labels that render on any machine.

The charts draw their text with the Chinese font bundled with kamlib ("Kam Sans", a GB2312
subset of WenQuanYi Micro Hei), so they show Chinese without missing-glyph boxes even where
no CJK font is installed (a fresh Linux machine, Binder); a full system CJK font is preferred
when present. They do so inside :func:`chinese_font`, a matplotlib style context: importing
this module changes no global setting. Call :func:`use_chinese_font` to make your own pyplot
charts use the font too.

Each chart function returns a :class:`ChartFigure` (a matplotlib Figure that is not
registered with pyplot): a notebook shows it as a PNG when it is the last expression of a
cell (or through ``display(fig)``), exactly once, with or without ``import
matplotlib.pyplot``. Save it with ``fig.savefig("x.png")``.
"""

from __future__ import annotations

import functools
import io
import numbers
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.resources import files
from typing import ParamSpec, TypeVar

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox

from kamlib.columns import require_columns

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "BUNDLED_FAMILY",
    "ChartFigure",
    "chinese_font",
    "chinese_font_rc",
    "use_chinese_font",
    "with_chinese_font",
    "figure_png",
    "pareto_chart",
    "tier_profile",
    "tier_distribution",
    "portfolio_matrix",
    "allocation_chart",
    "duty_heatmap",
    "stakeholder_chart",
]

BUNDLED_FAMILY = "Kam Sans"
BUNDLED_FONT = files("kamlib") / "fonts" / "KamSans-Regular.ttf"
SYSTEM_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
)
"""Full CJK fonts used before the bundled subset when the system has them."""

TIER_COLORS = {1: "#c6dbef", 2: "#6baed6", 3: "#2171b5", 4: "#08306b"}
MIXED_COLOR = "#f28e2b"
UNKNOWN_COLOR = "#d9d9d9"
QUADRANT_COLORS = {"重点发展": "#e15759", "重点维护": "#4e79a7", "选择培育": "#59a14f", "维持观察": "#9d9d9d"}
ROLE_COLORS = {"account_manager": "#4e79a7", "executive_sponsor": "#e15759", "sales_manager": "#59a14f"}
BAR_COLOR = "#4e79a7"
LINE_COLOR = "#e15759"


# ---------------------------------------------------------------- fonts
def chinese_font_rc() -> dict[str, object]:
    """The matplotlib settings that draw Chinese text; registers the bundled font (idempotent).

    font.family (and the front of font.sans-serif) is: the system CJK fonts of
    :data:`SYSTEM_CJK_FAMILIES` that are installed, then "Kam Sans", then "DejaVu Sans".
    matplotlib (≥ 3.6) takes each character from the first font in that list that has it.
    Only installed families are listed, so matplotlib logs no "font not found".
    axes.unicode_minus is off (the ASCII hyphen-minus renders everywhere).
    With the environment variable KAMLIB_STRICT_GLYPHS=1 (set by the tests, also inside
    notebook kernels) a missing-glyph warning becomes an error.
    """
    if os.environ.get("KAMLIB_STRICT_GLYPHS") == "1":
        warnings.filterwarnings("error", message=r"Glyph .* missing from font", category=UserWarning)
    path = os.fspath(BUNDLED_FONT)
    manager = font_manager.fontManager
    if not any(entry.fname == path for entry in manager.ttflist):
        manager.addfont(path)
    installed = {entry.name for entry in manager.ttflist}
    families = [f for f in SYSTEM_CJK_FAMILIES if f in installed]
    families += [BUNDLED_FAMILY, "DejaVu Sans"]
    rest = [f for f in mpl.rcParams["font.sans-serif"] if f not in families]
    return {"font.family": families, "font.sans-serif": families + rest, "axes.unicode_minus": False}


@contextmanager
def chinese_font() -> Iterator[str]:
    """A style context in which matplotlib draws Chinese; yields the family used for Chinese.

    >>> with chinese_font():
    ...     fig = ChartFigure(); _ = fig.add_subplot().set_title("重点客户")
    """
    rc = chinese_font_rc()
    with mpl.rc_context(rc):
        yield rc["font.family"][0]


def use_chinese_font() -> str:
    """Make every later matplotlib figure (pyplot's too) draw Chinese: changes the global
    settings, on purpose; idempotent. Returns the family used for Chinese text."""
    rc = chinese_font_rc()
    mpl.rcParams.update(rc)
    return rc["font.family"][0]


def with_chinese_font(func: Callable[P, R]) -> Callable[P, R]:
    """Run a chart function inside :func:`chinese_font`, so its text is made with the font."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with chinese_font():
            return func(*args, **kwargs)

    return wrapper


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure rendered as PNG bytes (without pyplot)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# ---------------------------------------------------------------- helpers
class ChartFigure(Figure):
    """A Figure that Jupyter shows as a PNG without pyplot (so never twice), drawn inside
    :func:`chinese_font` (tick labels are made at drawing time)."""

    def draw(self, renderer) -> None:
        with chinese_font():
            super().draw(renderer)

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def _figure(width: float, height: float) -> tuple[ChartFigure, Axes]:
    fig = ChartFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


_NAME_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司")


def _short_name(name: str, limit: int = 10) -> str:
    """A company name without its legal-form suffix, cut to *limit* characters."""
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return _shorten(name, limit)


def _labels(df: pd.DataFrame, limit: int = 10) -> list[str]:
    """Display names: the name column (shortened), else account_id, else the index."""
    if "name" in df.columns:
        return [_short_name(str(v), limit) for v in df["name"]]
    if "account_id" in df.columns:
        return [str(v) for v in df["account_id"]]
    return [str(v) for v in df.index]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: int) -> str:
    """Break Chinese text every *width* characters, never starting a line with punctuation."""
    lines: list[str] = []
    for ch in text:
        if lines and (len(lines[-1]) < width or ch in "，。；：、）》”’！？…"):
            lines[-1] += ch
        else:
            lines.append(ch)
    return "\n".join(lines)


# ---------------------------------------------------------------- Pareto
@with_chinese_font
def pareto_chart(pareto_df: pd.DataFrame, threshold: float = 0.8) -> Figure:
    """Revenue share per account (bars) with the cumulative share (line) — 二八法则.

    *pareto_df* is the output of :func:`kamlib.priorities.pareto`. A dashed line marks
    *threshold* and a note says how many accounts reach it: "前 N 家客户贡献 X%".
    """
    require_columns(pareto_df, ["share", "cum_share"], "帕累托表")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold <= 1:
        raise ValueError(f"pareto_chart：threshold 为 {threshold!r}，应为大于 0、不超过 1 的小数。")
    n = len(pareto_df)
    if n == 0:
        raise ValueError("pareto_chart：表格中没有任何客户。")
    share = pareto_df["share"].to_numpy(dtype=float) * 100
    cum = pareto_df["cum_share"].to_numpy(dtype=float) * 100
    count = int(np.argmax(cum >= threshold * 100 - 1e-9)) + 1
    x = np.arange(1, n + 1)

    fig, ax = _figure(max(7.0, 0.18 * n + 3), 4.8)
    ax.bar(x, share, color=[BAR_COLOR if i <= count else "#b7c9de" for i in x], width=0.8, label="单个客户销售额占比")
    ax.set_ylabel("单个客户销售额占比（%）")
    ax.set_xlabel("客户（按销售额从高到低排列）")
    ax.set_xlim(0.3, n + 0.7)
    if "account_id" in pareto_df.columns and n <= 60:
        ax.set_xticks(x, [str(v) for v in pareto_df["account_id"]], rotation=90, fontsize=7)

    line_ax = ax.twinx()
    line_ax.spines[["top"]].set_visible(False)
    line_ax.plot(x, cum, color=LINE_COLOR, marker="o", markersize=3, linewidth=1.8, label="累计销售额占比")
    line_ax.set_ylim(0, 105)
    line_ax.set_ylabel("累计销售额占比（%）")
    line_ax.axhline(threshold * 100, color="#555555", linestyle="--", linewidth=1)
    line_ax.axvline(count, color="#555555", linestyle=":", linewidth=1)
    note = f"前 {count} 家客户贡献 {cum[count - 1]:.0f}%\n（占客户总数的 {count / n:.0%}）"
    line_ax.annotate(
        note,
        xy=(count, cum[count - 1]),
        xytext=(count + max(1, n * 0.06), 45),
        fontsize=11,
        color="#222222",
        va="center",
        bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#999999"},
        arrowprops={"arrowstyle": "->", "color": "#555555"},
    )
    handles = [*ax.get_legend_handles_labels()[0], *line_ax.get_legend_handles_labels()[0]]
    line_ax.legend(handles=handles, loc="lower right", frameon=False)
    ax.set_title(f"客户销售额集中度（帕累托图）：累计 {threshold:.0%} 销售额需要几家客户", fontsize=13)
    return fig


# ---------------------------------------------------------------- tiers
def _indicator_scores(scores: Mapping[str, int | None] | pd.Series) -> dict[str, int | None]:
    from kamlib.tiers import INDICATORS

    if isinstance(scores, pd.Series):  # e.g. one row of the accounts table
        scores = {k: scores[k] for k in INDICATORS if k in scores.index}
    if not isinstance(scores, Mapping):
        raise ValueError(f"tier_profile 需要一个“指标 → 级别”的字典，收到的是 {type(scores).__name__}。")
    return dict(scores)


@with_chinese_font
def tier_profile(scores: Mapping[str, int | None] | pd.Series, title: str | None = None) -> Figure:
    """The six relationship indicators of one account as horizontal bars on levels 1–4.

    *scores* maps indicator keys to levels (missing or None = unknown, drawn as a grey
    "未知" bar); one row of the accounts table works too. The default title names the
    tier that :func:`kamlib.tiers.classify` gives.
    """
    from kamlib.tiers import INDICATORS, Tier, classify

    scores = _indicator_scores(scores)
    result = classify(scores)  # validates keys and levels (Chinese ValueError)
    keys = list(INDICATORS)
    fig, ax = _figure(8.5, 4.6)
    y = np.arange(len(keys))[::-1]
    for yi, key in zip(y, keys):
        level = result.scores.get(key)
        if level is None:
            ax.barh(yi, 4, color="white", edgecolor=UNKNOWN_COLOR, hatch="///", height=0.6)
            ax.text(2.5, yi, "未知", ha="center", va="center", fontsize=10, color="#666666")
        else:
            ax.barh(yi, level, color=TIER_COLORS[level], edgecolor="white", height=0.6)
            ax.text(
                level - 0.08,
                yi,
                f"第 {level} 级",
                ha="right",
                va="center",
                fontsize=9,
                color="white" if level >= 3 else "#222222",
            )
    ax.set_yticks(y, [INDICATORS[k].label_zh for k in keys], fontsize=11)
    ax.set_xlim(0, 4.05)
    ax.set_xticks([0.5, 1.5, 2.5, 3.5], [_wrap(t.label_zh, 6) for t in Tier], fontsize=9)
    ax.set_xticks([1, 2, 3, 4], minor=True)
    ax.grid(axis="x", which="minor", color="#cccccc", linewidth=0.8)
    ax.tick_params(axis="x", which="both", length=0)
    ax.set_xlabel("指标所处的关系层级（虚线 = 判定出的关系类型）")
    if result.tier is not None:
        ax.axvline(int(result.tier), color=MIXED_COLOR if result.mixed else "#333333", linestyle="--", linewidth=1.5)
    if title is None:
        verdict = (
            f"第 {int(result.tier)} 级“{result.tier.label_zh}”" if result.tier is not None else "已知指标不足，无法判定"
        )
        title = f"客户关系指标画像 —— {verdict}" + ("（关系不均衡）" if result.mixed else "")
    ax.set_title(title, fontsize=13)
    return fig


@with_chinese_font
def tier_distribution(classified: pd.DataFrame) -> Figure:
    """How many accounts sit in each relationship tier; mixed (不均衡) ones highlighted.

    *classified* is the output of :func:`kamlib.tiers.classify_accounts` (columns tier
    and mixed). Accounts whose tier cannot be decided get their own "无法判定" bar.
    """
    from kamlib.tiers import Tier

    require_columns(classified, ["tier", "mixed"], "分级结果表")
    tier = pd.to_numeric(classified["tier"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    mixed = classified["mixed"].fillna(False).to_numpy(dtype=bool)
    groups = [(t.label_zh, tier == int(t)) for t in Tier]
    undecided = np.isnan(tier)
    if undecided.any():
        groups.append(("无法判定", undecided))
    names = [_wrap(name, 6) for name, _ in groups]
    even = [int((m & ~mixed).sum()) for _, m in groups]
    uneven = [int((m & mixed).sum()) for _, m in groups]
    colors = [TIER_COLORS[int(t)] for t in Tier] + [UNKNOWN_COLOR] * int(undecided.any())

    fig, ax = _figure(7.5, 4.6)
    x = np.arange(len(groups))
    ax.bar(x, even, color=colors, edgecolor="#555555", width=0.6)
    ax.bar(x, uneven, bottom=even, color=MIXED_COLOR, edgecolor="#555555", hatch="//", width=0.6)
    for xi, a, b in zip(x, even, uneven):
        ax.text(xi, a + b, f"{a + b} 家", ha="center", va="bottom", fontsize=11)
    ax.set_xticks(x, names, fontsize=10)
    ax.set_ylabel("客户数（家）")
    ax.set_ylim(0, max(1, max(a + b for a, b in zip(even, uneven))) * 1.18)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(
        handles=[
            Patch(facecolor="#bbbbbb", edgecolor="#555555", label="关系均衡"),
            Patch(facecolor=MIXED_COLOR, edgecolor="#555555", hatch="//", label="关系不均衡（指标相差 2 级及以上）"),
        ],
        frameon=False,
        loc="upper right",
    )
    ax.set_title(f"客户关系类型分布（共 {len(classified)} 家客户）", fontsize=13)
    return fig


# ---------------------------------------------------------------- portfolio and allocation
@with_chinese_font
def portfolio_matrix(accounts: pd.DataFrame, scores: pd.Series | None = None, top: int = 6) -> Figure:
    """Portfolio matrix: revenue (x) against growth potential (y), point size = importance.

    The dashed lines lie between the groups of :func:`kamlib.priorities.portfolio_quadrants`
    (midway between the largest "small" and the smallest "large" revenue, and so for
    potential); colours follow the group, and accounts it leaves ungrouped (all revenues or
    all potentials equal) are grey, without lines. The *top* accounts by priority
    score (*scores*, default :func:`kamlib.priorities.priority_scores`) are named.
    """
    from kamlib.priorities import portfolio_quadrants, priority_scores

    require_columns(accounts, ["annual_revenue", "growth_potential", "strategic_importance"], "客户表")
    if accounts.empty:
        raise ValueError("portfolio_matrix：表格中没有任何客户。")
    quadrant = portfolio_quadrants(accounts).to_numpy()
    if scores is None:
        scores = priority_scores(accounts)
    revenue = accounts["annual_revenue"].to_numpy(dtype=float)
    potential = accounts["growth_potential"].to_numpy(dtype=float)
    importance = accounts["strategic_importance"].to_numpy(dtype=float)
    y = potential + _spread(potential, revenue)

    fig, ax = _figure(9.0, 6.0)
    log_x = revenue.min() > 0 and revenue.max() / revenue.min() > 20
    if log_x:
        ax.set_xscale("log")
    for name, color in QUADRANT_COLORS.items():
        m = quadrant == name
        if m.any():
            ax.scatter(
                revenue[m],
                y[m],
                s=25 + 30 * importance[m],
                color=color,
                alpha=0.75,
                edgecolor="white",
                linewidth=0.8,
                label=f"{name}（{m.sum()} 家）",
            )
    grouped = pd.notna(quadrant)
    if not grouped.all():
        ax.scatter(
            revenue[~grouped],
            y[~grouped],
            s=25 + 30 * importance[~grouped],
            color="#999999",
            alpha=0.75,
            edgecolor="white",
            linewidth=0.8,
            label=f"未分组（{(~grouped).sum()} 家）",
        )
    if grouped.any():
        large, high = np.isin(quadrant, ["重点发展", "重点维护"]), np.isin(quadrant, ["重点发展", "选择培育"])
        low_x, high_x = revenue[grouped & ~large].max(), revenue[grouped & large].min()
        x_mid = float(np.sqrt(low_x * high_x) if log_x else (low_x + high_x) / 2)
        y_mid = float((potential[grouped & ~high].max() + potential[grouped & high].min()) / 2)
        ax.axvline(x_mid, color="#777777", linestyle="--", linewidth=1)
        ax.axhline(y_mid, color="#777777", linestyle="--", linewidth=1)
    ax.set_ylim(0.3, 6.0)
    ax.set_yticks([1, 2, 3, 4, 5])
    corners = {
        "重点发展": (0.99, 0.99, "right", "top"),
        "重点维护": (0.99, 0.01, "right", "bottom"),
        "选择培育": (0.01, 0.99, "left", "top"),
        "维持观察": (0.01, 0.01, "left", "bottom"),
    }
    fixed = [
        ax.text(cx, cy, name, ha=ha, va=va, fontsize=14, color=QUADRANT_COLORS[name], alpha=0.6, transform=ax.transAxes)
        for name, (cx, cy, ha, va) in corners.items()
    ]

    ids = accounts["account_id"] if "account_id" in accounts.columns else accounts.index
    if isinstance(scores, pd.Series) and set(ids) <= set(scores.index):
        scores = scores.reindex(ids)
    ranked = pd.Series(np.asarray(scores, dtype=float))
    if len(ranked) != len(accounts):
        raise ValueError(f"portfolio_matrix：scores 有 {len(ranked)} 个值，但表格中有 {len(accounts)} 家客户。")
    chosen = list(ranked.sort_values(ascending=False, kind="stable").index[:top])
    names = _labels(accounts)
    _place_labels(
        ax, fixed, np.column_stack([revenue, y]), 25 + 30 * importance, [(revenue[i], y[i], names[i]) for i in chosen]
    )
    unit = "（万元，对数刻度）" if log_x else "（万元）"
    ax.set_xlabel(f"规模：年销售额{unit}")
    ax.set_ylabel("潜力：增长潜力评分（1–5）")
    ax.legend(
        title="点越大 = 战略重要性越高",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=4,
        frameon=False,
        fontsize=9,
        title_fontsize=9,
    )
    ax.set_title(f"客户组合矩阵：规模 × 潜力（标注优先得分最高的 {min(top, len(accounts))} 家）", fontsize=13)
    return fig


def _spread(levels: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    """Small vertical offsets so accounts with the same score do not hide each other.

    Within a level, accounts taken in order of revenue cycle through five offsets, so
    neighbours on the x axis sit at different heights (and no false trend appears).
    """
    cycle = np.array([0.0, 0.2, -0.2, 0.1, -0.1])
    offsets = np.zeros(len(levels))
    for level in np.unique(levels):
        idx = np.flatnonzero(levels == level)
        idx = idx[np.argsort(revenue[idx], kind="stable")]
        offsets[idx] = cycle[np.arange(len(idx)) % len(cycle)]
    return offsets


def _place_labels(
    ax: Axes, fixed: list, points: np.ndarray, sizes: np.ndarray, labels: list[tuple[float, float, str]]
) -> None:
    """Annotate points, trying offsets until a label overlaps no other label or point."""
    fig = ax.figure
    fig.draw_without_rendering()  # settle the layout so display coordinates are final
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = [t.get_window_extent(renderer) for t in fixed]
    centres = ax.transData.transform(points)
    radii = np.sqrt(sizes) / 2 * fig.dpi / 72
    boxes = [Bbox.from_extents(cx - r, cy - r, cx + r, cy + r) for (cx, cy), r in zip(centres, radii)]
    offsets = [
        (8, 9),
        (8, -11),
        (-8, 9),
        (-8, -11),
        (12, 0),
        (-12, 0),
        (16, 22),
        (16, -24),
        (-16, 22),
        (-16, -24),
        (30, 36),
        (-30, -38),
    ]
    for x, y, text in labels:
        for k, (dx, dy) in enumerate(offsets):
            ann = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx >= 0 else "right",
                va="center",
                fontsize=9,
                color="#222222",
                arrowprops={"arrowstyle": "-", "color": "#888888", "linewidth": 0.6},
            )
            box = ann.get_window_extent(renderer).padded(2)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            own = ax.transData.transform((x, y))
            clear = not any(box.overlaps(b) for b in taken) and not any(
                box.overlaps(b) for b in boxes if not b.contains(*own)
            )
            if inside and clear or k == len(offsets) - 1:
                taken.append(box)
                break
            ann.remove()


@with_chinese_font
def allocation_chart(allocation: pd.Series, labels: Mapping | pd.Series | None = None) -> Figure:
    """Horizontal bars of an allocation (e.g. from :func:`kamlib.priorities.allocate`).

    Largest first, each bar labelled with its amount; *labels* maps the index (account
    ids) to display names.
    """
    if not isinstance(allocation, pd.Series):
        raise ValueError(f"allocation_chart 需要一个 pandas Series，收到的是 {type(allocation).__name__}。")
    values = pd.to_numeric(allocation, errors="coerce")
    if values.isna().any():
        bad = values.index[values.isna()][0]
        raise ValueError(f"allocation_chart：{bad} 的分配额为 {allocation[bad]!r}，不是数字。")
    ordered = values.sort_values(ascending=False, kind="stable")
    names = [str(k) for k in ordered.index]
    if labels is not None:
        lookup = dict(labels)
        names = [_short_name(str(lookup.get(k, k)), 12) for k in ordered.index]
    n = len(ordered)
    fig, ax = _figure(8.0, max(3.0, 0.28 * n + 1.4))
    y = np.arange(n)[::-1]
    ax.barh(y, ordered.to_numpy(), color=BAR_COLOR, height=0.7)
    peak = float(ordered.max()) if n else 0.0
    for yi, v in zip(y, ordered.to_numpy()):
        ax.text(v + peak * 0.01, yi, f"{v:g}", va="center", fontsize=8)
    ax.set_yticks(y, names, fontsize=9 if n <= 30 else 7)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, peak * 1.1 if peak > 0 else 1)
    ax.set_xlabel("分配额（工时或费用）")
    ax.set_title(f"资源分配结果（合计 {values.sum():g}，共 {n} 家客户）", fontsize=13)
    return fig


# ---------------------------------------------------------------- roles
@with_chinese_font
def duty_heatmap(matrix: pd.DataFrame | None = None) -> Figure:
    """Which position holds which duty: duties (rows) × positions (columns).

    *matrix* defaults to :func:`kamlib.roles.duty_role_matrix`; a 0/1 (or any numeric)
    table with duty ids as its index and role keys as its columns works too. Rows are
    labelled "id 职责（缩写）", columns with the positions' Chinese names.
    """
    from kamlib.roles import DUTIES, ROLES, duty_role_matrix

    if matrix is None:
        matrix = duty_role_matrix()
    if not isinstance(matrix, pd.DataFrame):
        raise ValueError(f"duty_heatmap 需要一个 DataFrame，收到的是 {type(matrix).__name__}。")
    texts = {d.id: d.text_zh for d in DUTIES}
    if isinstance(matrix.index, pd.MultiIndex):
        ids = [str(i) for i in matrix.index.get_level_values(0)]
    else:
        ids = [str(i) for i in matrix.index]
    rows = [f"{i}  {_shorten(texts.get(i, '').rstrip('。'), 18)}".rstrip() for i in ids]
    values = matrix.apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float)
    columns = [str(c) for c in matrix.columns]

    n = len(rows)
    fig, ax = _figure(8.5, max(3.0, 0.3 * n + 1.6))
    ax.spines[["left", "bottom"]].set_visible(False)
    peak = values.max() if values.size and values.max() > 0 else 1.0
    for j, col in enumerate(columns):
        color = to_rgb(ROLE_COLORS.get(col, BAR_COLOR))
        for i in range(n):
            share = values[i, j] / peak
            face = tuple(1 - share * (1 - c) for c in color)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=face, edgecolor="#e6e6e6", linewidth=0.8))
            if values[i, j] > 0:
                ax.text(
                    j,
                    i,
                    "●" if values[i, j] == 1 else f"{values[i, j]:g}",
                    ha="center",
                    va="center",
                    fontsize=11,
                    color="white",
                )
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks(range(len(columns)), [_wrap(ROLES[c].label_zh, 5) if c in ROLES else c for c in columns], fontsize=10)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n), rows, fontsize=8.5)
    ax.tick_params(length=0)
    # separate the roles' duty groups (AM-, ES-, SM-) with a thin line
    for i in range(1, n):
        if ids[i].split("-")[0] != ids[i - 1].split("-")[0]:
            ax.axhline(i - 0.5, color="#555555", linewidth=1)
    ax.set_title("重点客户管理体系中主要职位的职责分工", fontsize=13, pad=12)
    return fig


# ---------------------------------------------------------------- stakeholder map
GAP_COLOR = "#d62728"
STRENGTH_COLORS = {1: "#f7fbff", 2: "#c6dbef", 3: "#6baed6", 4: "#2171b5", 5: "#08306b"}


@with_chinese_font
def stakeholder_chart(people: pd.DataFrame, gaps: list | None = None, title: str | None = None) -> Figure:
    """The stakeholder map of one account (from :func:`kamlib.stakeholders.stakeholder_map`).

    Columns are the buying roles, rows the levels (高层 on top); each person is a circle
    filled by relationship strength (1 light – 5 dark), ringed in the colour of our
    position that covers them (red dashed: nobody). *gaps* (from
    :func:`kamlib.stakeholders.stakeholder_gaps`) are listed under the chart.
    """
    from kamlib.data import BUYING_ROLES, CONTACT_LEVELS

    require_columns(
        people, ["name", "level", "buying_role", "relationship_strength", "owner_role", "covered"], "关系地图表"
    )
    cells: dict[tuple[int, int], list[dict]] = {}
    for record in people.to_dict("records"):
        key = (BUYING_ROLES.index(record["buying_role"]), CONTACT_LEVELS.index(record["level"]))
        cells.setdefault(key, []).append(record)
    per_row = 3
    lines = max([1] + [-(-len(v) // per_row) for v in cells.values()])
    gap_lines = [f"缺口：{g.label_zh}——{g.message}" for g in (gaps or [])]
    fig, ax = _figure(10.0, 1.6 * len(CONTACT_LEVELS) * lines + 1.2 + 0.32 * len(gap_lines))
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.set_xlim(-0.5, len(BUYING_ROLES) - 0.5)
    ax.set_ylim(len(CONTACT_LEVELS) - 0.5, -0.5)
    for i in range(1, len(BUYING_ROLES)):
        ax.axvline(i - 0.5, color="#e6e6e6", linewidth=1)
    for j in range(1, len(CONTACT_LEVELS)):
        ax.axhline(j - 0.5, color="#e6e6e6", linewidth=1)
    ax.set_xticks(range(len(BUYING_ROLES)), BUYING_ROLES, fontsize=11)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(CONTACT_LEVELS)), CONTACT_LEVELS, fontsize=11)
    ax.tick_params(length=0)
    for (x, y), group in cells.items():
        rows = -(-len(group) // per_row)
        for k, record in enumerate(group):
            col, row = k % per_row, k // per_row
            in_row = min(per_row, len(group) - row * per_row)
            px = x + (col - (in_row - 1) / 2) * 0.31
            py = y + (row - (rows - 1) / 2) * (0.9 / rows) - 0.08
            strength = int(record["relationship_strength"])
            covered = bool(record["covered"])
            edge = ROLE_COLORS.get(record["owner_role"], GAP_COLOR) if covered else GAP_COLOR
            ax.scatter(
                [px],
                [py],
                s=520,
                color=STRENGTH_COLORS.get(strength, UNKNOWN_COLOR),
                edgecolors=edge,
                linewidths=3,
                linestyle="-" if covered else "--",
                zorder=3,
            )
            ax.text(
                px,
                py,
                str(strength),
                ha="center",
                va="center",
                fontsize=9,
                zorder=4,
                color="white" if strength >= 4 else "black",
            )
            role = record.get("owner_zh") if covered else "无人负责"
            label = f"{_shorten(str(record['name']), 5)}\n{_shorten(str(record.get('title') or ''), 6)}\n{role}"
            ax.text(
                px,
                py + 0.13,
                label.replace("\n\n", "\n"),
                ha="center",
                va="top",
                fontsize=7.5,
                color=GAP_COLOR if not covered else "black",
                zorder=4,
            )
    handles = [
        Patch(facecolor="white", edgecolor=color, linewidth=3, label=label)
        for key, color in ROLE_COLORS.items()
        for label in [
            {"account_manager": "客户经理", "executive_sponsor": "行政支持者", "sales_manager": "销售经理"}[key]
        ]
    ]
    handles.append(Patch(facecolor="white", edgecolor=GAP_COLOR, linewidth=3, linestyle="--", label="无人负责"))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        frameon=False,
        title="我方负责人\n（圈的颜色）",
        title_fontsize=9,
    )
    ax.text(
        1.02,
        0.0,
        "圈内数字：\n关系强度\n1 很弱 – 5 很强",
        transform=ax.transAxes,
        fontsize=8.5,
        va="bottom",
        ha="left",
        color="#555555",
    )
    ax.xaxis.set_label_position("bottom")
    if gap_lines:
        ax.set_xlabel(
            "\n".join(_wrap(line, 56) for line in gap_lines), fontsize=9, color=GAP_COLOR, loc="left", labelpad=8
        )
    else:
        ax.set_xlabel("没有发现缺口（按本课程的规则）", fontsize=9, color="#555555", loc="left", labelpad=8)
    ax.set_title(title or "关系地图", fontsize=13, pad=14)
    return fig
