"""Tests of kamlib.checks: the exercise form checks."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kamlib import checks
from kamlib.checks import (
    check_choice,
    check_dataframe,
    check_duty_ids,
    check_indicator_scores,
    check_number,
    check_tier,
)
from kamlib.roles import DUTIES
from kamlib.tiers import INDICATORS, Tier

CJK = re.compile(r"[\u4e00-\u9fff]")


class AlwaysEqual:
    """An adversarial answer: equal to everything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


class HashableAlwaysEqual(AlwaysEqual):
    def __hash__(self) -> int:
        return hash("A")


class SneakyStr(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


class FakeTierClass:
    """Pretends to be a Tier through ``__class__``; ``type()`` is not fooled."""

    __class__ = Tier  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


ADVERSARIAL = [AlwaysEqual(), HashableAlwaysEqual(), FakeTierClass()]


def _id(value) -> str:
    """A stable test id (object reprs carry memory addresses, which differ between workers)."""
    return f"{type(value).__name__}-{value!s}" if issubclass(type(value), (str, int, float)) else type(value).__name__


def run(capsys, func, *args, **kwargs) -> tuple[bool, str]:
    result = func(*args, **kwargs)
    out = capsys.readouterr().out
    assert type(result) is bool
    assert out.count("\n") == 1, "each check prints exactly one message"
    assert CJK.search(out), f"message is not Chinese: {out!r}"
    assert out.startswith("✔" if result else "✘")
    return result, out


def test_an_exercise_check_does_not_import_ipywidgets():
    code = "import sys, kamlib.checks; print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ---------------------------------------------------------------- check_choice

LETTERS = ["A", "B", "C", "D"]


def test_check_choice_accepts_allowed(capsys):
    ok, out = run(capsys, check_choice, "C", LETTERS, "answer_3")
    assert ok and "answer_3" in out


@pytest.mark.parametrize("value", [None, "", "  ", "在此填写", ...])
def test_check_choice_placeholder(capsys, value):
    ok, out = run(capsys, check_choice, value, LETTERS, "answer_3")
    assert not ok and "answer_3" in out and "还没有填写" in out
    assert all(f'"{letter}"' in out for letter in LETTERS)


@pytest.mark.parametrize("value,expect", [("c", '"C"'), (" C ", '"C"'), ("Ｃ", '"C"')])
def test_check_choice_suggests_exact_spelling(capsys, value, expect):
    ok, out = run(capsys, check_choice, value, LETTERS, "answer_3")
    assert not ok and expect in out and "answer_3" in out


@pytest.mark.parametrize("value", ["E", "AB", 3, ["A"], ("A", "B"), True, 1.5])
def test_check_choice_rejects_bad(capsys, value):
    ok, out = run(capsys, check_choice, value, LETTERS, "answer_3")
    assert not ok and "answer_3" in out


@pytest.mark.parametrize("value", [*ADVERSARIAL, SneakyStr("A"), SneakyStr("zzz")], ids=_id)
def test_check_choice_rejects_adversarial(capsys, value):
    ok, out = run(capsys, check_choice, value, LETTERS, "answer_3")
    assert not ok and "answer_3" in out


def test_check_choice_needs_options():
    with pytest.raises(ValueError):
        check_choice("A", [], "answer_3")


# ---------------------------------------------------------------- check_tier


@pytest.mark.parametrize("tier", list(Tier))
def test_check_tier_accepts_members(capsys, tier):
    ok, out = run(capsys, check_tier, tier, name="tier_of_account")
    assert ok and "tier_of_account" in out and tier.label_zh in out


@pytest.mark.parametrize(
    "value,meant",
    [
        ("合作伙伴关系", Tier.PARTNERSHIP),
        ("合伙关系", Tier.PARTNERSHIP),
        (" 战略联盟关系 ", Tier.STRATEGIC_ALLIANCE),
        ("Tier.VENDOR", Tier.VENDOR),
        ("preferred_supplier", Tier.PREFERRED_SUPPLIER),
        (3, Tier.PARTNERSHIP),
        (np.int64(1), Tier.VENDOR),
        (2.0, Tier.PREFERRED_SUPPLIER),
    ],
)
def test_check_tier_explains_how_to_write_the_members(capsys, value, meant):
    ok, out = run(capsys, check_tier, value, name="tier_of_account")
    assert not ok and "tier_of_account" in out
    assert f"Tier.{meant.name}" in out
    others = [t for t in Tier if t is not meant]
    assert not any(f"Tier.{t.name}" in out or t.label_zh in out for t in others), out


@pytest.mark.parametrize("value", [None, "", "在此填写", "关系很好", 7, 0, 2.5, [Tier.VENDOR], "Tier"])
def test_check_tier_lists_all_members_without_singling_one_out(capsys, value):
    ok, out = run(capsys, check_tier, value, name="tier_of_account")
    assert not ok and "tier_of_account" in out
    assert all(f"Tier.{t.name}" in out for t in Tier)


@pytest.mark.parametrize("value", [*ADVERSARIAL, SneakyStr("合作伙伴关系"), True], ids=_id)
def test_check_tier_rejects_adversarial(capsys, value):
    ok, out = run(capsys, check_tier, value, name="tier_of_account")
    assert not ok and "tier_of_account" in out


def test_check_tier_rejects_a_look_alike_enum(capsys):
    from enum import IntEnum

    Lookalike = IntEnum("Tier", "VENDOR PREFERRED_SUPPLIER PARTNERSHIP STRATEGIC_ALLIANCE")
    ok, out = run(capsys, check_tier, Lookalike.PARTNERSHIP, name="t")
    assert not ok and "kamlib" in out


# ---------------------------------------------------------------- check_number


@pytest.mark.parametrize("value", [0, 12, 3.5, np.float64(80.2), np.int64(7)])
def test_check_number_accepts_numbers(capsys, value):
    ok, out = run(capsys, check_number, value, "top_share", low=0, high=100)
    assert ok and "top_share" in out


@pytest.mark.parametrize("value", [None, "", "在此填写", ...])
def test_check_number_placeholder(capsys, value):
    ok, out = run(capsys, check_number, value, "top_share")
    assert not ok and "还没有填写" in out and "top_share" in out


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("12.5", "12.5"),
        ("abc", "不是数字"),
        (True, "布尔"),
        (float("nan"), "有效"),
        (float("inf"), "有效"),
        (pd.Series([1.0]), "Series"),
        ([1, 2], "列表"),
        (150, "0 到 100"),
        (-1, "0 到 100"),
    ],
)
def test_check_number_rejects_bad(capsys, value, fragment):
    ok, out = run(capsys, check_number, value, "top_share", low=0, high=100)
    assert not ok and "top_share" in out and fragment in out


@pytest.mark.parametrize("value", [*ADVERSARIAL, SneakyStr("5")], ids=_id)
def test_check_number_rejects_adversarial(capsys, value):
    ok, out = run(capsys, check_number, value, "top_share")
    assert not ok


def test_check_number_subclass_of_float_is_not_a_number(capsys):
    class Sneaky(float):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = float.__hash__

    ok, _ = run(capsys, check_number, Sneaky(1.0), "x")
    assert not ok


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(-1e6, 1e6), st.floats(0, 1e6))
def test_check_number_range_property(value, low, width):
    high = low + width
    assert check_number(value, "x", low=low, high=high) == (low <= value <= high)


# ---------------------------------------------------------------- check_duty_ids

IDS = [d.id for d in DUTIES]


def test_check_duty_ids_accepts_known_ids(capsys):
    ok, out = run(capsys, check_duty_ids, IDS[:3], name="my_duties")
    assert ok and "my_duties" in out and "3" in out


@pytest.mark.parametrize("value", [None, [], "", "在此填写"])
def test_check_duty_ids_placeholder(capsys, value):
    ok, out = run(capsys, check_duty_ids, value, name="my_duties")
    assert not ok and "还没有填写" in out and "my_duties" in out


def test_check_duty_ids_names_unknown_and_fixable_ids(capsys):
    ok, out = run(capsys, check_duty_ids, [IDS[0], "XX-9", IDS[1].lower(), IDS[0], 5], name="my_duties")
    assert not ok
    assert '"XX-9"' in out and "不是已知" in out
    assert f'应写成 "{IDS[1]}"' in out
    assert "重复" in out and "第 5 项" in out


def test_check_duty_ids_single_string(capsys):
    ok, out = run(capsys, check_duty_ids, IDS[2], name="my_duties")
    assert not ok and f'["{IDS[2]}"]' in out


@pytest.mark.parametrize("value", [tuple(IDS[:2]), set(IDS[:2]), {IDS[0]: 1}, 3, *ADVERSARIAL], ids=_id)
def test_check_duty_ids_needs_a_list(capsys, value):
    ok, out = run(capsys, check_duty_ids, value, name="my_duties")
    assert not ok and "列表" in out


def test_check_duty_ids_rejects_adversarial_items(capsys):
    ok, _ = run(capsys, check_duty_ids, [AlwaysEqual(), SneakyStr(IDS[0])], name="d")
    assert not ok

    class SneakyList(list):
        pass

    ok, _ = run(capsys, check_duty_ids, SneakyList(IDS[:2]), name="d")
    assert not ok


def test_check_duty_ids_count(capsys):
    ok, out = run(capsys, check_duty_ids, IDS[:2], name="d", count=3)
    assert not ok and "3 个" in out
    ok, _ = run(capsys, check_duty_ids, IDS[:3], name="d", count=3)
    assert ok


def test_check_duty_ids_never_names_a_valid_id_the_learner_did_not_write(capsys):
    written = [IDS[0], "XX-1", "nonsense"]
    run(capsys, check_duty_ids, written, name="d")
    check_duty_ids(written, name="d")
    out = capsys.readouterr().out
    assert not any(i in out for i in IDS if i not in written)


# ---------------------------------------------------------------- check_indicator_scores

GOOD_SCORES = {key: 2 for key in INDICATORS}


def test_check_indicator_scores_accepts_six_levels(capsys):
    ok, out = run(capsys, check_indicator_scores, GOOD_SCORES, name="scores_a07")
    assert ok and "scores_a07" in out
    ok, _ = run(capsys, check_indicator_scores, {**GOOD_SCORES, "pricing": np.int64(4)}, name="s")
    assert ok


@pytest.mark.parametrize("value", [None, {}, "", "在此填写"])
def test_check_indicator_scores_placeholder(capsys, value):
    ok, out = run(capsys, check_indicator_scores, value, name="scores_a07")
    assert not ok and "还没有填写" in out


def test_check_indicator_scores_names_bad_keys_and_values(capsys):
    keys = list(INDICATORS)
    value = dict(GOOD_SCORES)
    value[keys[0]] = 5
    value[keys[1]] = "3"
    value[keys[2]] = True
    del value[keys[3]]
    value["price"] = 2
    value[INDICATORS[keys[3]].label_zh] = 2
    ok, out = run(capsys, check_indicator_scores, value, name="scores_a07")
    assert not ok and "scores_a07" in out
    for key in keys[:3]:
        assert f'"{key}" 的值' in out
    assert '"price"' in out
    assert f'应写成 "{keys[3]}"' in out and f'缺少指标 "{keys[3]}"' in out


def test_check_indicator_scores_unknown_levels(capsys):
    value = {**GOOD_SCORES, "pricing": None}
    assert not run(capsys, check_indicator_scores, value, name="s")[0]
    assert run(capsys, check_indicator_scores, value, name="s", allow_unknown=True)[0]


@pytest.mark.parametrize("value", [*ADVERSARIAL, [2] * 6, pd.Series(GOOD_SCORES)], ids=_id)
def test_check_indicator_scores_rejects_non_dicts(capsys, value):
    ok, out = run(capsys, check_indicator_scores, value, name="s")
    assert not ok and "字典" in out


def test_check_indicator_scores_rejects_adversarial_values(capsys):
    ok, _ = run(capsys, check_indicator_scores, {k: AlwaysEqual() for k in INDICATORS}, name="s")
    assert not ok

    class SneakyDict(dict):
        pass

    ok, _ = run(capsys, check_indicator_scores, SneakyDict(GOOD_SCORES), name="s")
    assert not ok


# ---------------------------------------------------------------- check_dataframe

FRAME = pd.DataFrame({"account_id": ["A01", "A02"], "tier": [1, 2]})


def test_check_dataframe_accepts(capsys):
    ok, out = run(capsys, check_dataframe, FRAME, "top_accounts", ["account_id", "tier"])
    assert ok and "top_accounts" in out and "2 行" in out


@pytest.mark.parametrize(
    "value,fragment",
    [
        (None, "还没有填写"),
        (FRAME["tier"], "Series"),
        (FRAME.to_dict(), "DataFrame"),
        (FRAME[["account_id"]], '"tier"'),
        (FRAME.iloc[0:0], "0 行"),
        (AlwaysEqual(), "DataFrame"),
    ],
)
def test_check_dataframe_rejects(capsys, value, fragment):
    ok, out = run(capsys, check_dataframe, value, "top_accounts", ["account_id", "tier"])
    assert not ok and "top_accounts" in out and fragment in out


def test_check_dataframe_rejects_subclass(capsys):
    class Sneaky(pd.DataFrame):
        pass

    ok, _ = run(capsys, check_dataframe, Sneaky(FRAME), "t", ["tier"])
    assert not ok


# ---------------------------------------------------------------- general


def test_broken_repr_does_not_crash(capsys):
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("boom")

    for func, args in [
        (check_choice, (LETTERS, "x")),
        (check_tier, ()),
        (check_number, ("x",)),
        (check_duty_ids, ()),
        (check_indicator_scores, ()),
        (check_dataframe, ("x",)),
    ]:
        assert func(Broken(), *args) is False
    assert "Broken" in capsys.readouterr().out


def test_checks_module_holds_no_answer_key():
    """The checks judge form only: no function takes or stores an expected answer."""
    import inspect

    for name in [
        "check_choice",
        "check_tier",
        "check_number",
        "check_duty_ids",
        "check_indicator_scores",
        "check_dataframe",
    ]:
        params = inspect.signature(getattr(checks, name)).parameters
        assert not {"answer", "expected", "solution"} & set(params), name
