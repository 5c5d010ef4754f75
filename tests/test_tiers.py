"""kamlib.tiers: the DESIGN.md contract, the classification rule, its properties."""

import math
import re
from enum import IntEnum
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kamlib.tiers import (
    INDICATORS,
    MIN_KNOWN,
    TIER_RULE_ZH,
    Step,
    Tier,
    TierResult,
    classify,
    classify_accounts,
    steps_to_next_tier,
)
from tests.support.deck import SCRAPE_ERRORS, normalise

KEYS = ["competition", "information_access", "pricing", "contact_level", "contract", "visibility"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def all_at(level: int) -> dict[str, int]:
    return dict.fromkeys(KEYS, level)


def lower_median(levels: list[int]) -> int:
    """Independent oracle: 'more than half are >= k' picks the lower median."""
    return sorted(levels)[(len(levels) - 1) // 2]


level = st.integers(1, 4)
maybe_level = st.one_of(st.none(), level)
partial_scores = st.fixed_dictionaries({}, optional={k: maybe_level for k in KEYS})


@st.composite
def decided_scores(draw) -> dict[str, int | None]:
    """At least MIN_KNOWN known levels; some other indicators present as None."""
    known = draw(st.lists(st.sampled_from(KEYS), min_size=MIN_KNOWN, max_size=len(KEYS), unique=True))
    scores: dict[str, int | None] = {k: draw(level) for k in known}
    scores.update({k: None for k in KEYS if k not in scores and draw(st.booleans())})
    return scores


# --- DESIGN.md contract, line by line ---------------------------------------------------


def test_tier_is_an_ordered_intenum_1_to_4():
    assert issubclass(Tier, IntEnum)
    assert Tier.VENDOR < Tier.PREFERRED_SUPPLIER < Tier.PARTNERSHIP < Tier.STRATEGIC_ALLIANCE
    assert [int(t) for t in Tier] == [1, 2, 3, 4]


def test_tier_labels():
    assert Tier.PARTNERSHIP.label_zh == "合作伙伴关系"
    assert [t.label_zh for t in Tier] == ["卖主关系", "被优先考虑的供应商", "合作伙伴关系", "战略联盟关系"]
    assert [t.label_en for t in Tier] == ["vendor", "preferred supplier", "partnership", "strategic alliance"]


def test_indicator_keys_in_order():
    assert list(INDICATORS) == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_each_indicator_has_four_chinese_levels(key):
    ind = INDICATORS[key]
    assert ind.key == key
    assert CJK.search(ind.label_zh)
    assert sorted(ind.levels) == [1, 2, 3, 4]
    assert all(CJK.search(text) for text in ind.levels.values())
    assert len(set(ind.levels.values())) == 4


def test_partial_mapping_is_allowed():
    r = classify({"competition": 1, "pricing": 2, "contract": 2, "visibility": 2})
    assert isinstance(r, TierResult)
    assert r.tier is Tier.PREFERRED_SUPPLIER
    assert r.scores == {"competition": 1, "pricing": 2, "contract": 2, "visibility": 2}
    assert r.mixed is False
    assert r.reasons and all(isinstance(s, str) for s in r.reasons)


def test_level_out_of_range_names_indicator_and_range():
    with pytest.raises(ValueError, match="competition") as err:
        classify({"competition": 5})
    assert "1–4" in str(err.value) and "5" in str(err.value)


def test_unknown_indicator_is_named_with_the_allowed_keys():
    with pytest.raises(ValueError, match="price") as err:
        classify({"price": 2})
    assert all(k in str(err.value) for k in KEYS)


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 5, -1, True, False, np.bool_(True), 2.5, math.inf, "3", "三", [3], np.int64(7)])
def test_invalid_levels_are_rejected_with_a_chinese_message(value):
    with pytest.raises(ValueError) as err:
        classify({**all_at(2), "pricing": value})
    message = str(err.value)
    assert "pricing" in message and "价格" in message and "1–4" in message
    shown = repr(value.item() if isinstance(value, np.generic) else value)
    assert shown in message


@pytest.mark.parametrize("value", [np.int64(3), np.int8(3), np.uint16(3), 3.0, np.float64(3.0)])
def test_numpy_ints_and_whole_floats_are_accepted(value):
    r = classify({**all_at(3), "contract": value})
    assert r.tier is Tier.PARTNERSHIP
    assert type(r.scores["contract"]) is int and r.scores["contract"] == 3


@pytest.mark.parametrize("missing", [None, math.nan, np.nan, pd.NA])
def test_missing_values_are_ignored(missing):
    r = classify({**all_at(4), "visibility": missing, "contract": missing})
    assert r.scores == {k: 4 for k in KEYS[:4]}
    assert r.tier is Tier.STRATEGIC_ALLIANCE


# --- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_six_at_level_k_is_tier_k(k):
    r = classify(all_at(k))
    assert r.tier == k and isinstance(r.tier, Tier)
    assert r.mixed is False


@pytest.mark.parametrize("known", range(MIN_KNOWN))
def test_too_few_known_gives_no_tier_and_says_why(known):
    r = classify(dict.fromkeys(KEYS[:known], 3))
    assert r.tier is None
    assert len(r.scores) == known
    text = "".join(r.reasons)
    assert f"只有 {known} 个" in text and f"至少需要 {MIN_KNOWN} 个" in text
    assert INDICATORS[KEYS[-1]].label_zh in text  # names what to fill in


@pytest.mark.parametrize(
    ("levels", "tier"),
    [
        ([1, 4, 3, 3, 2, 3], Tier.PARTNERSHIP),  # 4 of 6 at >= 3, only 1 at 4
        ([1, 1, 1, 4, 4, 4], Tier.VENDOR),  # exactly half is not a majority
        ([2, 2, 2, 3, 3, 3], Tier.PREFERRED_SUPPLIER),
        ([2, 2, 3, 3, 3, 4], Tier.PARTNERSHIP),
        ([4, 4, 4, 1, None, None], Tier.STRATEGIC_ALLIANCE),  # 3 of 4 known
        ([1, 2, 3, 4, 4, None], Tier.PARTNERSHIP),  # 3 of 5 known at >= 3
        ([4, 4, 1, 1, None, None], Tier.VENDOR),
    ],
)
def test_rule_examples(levels, tier):
    assert classify(dict(zip(KEYS, levels, strict=True))).tier is tier


def test_mixed_means_a_spread_of_two_or_more():
    assert classify({**all_at(2), "visibility": 3}).mixed is False
    assert classify({**all_at(2), "visibility": 4}).mixed is True
    assert classify({**all_at(3), "competition": 1}).mixed is True


@given(decided_scores())
def test_tier_is_the_lower_median_of_known_levels(scores):
    known = [v for v in scores.values() if v is not None]
    r = classify(scores)
    assert r.tier == lower_median(known)
    assert r.scores == {k: v for k, v in scores.items() if v is not None}
    assert r.mixed == (max(known) - min(known) >= 2)


@given(decided_scores(), st.sampled_from(KEYS))
def test_raising_one_indicator_never_lowers_the_tier(scores, key):
    current = scores.get(key)
    if current is None or current == 4:
        return
    assert classify({**scores, key: current + 1}).tier >= classify(scores).tier


@given(partial_scores)
def test_result_holds_plain_ints_in_indicator_order(scores):
    r = classify(scores)
    assert list(r.scores) == [k for k in KEYS if scores.get(k) is not None]
    assert all(type(v) is int for v in r.scores.values())
    assert r.tier is None or isinstance(r.tier, Tier)


# --- reasons and the Chinese rule text ----------------------------------------------------


def test_reasons_name_the_rule_and_the_indicators_above_and_below():
    r = classify(
        {"competition": 1, "information_access": 4, "pricing": 3, "contact_level": 3, "contract": 2, "visibility": 3}
    )
    assert r.tier is Tier.PARTNERSHIP and r.mixed
    assert all(CJK.search(s) for s in r.reasons)
    text = "\n".join(r.reasons)
    assert "多数指标达到的最高层级" in text and "合作伙伴关系" in text
    above = next(s for s in r.reasons if s.startswith("高于"))
    below = next(s for s in r.reasons if s.startswith("低于"))
    assert "信息获取（第 4 级）" in above
    assert "竞争状况（第 1 级）" in below and "合同与协议（第 2 级）" in below
    assert "价格" not in above + below
    assert "不均衡" in text


def test_reasons_for_a_balanced_relationship_have_no_warning():
    r = classify({**all_at(2), "visibility": None})
    text = "\n".join(r.reasons)
    assert "多数指标达到的最高层级" in text and "不均衡" not in text
    assert "知名度" in text  # the unknown indicator is named


def test_rule_text_is_chinese_and_states_the_rule():
    assert "多数指标达到的最高层级" in TIER_RULE_ZH
    assert "超过半数" in TIER_RULE_ZH and str(MIN_KNOWN) in TIER_RULE_ZH
    assert "不均衡" in TIER_RULE_ZH


# --- faithfulness to the deck -------------------------------------------------------------


def test_no_scrape_errors_in_any_text():
    texts = [TIER_RULE_ZH] + [t.description_zh for t in Tier]
    texts += [ind.label_zh for ind in INDICATORS.values()]
    texts += [s for ind in INDICATORS.values() for s in ind.levels.values()]
    for text in texts:
        assert not [e for e in SCRAPE_ERRORS if e in text], text


@pytest.mark.parametrize("tier", list(Tier))
def test_descriptions_are_the_corrected_deck_text(deck, tier):
    assert normalise(tier.description_zh) in deck
    assert normalise(tier.label_zh) in deck


@pytest.mark.parametrize(("key", "k"), [(key, k) for key in KEYS for k in (1, 2, 3, 4)])
def test_levels_quote_the_deck_unless_marked_derived(deck, key, k):
    """A level text is the deck's wording, or it is one the course derived (``Indicator.derived``,
    marked for learners), which is not the deck's wording."""
    text = INDICATORS[key].levels[k]
    # "……" marks an elision: every fragment between punctuation must be deck wording.
    fragments = [normalise(f) for f in re.split(r"[，；。：……]+", text) if normalise(f)]
    if k in INDICATORS[key].derived:
        assert not all(f in deck for f in fragments), f"quotes the deck, yet is marked derived: {text}"
        return
    assert fragments and all(f in deck for f in fragments), text
    # and the fragment sits in that tier's own paragraph
    assert all(f in normalise(Tier(k).description_zh) for f in fragments), text


# --- classify_accounts -------------------------------------------------------------------


def small_accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A01", "A02", "A03"],
            "name": ["甲", "乙", "丙"],
            "competition": pd.array([3, 1, None], dtype="Int64"),
            "information_access": pd.array([3, 4, None], dtype="Int64"),
            "pricing": pd.array([3, 1, 2], dtype="Int64"),
            "contact_level": pd.array([4, 4, None], dtype="Int64"),
            "contract": pd.array([3, 1, 2], dtype="Int64"),
            # "visibility" column absent: treated as unknown
        }
    )


def test_classify_accounts_adds_columns_and_keeps_the_input():
    accounts = small_accounts()
    before = accounts.copy()
    out = classify_accounts(accounts)
    pd.testing.assert_frame_equal(accounts, before)
    assert list(out.columns) == list(accounts.columns) + ["tier", "tier_label", "mixed", "known"]
    assert str(out["tier"].dtype) == "Int64"
    assert out["tier"].tolist()[:2] == [3, 1] and out["tier"].isna().tolist() == [False, False, True]
    assert out["tier_label"].tolist() == ["合作伙伴关系", "卖主关系", ""]
    assert out["mixed"].dtype == bool and out["mixed"].tolist() == [False, True, False]
    assert out["known"].tolist() == [5, 5, 2]


def test_classify_accounts_names_the_row_of_a_bad_value():
    accounts = small_accounts()
    accounts["visibility"] = [2, 9, 2]
    with pytest.raises(ValueError, match="A02") as err:
        classify_accounts(accounts)
    assert "第 2 行" in str(err.value) and "visibility" in str(err.value)


# --- steps_to_next_tier --------------------------------------------------------------------


def test_steps_prefer_indicators_closest_to_the_target_then_indicator_order():
    scores = {
        "competition": 1,
        "information_access": 2,
        "pricing": 2,
        "contact_level": 3,
        "contract": 1,
        "visibility": 2,
    }  # tier 2, 1 at >= 3
    assert classify(scores).tier is Tier.PREFERRED_SUPPLIER
    assert steps_to_next_tier(scores) == [
        Step("information_access", 2, 3),
        Step("pricing", 2, 3),
        Step("visibility", 2, 3),
    ]


def test_no_steps_beyond_strategic_alliance():
    assert steps_to_next_tier(all_at(4)) == []


def test_steps_need_a_decided_tier():
    with pytest.raises(ValueError, match="至少需要 4 个"):
        steps_to_next_tier({"competition": 1, "pricing": 1})


@given(decided_scores())
def test_steps_lift_exactly_one_tier_and_no_smaller_set_would(scores):
    tier = classify(scores).tier
    if tier == Tier.STRATEGIC_ALLIANCE:
        return
    steps = steps_to_next_tier(scores)
    assert steps and all(s.target == tier + 1 and s.current == scores[s.indicator] for s in steps)
    raised = {**scores, **{s.indicator: s.target for s in steps}}
    assert classify(raised).tier == tier + 1
    known = [k for k, v in scores.items() if v is not None]
    for subset in combinations(known, len(steps) - 1):  # even raising them to the top fails
        assert classify({**scores, **dict.fromkeys(subset, 4)}).tier == tier


def test_exactly_half_is_not_called_less_than_half():
    """Three of six at level 3 is exactly half: the reason says 未超过半数, not 不到半数."""
    result = classify(
        {"competition": 3, "information_access": 3, "pricing": 3, "contact_level": 2, "contract": 2, "visibility": 2}
    )
    assert result.tier == Tier.PREFERRED_SUPPLIER
    text = "".join(result.reasons)
    assert "只有 3 个，未超过半数" in text and "不到半数" not in text


def test_level_four_texts_outside_visibility_describe_the_alliance():
    """Level 4 of every indicator but visibility is about the alliance itself (slide 17)."""
    alliance = ("联盟", "合资企业")
    for key, indicator in INDICATORS.items():
        if key != "visibility":
            assert any(word in indicator.levels[4] for word in alliance), key
