"""Answer values leave the learner's kernel as data, and the grader decides on them alone."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kamlib.grading.answers import (
    MAX_ITEMS,
    MISSING,
    AnswerFormatError,
    Opaque,
    decode,
    decode_export,
    export,
    export_expression,
    render,
)
from kamlib.grading.verdicts import judge, names_used
from kamlib.tiers import Tier


def roundtrip(value):
    names = ["x"]
    return decode_export(export(names, {"x": value}), names)["x"]


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -7,
        2**80,
        0.1,
        float("inf"),
        "",
        "合作伙伴关系",
        ["AM-T1", "ES-8"],
        ("a", 1),
        {"b", "a"},
        {"competition": 2, "pricing": 3},
        {1: [2, {"x": None}]},
        Tier.PARTNERSHIP,
    ],
)
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("value", [np.int64(15), np.float64(0.72), np.bool_(True), np.int32(-3)])
def test_numpy_scalars_keep_their_type(value):
    back = roundtrip(value)
    assert type(back) is type(value) and back == value


def test_tables_come_back_as_tables():
    frame = pd.DataFrame({"account_id": ["A01", "A02"], "tier": [3, 1], "share": [0.5, 0.25]}, index=[4, 7])
    back = roundtrip(frame)
    pd.testing.assert_frame_equal(back, frame)
    series = frame["tier"]
    pd.testing.assert_series_equal(roundtrip(series), series)


def test_objects_that_are_not_data_equal_nothing():
    class Everything:
        def __eq__(self, other):
            return True

    class Sneaky(str):
        def __eq__(self, other):
            return True

    for value in (Everything(), Sneaky("B"), np.arange(3), object()):
        assert isinstance(roundtrip(value), Opaque), value
    assert isinstance(roundtrip([Everything()])[0], Opaque)
    assert isinstance(roundtrip({"k": Sneaky("x")})["k"], Opaque)
    assert roundtrip(Everything()) != roundtrip(Everything())
    assert roundtrip([Sneaky("B")])[0] != "B"
    assert judge("assert x == 'B'", {"x": roundtrip(Sneaky("B"))}, 2).score == 0


def test_undefined_names_are_left_out():
    assert decode_export(export(["a", "b"], {"a": 1}), ["a", "b"]) == {"a": 1}
    assert decode({"t": "missing"}) is MISSING


@pytest.mark.parametrize(
    "forged",
    [
        '{"x": {"t": "pickle", "v": "gASVAAAAAAAAAACMCGJ1aWx0aW5zlIwEZXZhbJSTlC4="}}',
        '{"x": {"t": "eval", "v": "__import__(\'os\').system(\'true\')"}}',
        '{"x": {"t": "numpy", "dtype": "object", "v": "1"}}',
        '{"x": {"t": "int", "v": 5}}',
        '{"x": {"t": "DataFrame", "columns": ["a"], "dtypes": ["complex128"], "rows": [[{"t": "int", "v": "1"}]]}}',
        '{"x": ' + '{"t": "list", "v": [' * 40 + "]}" * 40 + "}",
        '["not", "a", "mapping"]',
        "not json",
    ],
)
def test_forged_exports_are_rejected(forged):
    with pytest.raises((AnswerFormatError, RecursionError)):
        decode_export(forged, ["x"])


def test_an_export_too_big_is_rejected():
    huge = json.dumps({"x": {"t": "str", "v": "x" * 3_000_000}})
    with pytest.raises(AnswerFormatError):
        decode_export(huge, ["x"])


def test_a_container_too_long_to_be_an_answer_is_none():
    """Keys made to share one hash make a set or dict quadratic to build: 44,000 of them cost the
    grader 14 s. No container of more than MAX_ITEMS comes back, whoever encoded it."""
    colliding = [{"t": "int", "v": str(k * (2**61 - 1))} for k in range(MAX_ITEMS + 1)]
    for tag in ("set", "list"):
        with pytest.raises(AnswerFormatError):
            decode_export(json.dumps({"x": {"t": tag, "v": colliding}}), ["x"])
    assert isinstance(roundtrip(set(range(MAX_ITEMS + 1))), Opaque)  # the kernel's own export says so
    assert roundtrip(list(range(MAX_ITEMS))) == list(range(MAX_ITEMS))


def test_the_export_expression_names_only_what_it_asks_for():
    expression = export_expression(["tier_q1", "scores_q4"])
    assert "['tier_q1', 'scores_q4']" in expression and "globals()" in expression


def test_render_speaks_to_people():
    assert render(Tier.PARTNERSHIP) == "合作伙伴关系"
    assert render({"competition": np.int64(2)}) == "{'competition': 2}"
    assert render(["AM-T1", Tier.VENDOR]) == "['AM-T1', 卖主关系]"
    assert render(pd.DataFrame({"a": [1, 2]})) == "表格（2 行 × 1 列）"
    assert render(MISSING) == ""
    assert render("x" * 500).endswith("…") and len(render("x" * 500)) == 200


# ------------------------------------------------------------------ verdicts
TEST = (
    "from kamlib.checks import check_tier\nfrom kamlib.tiers import Tier\n"
    'assert check_tier(tier_q1, "tier_q1"), "请按上面的提示修改答案。"\n'
    "### BEGIN HIDDEN TESTS\nassert type(tier_q1) is Tier and tier_q1 is Tier.VENDOR\n### END HIDDEN TESTS\n"
)


def test_names_used_are_the_answer_variables_only():
    assert names_used(TEST) == ["tier_q1"]
    assert names_used("import numpy as np\nassert all(type(v) in (int, np.int64) for k, v in s.items())") == ["s"]
    assert sorted(names_used("def f(a):\n    return a + b\nassert f(c)")) == ["b", "c"]
    assert names_used("assert (") == []


def test_judge_scores_like_nbgrader():
    assert judge(TEST, {"tier_q1": Tier.VENDOR}, 2).score == 2
    wrong = judge(TEST, {"tier_q1": Tier.PARTNERSHIP}, 2)
    assert (wrong.score, wrong.ename) == (0, "AssertionError") and "答案不正确" in wrong.message
    missing = judge(TEST, {}, 2)
    assert missing.ename == "NameError" and "找不到答案变量" in missing.message
    badly_typed = judge("assert x + 1 == 2", {"x": "1"}, 1)
    assert badly_typed.ename == "TypeError" and "写法" in badly_typed.message


def test_judge_gives_partial_credit_from_the_last_expression():
    source = "expected = {'a': 1, 'b': 2}\nsum(s.get(k) == v for k, v in expected.items()) * 1.5"
    half = judge(source, {"s": {"a": 1, "b": 5}}, 3)
    assert half.partial and half.score == 1.5 and half.passed
    assert judge(source, {"s": {"a": 1, "b": 2}}, 3).score == 3
    assert judge("99", {}, 3).score == 3 and judge("-1", {}, 3).score == 0  # kept within the points
    assert judge("True", {}, 3).score == 3 and not judge("True", {}, 3).partial


def test_judge_hides_what_the_test_prints():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        judge(TEST, {"tier_q1": "VENDOR"}, 2)
    assert out.getvalue() == ""
