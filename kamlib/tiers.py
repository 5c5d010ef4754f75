"""The four types of customer relationship (slides 13–17) and a classifier.

The deck describes an ordered ladder — 卖主关系 (vendor), 被优先考虑的供应商 (preferred
supplier), 合作伙伴关系 (partnership), 战略联盟关系 (strategic alliance) — through six
aspects of the relationship. Each aspect is an :data:`INDICATORS` entry scored 1..4, where
level k is what the deck says of tier k. :func:`classify` turns a (partial) set of scores
into a tier by the rule in :data:`TIER_RULE_ZH`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

__all__ = [
    "Tier",
    "Indicator",
    "INDICATORS",
    "DERIVED_MARK_ZH",
    "MIN_KNOWN",
    "TIER_RULE_ZH",
    "TierResult",
    "Step",
    "classify",
    "classify_accounts",
    "steps_to_next_tier",
]


class Tier(IntEnum):
    """The four relationship types, lowest (1) to highest (4)."""

    VENDOR = 1
    PREFERRED_SUPPLIER = 2
    PARTNERSHIP = 3
    STRATEGIC_ALLIANCE = 4

    @property
    def label_zh(self) -> str:
        """The deck's name of the type, e.g. "合作伙伴关系"."""
        return _TIER_TEXT[self][0]

    @property
    def label_en(self) -> str:
        """English name used on first mention, e.g. "partnership"."""
        return _TIER_TEXT[self][1]

    @property
    def description_zh(self) -> str:
        """The deck's characteristics of the type (slides 14–17), as one paragraph."""
        return _TIER_TEXT[self][2]


# Slides 14–17, scrape errors corrected (listed in the repository's tools/deck.py), punctuation full-width.
_TIER_TEXT: dict[Tier, tuple[str, str, str]] = {
    Tier.VENDOR: (
        "卖主关系",
        "vendor",
        "你周围拥有众多的竞争者，你在客户企业得到的对待和你的竞争者一样；你只限于得到那些已公开的"
        "信息，很少能够获得一些专门或绝密的信息；你对所有合同的索价都必须具有竞争力，而且还必须"
        "遵守规则；如果你的产品对客户来说是新的，你就得在服务相关问题上花大量的时间；你在客户企业"
        "中的知名度为低到中等。",
    ),
    Tier.PREFERRED_SUPPLIER: (
        "被优先考虑的供应商",
        "preferred supplier",
        "你与客户企业中的许多关键人物都有着良好的关系，对你获得新业务具有很大影响力；你是客户所"
        "偏好的供应商，能得到其他供应商所无法知晓的专门或绝密信息；你的价格必须在具有竞争力的范围"
        "之内，但客户会愿为所能得到的附加值付出代价，或允许你得到一定利润；你在客户企业中具有中到"
        "高等程度的知名度。",
    ),
    Tier.PARTNERSHIP: (
        "合作伙伴关系",
        "partnership",
        "企业双方的最高层都有重要的接触，并就产品或服务提供达成了正式或非正式的协议；你有许多能够"
        "独享的机会及持续的长期合同，产品的订购无需经过正式采购程序；将价格作为双方协议的一个部分"
        "来进行谈判；在一些关键的合伙领域不存在任何的竞争对手；在客户企业里你的知名度相当高，客户"
        "企业成员承认你们两个企业间的这种特殊关系。",
    ),
    Tier.STRATEGIC_ALLIANCE: (
        "战略联盟关系",
        "strategic alliance",
        "你们有着正式或非正式的联盟关系，比如像成为一个合资企业；你在客户企业的内部与外部均有着"
        "很高的知名度；合资企业的经理人员来自各自的母公司，双方总经理一同领导这一战略联盟；联盟"
        "通过共同开展业务活动寻找机会为双方企业争取最大利益。",
    ),
}


DERIVED_MARK_ZH = "（本课程推断）"
"""Appended to a level text the course derived where the deck is silent (see :meth:`Indicator.level_zh`)."""


@dataclass(frozen=True)
class Indicator:
    """One aspect of the relationship; ``levels[k]`` is what the deck says of tier k.

    ``derived`` holds the levels whose text is the course's own inference, because the deck
    says nothing of that tier for this aspect; :meth:`level_zh` marks them for learners.
    """

    key: str
    label_zh: str
    levels: dict[int, str]
    derived: frozenset[int] = frozenset()

    def level_zh(self, level: int) -> str:
        """The text of ``level`` as learners see it: a derived level ends with :data:`DERIVED_MARK_ZH`."""
        text = self.levels[level]
        return text + DERIVED_MARK_ZH if level in self.derived else text


# Level texts quote slides 14–17; "……" marks an elision. Where the deck says nothing of a
# tier for an aspect, the text is derived (marked "derived" below, and listed in the
# indicator's ``derived`` so learners see it marked) and kept minimal.
# Level 4 of every indicator but visibility quotes the alliance itself (a joint venture led by
# both general managers), so it can only be true of an account that is such an alliance; the
# case data keeps to that (see kamlib/data/accounts.md).
INDICATORS: dict[str, Indicator] = {
    "competition": Indicator(
        "competition",
        "竞争状况",
        {
            1: "你周围拥有众多的竞争者，你在客户企业得到的对待和你的竞争者一样。",
            # derived: slide 15 calls you the preferred supplier and mentions 其他供应商.
            2: "你是客户所偏好的供应商，但客户那里仍有其他供应商。",
            3: "在一些关键的合伙领域不存在任何的竞争对手。",
            4: "你们有着正式或非正式的联盟关系，比如像成为一个合资企业。",
        },
        derived=frozenset({2}),
    ),
    "information_access": Indicator(
        "information_access",
        "信息获取",
        {
            1: "你只限于得到那些已公开的信息，很少能够获得一些专门或绝密的信息。",
            2: "能得到其他供应商所无法知晓的专门或绝密信息。",
            3: "你有许多能够独享的机会。",
            4: "联盟通过共同开展业务活动寻找机会。",
        },
    ),
    "pricing": Indicator(
        "pricing",
        "价格",
        {
            1: "你对所有合同的索价都必须具有竞争力，而且还必须遵守规则。",
            2: "你的价格必须在具有竞争力的范围之内，但客户会愿为所能得到的附加值付出代价，或允许你得到一定利润。",
            3: "将价格作为双方协议的一个部分来进行谈判。",
            # derived: slide 17 says nothing of price; its goal is 为双方企业争取最大利益.
            4: "价格不再单独竞争，而是服从联盟“为双方企业争取最大利益”的目标。",
        },
        derived=frozenset({4}),
    ),
    "contact_level": Indicator(
        "contact_level",
        "接触层级",
        {
            # derived: slide 14 says nothing of contacts; the opposite of slide 15's line.
            1: "与客户的接触限于日常业务往来，尚未与关键人物建立起良好的关系。",
            2: "你与客户企业中的许多关键人物都有着良好的关系，对你获得新业务具有很大影响力。",
            3: "企业双方的最高层都有重要的接触。",
            4: "双方总经理一同领导这一战略联盟。",
        },
        derived=frozenset({1}),
    ),
    "contract": Indicator(
        "contract",
        "合同与协议",
        {
            # derived: from slide 14's 所有合同……都必须具有竞争力……遵守规则.
            1: "没有长期合同，每份合同都要参与竞争，索价必须具有竞争力并遵守规则。",
            # derived: slide 15 says nothing of contracts; its line on winning new business.
            2: "仍要为合同参与竞争，但作为客户所偏好的供应商，你对获得新业务具有很大影响力。",
            3: "就产品或服务提供达成了正式或非正式的协议；你有……持续的长期合同，产品的订购无需经过正式采购程序。",
            4: "正式或非正式的联盟关系，比如像成为一个合资企业；合资企业的经理人员来自各自的母公司。",
        },
        derived=frozenset({1, 2}),
    ),
    "visibility": Indicator(
        "visibility",
        "知名度",
        {
            1: "你在客户企业中的知名度为低到中等。",
            2: "你在客户企业中具有中到高等程度的知名度。",
            3: "在客户企业里你的知名度相当高，客户企业成员承认你们两个企业间的这种特殊关系。",
            4: "你在客户企业的内部与外部均有着很高的知名度。",
        },
    ),
}

MIN_KNOWN = 4

TIER_RULE_ZH = (
    "本课程的判定规则（多数指标达到的最高层级，课件没有规定判定方法）：先去掉空缺（未知）的指标；已知指标少于 4 个时不作判定。"
    "否则从第 4 级往下逐级检查：如果超过半数的已知指标都达到了这一级或更高，这一级就是客户关系"
    "类型。例如 6 个指标都已知时，至少要有 4 个指标达到第 3 级或以上，才算“合作伙伴关系”；"
    "5 个或 4 个已知时，至少要有 3 个。最高与最低的指标相差 2 级或以上时，标记为“关系不均衡”。"
)


@dataclass(frozen=True)
class TierResult:
    """Outcome of :func:`classify`: the tier (or None), the known scores used, reasons."""

    tier: Tier | None
    scores: dict[str, int]
    mixed: bool
    reasons: list[str]


@dataclass(frozen=True)
class Step:
    """Raise ``indicator`` from level ``current`` to level ``target``."""

    indicator: str
    current: int
    target: int


def _allowed_keys_zh() -> str:
    return "、".join(f"{k}（{ind.label_zh}）" for k, ind in INDICATORS.items())


def _kind_zh(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "真/假值"
    if isinstance(value, str):
        return "文本"
    if isinstance(value, (float, np.floating)):
        return "小数"
    if isinstance(value, (int, np.integer)):
        return "整数"
    return type(value).__name__


def _level(key: str, value: object) -> int | None:
    """Validate one score: an int 1..4 (or a whole float), or None/NaN/NA for unknown."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    ok = False
    if isinstance(value, (bool, np.bool_)):
        pass
    elif isinstance(value, (int, np.integer)):
        ok = 1 <= int(value) <= 4
    elif isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        ok = float(value).is_integer() and 1 <= value <= 4
    if not ok:
        shown = repr(value.item() if isinstance(value, np.generic) else value)
        raise ValueError(
            f"指标“{key}”（{INDICATORS[key].label_zh}）的取值 {shown}（{_kind_zh(value)}）无效："
            "必须是 1–4 的整数（1=卖主关系，2=被优先考虑的供应商，3=合作伙伴关系，4=战略联盟关系），"
            "未知时请留空。"
        )
    return int(value)


def _known_scores(scores: Mapping[str, object]) -> dict[str, int]:
    """Validate keys and levels; return the known scores in INDICATORS order."""
    for key in scores:
        if key not in INDICATORS:
            raise ValueError(f"未知的指标“{key}”。可用的指标：{_allowed_keys_zh()}。")
    known = {}
    for key in INDICATORS:
        if key in scores:
            level = _level(key, scores[key])
            if level is not None:
                known[key] = level
    return known


def _majority_tier(levels: list[int]) -> Tier:
    """The highest k such that more than half of ``levels`` are >= k."""
    return Tier(max(k for k in Tier if 2 * sum(v >= k for v in levels) > len(levels)))


def _list_zh(keys: list[str], scores: dict[str, int] | None = None) -> str:
    if scores is None:
        return "、".join(INDICATORS[k].label_zh for k in keys)
    return "、".join(f"{INDICATORS[k].label_zh}（第 {scores[k]} 级）" for k in keys)


def classify(scores: Mapping[str, int | None]) -> TierResult:
    """Classify a relationship from indicator scores (a partial mapping is allowed).

    Rule ("多数指标达到的最高层级", see TIER_RULE_ZH): None/NaN/NA mean unknown and are
    ignored. With fewer than MIN_KNOWN known indicators the tier is None. Otherwise the
    tier is the highest level k such that more than half of the known indicators are at
    level k or above. ``mixed`` is True when the known levels span two or more levels.

    Raises ValueError (Chinese message) for an unknown indicator key, or a level that is
    not an integer 1..4 (bools, strings and fractional floats are rejected).
    """
    known = _known_scores(scores)
    unknown = [k for k in INDICATORS if k not in known]
    levels = list(known.values())
    mixed = bool(levels) and max(levels) - min(levels) >= 2
    reasons: list[str] = []
    tier: Tier | None = None

    if len(known) < MIN_KNOWN:
        reasons.append(
            f"已知指标只有 {len(known)} 个，至少需要 {MIN_KNOWN} 个（还差 {MIN_KNOWN - len(known)} 个）"
            f"才能判定关系类型；请补充：{_list_zh(unknown)}。"
        )
    else:
        tier = _majority_tier(levels)
        n, need = len(levels), len(levels) // 2 + 1
        at_or_above = sum(v >= tier for v in levels)
        rule = (
            f"按本课程“多数指标达到的最高层级”的规则：已知的 {n} 个指标中有 {at_or_above} 个达到第 {int(tier)} 级"
            f"或以上，超过半数（至少需要 {need} 个）"
        )
        if tier < Tier.STRATEGIC_ALLIANCE:
            higher = sum(v > tier for v in levels)
            rule += f"，而达到第 {int(tier) + 1} 级或以上的只有 {higher} 个，未超过半数"
        reasons.append(f"{rule}，因此判定为第 {int(tier)} 级“{tier.label_zh}”。")
        above = [k for k, v in known.items() if v > tier]
        below = [k for k, v in known.items() if v < tier]
        if above:
            reasons.append(f"高于该层级的指标：{_list_zh(above, known)}——这些方面已具备更高层级的特征。")
        if below:
            reasons.append(f"低于该层级的指标：{_list_zh(below, known)}——这些方面拉低了关系，是需要补强的短板。")
        if not above and not below:
            reasons.append(f"所有已知指标都处于第 {int(tier)} 级。")
        if unknown:
            reasons.append(f"未知、未计入判定的指标：{_list_zh(unknown)}。")
    if mixed:
        top, bottom = max(levels), min(levels)
        reasons.append(
            f"注意：指标最高第 {top} 级、最低第 {bottom} 级，相差 {top - bottom} 级，"
            "关系不均衡——有些方面已接近更高层级，另一些方面仍停留在较低层级；判定结果只是多数指标的"
            "概括，应优先补强较低的指标。"
        )
    return TierResult(tier=tier, scores=known, mixed=mixed, reasons=reasons)


def classify_accounts(accounts: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``accounts`` with columns tier, tier_label, mixed and known added.

    Indicator columns that are absent count as unknown. ``tier`` is Int64 (NA when too few
    indicators are known), ``tier_label`` the Chinese name ("" when undecided).
    """
    present = [k for k in INDICATORS if k in accounts.columns]
    results = []
    for row_no, record in enumerate(accounts[present].to_dict("records"), start=1):
        try:
            results.append(classify(record))
        except ValueError as err:
            where = f"第 {row_no} 行"
            if "account_id" in accounts.columns:
                where += f"（account_id {accounts['account_id'].iloc[row_no - 1]}）"
            raise ValueError(f"{where}：{err}") from err
    out = accounts.copy()
    out["tier"] = pd.array([None if r.tier is None else int(r.tier) for r in results], dtype="Int64")
    out["tier_label"] = ["" if r.tier is None else r.tier.label_zh for r in results]
    out["mixed"] = np.array([r.mixed for r in results], dtype=bool)
    out["known"] = np.array([len(r.scores) for r in results], dtype="int64")
    return out


def steps_to_next_tier(scores: Mapping[str, int | None]) -> list[Step]:
    """The fewest indicator raises that lift the tier by exactly one level.

    Each step raises one known indicator to ``target = tier + 1``; indicators already
    closest to the target come first, ties in INDICATORS order. Unknown indicators are
    left alone. Returns [] at STRATEGIC_ALLIANCE; ValueError when the tier is None.
    """
    result = classify(scores)
    if result.tier is None:
        raise ValueError(
            f"已知指标只有 {len(result.scores)} 个（至少需要 {MIN_KNOWN} 个），无法判定当前关系类型，"
            "也就无法给出升级步骤；请先补充指标。"
        )
    if result.tier == Tier.STRATEGIC_ALLIANCE:
        return []
    target = int(result.tier) + 1
    known = result.scores
    missing = len(known) // 2 + 1 - sum(v >= target for v in known.values())
    below = sorted((k for k, v in known.items() if v < target), key=lambda k: -known[k])
    return [Step(k, known[k], target) for k in below[:missing]]
