"""Item statistics, common answers and topic mastery against values computed by hand.

The cohorts here are built directly as tables (no gradebook), so every number below
can be checked on paper.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kamlib.grading.cohort import ANSWER_COLUMNS, Cohort, topic_mastery, weakest_topics
from kamlib.grading.items import answer_groups, cronbach_alpha, item_statistics, reliability

POINTS = {"q1": 1.0, "q2": 2.0, "q3": 1.0}


def cohort(rows: list[tuple], points: dict[str, float] = POINTS, topics: dict[str, str] | None = None) -> Cohort:
    """rows: (student, cell, score or None, status[, answer]) of one assignment "a1"."""
    records = []
    for student, cell, score, status, *answer in rows:
        records.append(
            {
                "assignment": "a1",
                "notebook": "a1",
                "student_id": student,
                "name": "",
                "cell": cell,
                "question": f"第 {cell[1:]} 题",
                "topic": (topics or {}).get(cell, "未标注"),
                "autograded": True,
                "points": points[cell],
                "score": np.nan if score is None else float(score),
                "status": status,
                "answer": answer[0] if answer else "",
                "comment": "",
            }
        )
    answers = pd.DataFrame(records, columns=ANSWER_COLUMNS)
    learners = pd.Series("", index=sorted(answers["student_id"].unique()), name="name")
    return Cohort(answers=answers, submissions=pd.DataFrame(), learners=learners, assignments=["a1"], titles={})


# L1..L4 score q1 = 1,1,0,0; q2 = 2,1,1,0; q3 = 1 for everyone (a constant item)
SCORES = {"L1": (1, 2, 1), "L2": (1, 1, 1), "L3": (0, 1, 1), "L4": (0, 0, 1)}
FOUR = [(s, f"q{i + 1}", v, "已评分") for s, values in SCORES.items() for i, v in enumerate(values)]


def test_facility_discrimination_and_shares_by_hand():
    items = item_statistics(cohort(FOUR)).set_index("cell")
    # facility: q1 2/4 of 1 point, q2 4/4 of 2 points per learner, q3 everyone right
    assert items.loc["q1", "facility"] == 0.5 and items.loc["q2", "facility"] == 0.5
    assert items.loc["q3", "facility"] == 1.0
    # q1 against the rest (q2 + q3 = 3, 2, 2, 1): deviations (.5, .5, -.5, -.5) and (1, 0, 0, -1)
    # give r = 1 / sqrt(1 * 2); q2 against q1 + q3 = 2, 2, 1, 1 gives the same
    assert items.loc["q1", "discrimination"] == pytest.approx(1 / math.sqrt(2))
    assert items.loc["q2", "discrimination"] == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(items.loc["q3", "discrimination"])  # a constant item has no correlation
    assert (items.loc["q2", "full"], items.loc["q2", "partial"], items.loc["q2", "zero"]) == (0.25, 0.5, 0.25)
    assert items.loc["q3", "flags"] == ["太容易"] and items.loc["q1", "flags"] == []


def test_cronbach_alpha_by_hand():
    # item variances 1/3, 2/3, 0; totals 4, 3, 2, 1 have variance 5/3: alpha = 3/2 * (1 - 1 / (5/3)) = 0.6
    assert reliability(cohort(FOUR))["a1"] == pytest.approx(0.6)
    matrix = pd.DataFrame({"q1": [1, 0], "q2": [1, 0]})
    assert cronbach_alpha(matrix) == pytest.approx(1.0)  # two items that agree perfectly
    assert math.isnan(cronbach_alpha(pd.DataFrame({"q1": [1, 0]})))  # one item: undefined


def test_one_learner_has_a_facility_but_no_discrimination_or_alpha():
    one = cohort([("L1", "q1", 1, "已评分"), ("L1", "q2", 1, "已评分"), ("L1", "q3", 0, "已评分")])
    items = item_statistics(one).set_index("cell")
    assert items["facility"].tolist() == [1.0, 0.5, 0.0]
    assert items["discrimination"].isna().all()
    assert math.isnan(reliability(one)["a1"])
    assert items.loc["q3", "flags"] == ["太难"]  # an undefined discrimination raises no flag


def test_not_attempted_is_counted_apart_from_wrong_and_pending_stays_out():
    rows = [r for r in FOUR if r[0] != "L4"] + [
        ("L4", "q1", 0, "未作答"),
        ("L4", "q2", 0, "已评分"),
        ("L4", "q3", None, "待批改"),
    ]
    items = item_statistics(cohort(rows)).set_index("cell")
    assert items.loc["q1", "facility"] == pytest.approx(2 / 3)  # of the three who answered
    assert items.loc["q1", "not_attempted"] == 1 and items.loc["q1", "zero"] == 0.25
    assert items.loc["q3", "pending"] == 1 and items.loc["q3", "counted"] == 3
    # q3 has an answer still to grade: it is left out of the rest of q1 (rest = q2 = 2, 1, 1, 0)
    # and of alpha; with L4's blank q1 counted as 0, q1 = 1, 1, 0, 0 against 2, 1, 1, 0 gives 1/sqrt(2)
    assert items.loc["q1", "discrimination"] == pytest.approx(1 / math.sqrt(2))
    # alpha over q1 and q2: variances 1/3 and 2/3, totals 3, 2, 1, 0 (variance 5/3): 2 * (1 - 1 / (5/3)) = 0.8
    assert reliability(cohort(rows))["a1"] == pytest.approx(0.8)


def test_tied_scores_give_a_defined_correlation():
    # q1 = 1, 1, 0, 0 and q2 = 2, 2, 0, 0 (ties in both): the rest of q1 is q2 + q3 = 3, 3, 1, 1 -> r = 1
    rows = (
        [(s, "q1", v1, "已评分") for s, v1 in zip("ABCD", (1, 1, 0, 0), strict=True)]
        + [(s, "q2", v2, "已评分") for s, v2 in zip("ABCD", (2, 2, 0, 0), strict=True)]
        + [(s, "q3", 1, "已评分") for s in "ABCD"]
    )
    items = item_statistics(cohort(rows)).set_index("cell")
    assert items.loc["q1", "discrimination"] == pytest.approx(1.0)


def test_common_answers_grouped_with_the_correct_one_marked():
    planted = (["合作伙伴关系"] * 5, ["优先供应商关系"] * 4, ["战略联盟关系"])
    rows, n = [], 0
    for answer, score in zip(planted, (1, 0, 0), strict=True):
        for a in answer:
            n += 1
            rows.append((f"L{n:02d}", "q1", score, "已评分", a))
    rows.append(("L11", "q1", 0, "未作答", ""))
    rows.append(("L12", "q1", None, "无法评分", "合作伙伴关系"))  # left out
    groups = answer_groups(cohort(rows))
    assert groups["answer"].tolist() == ["合作伙伴关系", "优先供应商关系", "战略联盟关系", "（未作答）"]
    assert groups["count"].tolist() == [5, 4, 1, 1]
    assert groups["share"].tolist() == pytest.approx([5 / 11, 4 / 11, 1 / 11, 1 / 11])
    assert groups["correct"].tolist() == [True, False, False, False]


def test_the_correct_answer_is_the_most_common_among_full_scores_even_when_a_wrong_one_is_commoner():
    rows = (
        [(f"W{i}", "q1", 0, "已评分", "'B'") for i in range(6)]
        + [(f"R{i}", "q1", 1, "已评分", "'A'") for i in range(3)]
        + [("R9", "q1", 1, "已评分", "'a'")]
    )
    groups = answer_groups(cohort(rows)).set_index("answer")
    assert groups.loc["'A'", "correct"] and not groups.loc["'B'", "correct"] and not groups.loc["'a'", "correct"]
    assert groups.loc["'B'", "share"] == pytest.approx(0.6)


def test_topic_mastery_weakest_first_and_ties_in_topic_order():
    topics = {"q1": "tiers.rule", "q2": "concepts", "q3": "roles.team"}
    rows = [
        ("A", "q1", 1, "已评分"),
        ("A", "q2", 1, "已评分"),
        ("A", "q3", 1, "已评分"),
        ("B", "q1", 0, "已评分"),
        ("B", "q2", 1, "已评分"),
        ("B", "q3", 0, "未作答"),
    ]
    # q3 scores 1 and 0 (left blank) of 1 point: roles.team 50 %; q1: tiers.rule 50 %; q2 (2 points): concepts 50 %
    c = cohort(rows, topics=topics)
    weakest = weakest_topics(c)
    assert weakest["topic"].tolist() == ["concepts", "roles.team", "tiers.rule"]  # a three-way tie
    assert weakest["掌握程度"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    mastery = topic_mastery(c)
    assert mastery.loc["A", "roles.team"] == 1.0 and mastery.loc["B", "roles.team"] == 0.0
    assert mastery.loc["B", "concepts"] == 0.5
