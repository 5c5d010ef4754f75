"""From ``kam grade`` to what the trainer hands on, through the ``kam`` command on the tiny course:
submissions that could not be graded in the report, the export and the feedback; hand scores on
blank answers and on answers changed since; assignments nobody handed in; impossible hand-in times."""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest

from tests.support.commands import run_nbgrader
from tests.support.courses import clone_course
from tests.support.tiny_course import RIGHT, submit
from tests.test_restore import grade_by_hand, kam

BROKEN = "笔记本 ps1.ipynb 不是有效的 JSON 文件（文件损坏或被截断），请学员重新提交"


@pytest.fixture
def course(graded, tmp_path):
    return clone_course(graded, tmp_path / "course")


def csv(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


def set_score(course, student: str, grade_id: str, score: float) -> None:
    """What the formgrader writes when a trainer gives ``score`` to a learner's question by hand."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tiny") as gb:
        grade = gb.find_grade(grade_id, "ps1", "ps1", student)
        grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()


def test_a_learner_whose_only_submission_could_not_be_graded_is_reported_and_exported(course, tmp_path):
    """dan handed in a folder without the notebook: nbgrader never recorded him, kam grade did."""
    (submit(course, "dan") / "ps1.ipynb").rename(course / "submitted" / "dan" / "ps1" / "notes.txt")
    graded = kam(course, "grade", "ps1")
    assert graded.returncode == 1 and "✗ dan：" in graded.stdout, graded.stdout
    reason = graded.stdout.split("✗ dan：")[1].splitlines()[0]

    assert kam(course, "export", "--out", str(tmp_path / "grades.csv")).returncode == 0
    grades = csv(tmp_path / "grades.csv").set_index(["作业", "学员编号"])
    assert grades.loc[("ps1", "dan"), "状态"] == "无法评分" and grades.loc[("ps1", "dan"), "无法评分的原因"] == reason
    assert grades.loc[("ps2", "dan"), "状态"] == "未提交"

    run = kam(course, "report", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    summary = csv(tmp_path / "out" / "report.csv").set_index("学员编号")
    assert summary.loc["dan", "无法评分数"] == 1 and summary.loc["dan", "原因"] == "未提交 ps2"
    assert reason in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert reason in (tmp_path / "out" / "learners" / "dan.html").read_text(encoding="utf-8")

    feedback = kam(course, "feedback", "ps1", "--student", "dan")
    assert feedback.returncode == 1 and f"✗ dan：最新的提交无法评分，没有生成反馈：{reason}" in feedback.stdout


def test_feedback_on_a_resubmission_that_could_not_be_graded_gives_the_reason_and_sets_the_old_page_aside(course):
    assert kam(course, "feedback", "ps1").returncode == 0
    old_page = (course / "feedback" / "alice" / "ps1" / "ps1.html").read_bytes()
    submit(course, "alice", raw='{"cells": [', timestamp="2025-03-02 10:00:00.000000 UTC")
    graded = kam(course, "grade", "ps1")
    assert graded.returncode == 1
    # nbgrader release_feedback sends feedback/<learner>/ps1/*.html: the old page is set aside as soon
    # as the grading fails (not lost), so it cannot go out as if it were current
    assert not (course / "feedback" / "alice" / "ps1").exists()
    assert (course / "feedback" / "alice" / "ps1.superseded" / "ps1.html").read_bytes() == old_page
    assert any(
        line.startswith("⚠ alice：") and "feedback/alice/ps1.superseded" in line for line in graded.stdout.splitlines()
    ), graded.stdout

    run = kam(course, "feedback", "ps1")
    assert run.returncode == 1
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("✗ ")]
    assert line.startswith(f"✗ alice：最新的提交无法评分，没有生成反馈：{BROKEN}。"), line
    assert line.endswith("kam grade ps1 --student alice --force"), line
    assert "待人工评分" not in run.stdout  # alice's essay awaits a grade, but she gets no feedback
    assert (course / "feedback" / "bob" / "ps1" / "ps1.html").is_file()

    (course / "feedback" / "alice" / "ps1.superseded").rename(course / "feedback" / "alice" / "ps1")
    again = kam(course, "feedback", "ps1", "--student", "alice")  # a page put back by hand is set aside again
    assert again.returncode == 1 and "feedback/alice/ps1.superseded" in again.stdout and BROKEN in again.stdout
    assert not (course / "feedback" / "alice" / "ps1").exists()


def test_a_hand_score_on_a_blank_answer_counts_as_graded(course, tmp_path):
    """carol left test_answer blank (未作答, 0 points); the trainer gives her 1 of 2 points by hand."""
    set_score(course, "carol", "test_answer", 1.0)
    assert kam(course, "report", "--out", str(tmp_path)).returncode == 0
    answers = csv(tmp_path / "answers.csv").set_index(["学员编号", "题目编号"])
    assert answers.loc[("carol", "test_answer"), "状态"] == "已评分"
    assert answers.loc[("carol", "test_answer"), "得分"] == 1.0
    assert answers.loc[("carol", "test_share"), "状态"] == "未作答"  # her other blank answer stays so
    items = csv(tmp_path / "items.csv").set_index("题目编号")
    assert items.loc["test_answer", "未作答人数"] == 0 and items.loc["test_answer", "计入人数"] == 3
    assert items.loc["test_answer", "部分得分占比"] == round(1 / 3, 3)  # alice 2, bob 0, carol 1 of 2


def test_a_changed_answer_awaiting_a_new_grade_says_its_old_score_is_in_the_total(course, tmp_path):
    """alice's essay was graded 2.5 of 3, then she handed in a different essay: nbgrader keeps the old
    score in her total (5.5 of 6) until the trainer grades the new one."""
    grade_by_hand(course, "alice", 2.5)
    submit(course, "alice", answers={**RIGHT, "essay": "另一份理由。"}, timestamp="2025-03-02 10:00:00.000000 UTC")
    assert kam(course, "grade", "ps1").returncode == 0
    assert kam(course, "export", "--out", str(tmp_path / "grades.csv")).returncode == 0
    row = csv(tmp_path / "grades.csv").set_index(["作业", "学员编号"]).loc[("ps1", "alice")]
    assert (row["状态"], row["得分"], row["待批改题数"], row["得分率(%)"]) == ("待批改", 5.5, 1, 100.0)
    assert row["得分中待批改题的旧分"] == 2.5
    assert kam(course, "feedback", "ps1", "--student", "alice").returncode == 0
    page = (course / "feedback" / "alice" / "ps1" / "ps1.html").read_text(encoding="utf-8")
    assert "5.5 / 6.0" in page and "批改前，页首的总分暂时仍按原来的 2.5 分计算" in page


def test_exporting_an_assignment_nobody_handed_in_names_it(course, tmp_path):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tiny") as gb:
        gb.remove_submission("ps2", "alice")  # ps1 is handed in, ps2 not yet
    export = kam(course, "export", "ps2", "--out", str(tmp_path / "grades.csv"))
    report = kam(course, "report", "ps2", "--out", str(tmp_path / "out"))
    assert export.returncode == report.returncode == 2
    assert "作业“ps2”" in export.stderr and export.stderr == report.stderr


@pytest.mark.parametrize(
    ("zone", "student", "shown"),
    [("Asia/Shanghai", "gina", "9999-12-31 23:59:59+00:00"), ("America/New_York", "hank", "0001-01-01 00:00:00+00:00")],
)
def test_export_survives_hand_in_times_the_local_zone_cannot_hold(course, tmp_path, monkeypatch, zone, student, shown):
    """Graded with plain nbgrader autograde, which takes any time in timestamp.txt."""
    hand_in = {"gina": "9999-12-31 23:59:59.000000 UTC", "hank": "0001-01-01 00:00:00.000000 UTC"}[student]
    submit(course, student, answers=RIGHT, timestamp=hand_in)
    assert run_nbgrader(course, "autograde", "ps1", "--student", student).returncode == 0
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        run = kam(course, "export", "--out", str(tmp_path / "grades.csv"))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert run.returncode == 0, run.stderr
    times = csv(tmp_path / "grades.csv").set_index(["作业", "学员编号"])["提交时间"]
    assert times[("ps1", student)] == shown
    assert re.fullmatch(r"2025-03-01 \d\d:00:00[+-]0[58]:00", times[("ps1", "bob")])  # the others in local time
