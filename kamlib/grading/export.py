"""``kam export``: the grades table as a CSV that Excel opens correctly in China (UTF-8 with BOM)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .course import Course, KamError
from .tables import read_gradebook

COLUMNS_ZH = {
    "assignment": "作业", "duedate": "截止时间", "student_id": "学员编号", "last_name": "姓",
    "first_name": "名", "email": "邮箱", "status": "状态", "timestamp": "提交时间",
    "raw_score": "原始得分", "late_penalty": "迟交扣分", "score": "得分", "max_score": "满分",
    "share": "得分率(%)",
}


def grades_table(course: Course) -> pd.DataFrame:
    """One row per assignment and trainee, like ``nbgrader export``, with Chinese headers.

    A missing submission scores 0 (状态 “未提交”); a submission with an answer still
    to be graded by hand is “待人工评分”.
    """
    subs = read_gradebook(course).submissions
    if subs.empty:
        raise KamError("成绩库中还没有学员或作业，没有可导出的成绩")
    subs = subs.assign(
        status=[("已评分" if not manual else "待人工评分") if submitted else "未提交"
                for submitted, manual in zip(subs["submitted"], subs["needs_manual_grade"])],
        share=(subs["score"] / subs["max_score"].where(subs["max_score"] > 0) * 100).round(1),
    )
    return subs[list(COLUMNS_ZH)].rename(columns=COLUMNS_ZH)


def export_grades(course: Course, out: Path) -> Path:
    """Write :func:`grades_table` to ``out`` in UTF-8 with a byte-order mark."""
    table = grades_table(course)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, encoding="utf-8-sig")
    return out
