"""``kam export``: the grades table as a CSV that Excel opens correctly in China (UTF-8 with BOM).

One row per collected assignment and learner (assignments nobody has submitted yet
are left out, as in the report); times in the trainer's local time zone with the
offset written out (``2025-03-01 18:00:00+08:00``). With ``questions``, one column
per question holds the score of each learner's answer.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC
from pathlib import Path

import pandas as pd

from .cohort import COUNTED, FAILED, MISSING, PENDING
from .course import Course
from .report import load_cohort, require_collected

COLUMNS_ZH = {
    "assignment": "作业",
    "duedate": "截止时间",
    "student_id": "学员编号",
    "name": "姓名",
    "email": "邮箱",
    "status": "状态",
    "reason": "无法评分的原因",
    "timestamp": "提交时间",
    "raw_score": "原始得分",
    "late_penalty": "迟交扣分",
    "score": "得分",
    "max_score": "满分",
    "pending": "待批改题数",
    "held": "得分中待批改题的旧分",
    "share": "得分率(%)",
}


def local_time(value) -> str:
    """A naive UTC time from the gradebook in local time with its offset; "" when missing.

    A time the local zone cannot hold (near year 1 or 9999) stays in UTC (offset +00:00).
    """
    if value is None or pd.isna(value):
        return ""
    moment = pd.Timestamp(value).to_pydatetime()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with suppress(OverflowError):
        moment = moment.astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


def grades_table(course: Course, assignment: str | None = None, questions: bool = False) -> pd.DataFrame:
    """One row per collected assignment and learner, with Chinese headers.

    状态 is 已评分, 待批改 (some written answer still to grade; 得分率 counts the graded
    points only), 无法评分 (with the reason; no score) or 未提交 (score 0). 得分 is nbgrader's,
    so it still counts the old hand score of an answer changed since; 得分中待批改题的旧分 says how much.
    """
    if assignment is not None:
        course.require_assignment(assignment)
    cohort = load_cohort(course, assignment)
    require_collected(cohort, assignment)
    subs = cohort.submissions.copy()
    subs["share"] = (subs["share"].mask(subs["status"] == MISSING, 0.0) * 100).round(1)
    subs.loc[subs["status"] == FAILED, ["score", "raw_score", "held"]] = None
    subs["email"] = subs["email"].fillna("")
    for column in ("duedate", "timestamp"):
        subs[column] = subs[column].map(local_time)
    table = subs[list(COLUMNS_ZH)].rename(columns=COLUMNS_ZH)
    if questions:
        table = table.join(_question_columns(cohort), on=["作业", "学员编号"])
    return table


def _question_columns(cohort) -> pd.DataFrame:
    answers = cohort.answers
    several = len(cohort.assignments) > 1
    label = (answers["assignment"] + " " + answers["question"]) if several else answers["question"]
    label = label + "（" + answers["points"].map(lambda p: f"{p:g}") + " 分）"
    value = answers["score"].astype(object).where(answers["status"].isin(COUNTED), "")
    value = value.mask(answers["status"] == PENDING, "待批改").mask(answers["status"] == FAILED, "无法评分")
    wide = pd.DataFrame(
        {"作业": answers["assignment"], "学员编号": answers["student_id"], "label": label, "value": value}
    ).pivot(index=["作业", "学员编号"], columns="label", values="value")
    return wide.reindex(columns=list(dict.fromkeys(label)))


def export_grades(course: Course, out: Path, assignment: str | None = None, questions: bool = False) -> Path:
    """Write :func:`grades_table` to ``out`` in UTF-8 with a byte-order mark."""
    table = grades_table(course, assignment, questions)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, encoding="utf-8-sig")
    return out
