"""kam grade: nbgrader's scores, in parallel, with nothing lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import chdir, closing
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from kamlib.grading.backup import backup_gradebook, backups
from kamlib.grading.course import Course
from kamlib.grading.grade import GradebookLock, grade_assignment
from kamlib.grading.tables import read_gradebook
from tests.support.commands import run_nbgrader, tool_env
from tests.support.courses import EXERCISES, clone_course, copy_clean_course
from tests.support.tiny_course import PARTLY, RIGHT, submit

KAM = str(Path(sys.executable).parent / "kam")


def _tables(root: Path):
    with chdir(root):
        return read_gradebook(Course.load(root))


def _grade(root: Path, **kwargs):
    with chdir(root):
        return grade_assignment(Course.load(root), "ps1", **kwargs)


def test_scores_equal_stock_nbgrader_autograde(template, tmp_path):
    cohort = clone_course(template, tmp_path / "stock")
    submit(cohort, "s1_right", answers=RIGHT)
    submit(cohort, "s2_partly", answers=PARTLY)
    submit(cohort, "s3_blank")
    submit(cohort, "s4_broken_json", raw='{"cells": [')
    submit(cohort, "s5_kernel_dies", answers={"answer": "import os\nos._exit(1)", "share": "share = 0.8"})
    submit(cohort, "s6_endless", answers={"answer": "while True:\n    pass", "share": "share = 0.8"})
    (cohort / "submitted" / "s7_no_notebook" / "ps1").mkdir(parents=True)
    ours = clone_course(cohort, tmp_path / "kam")

    stock = subprocess.run(
        ["nbgrader", "autograde", "ps1"], cwd=cohort, env=tool_env(), capture_output=True, text=True, timeout=300
    )
    kam = subprocess.run(
        [KAM, "grade", "ps1", "--jobs", "2"], cwd=ours, env=tool_env(), capture_output=True, text=True, timeout=300
    )

    assert stock.returncode == 1, stock.stderr[-2000:]  # nbgrader reports the broken ones...
    assert kam.returncode == 1, kam.stderr[-2000:]  # ...and so does kam, after grading the rest
    expected, actual = _tables(cohort), _tables(ours)
    # kam grades in the sandbox with verdicts outside the kernel (as exercises/ does), which
    # grades a submission whose kernel exits; stock nbgrader leaves it ungraded. All else is equal.
    dies = "s5_kernel_dies"
    assert actual.cells.query("student_id == @dies and autograded")["auto_score"].tolist() == [0.0, 0.0]
    for name in ("cells", "comments", "submissions"):
        ours_, stock_ = (
            getattr(t, name)[getattr(t, name)["student_id"] != dies].reset_index(drop=True) for t in (actual, expected)
        )
        pd.testing.assert_frame_equal(ours_, stock_)  # per cell, comment, submission
    for student in ["s1_right", "s2_partly", "s3_blank", "s6_endless"]:
        assert (ours / "autograded" / student / "ps1" / "ps1.ipynb").is_file()
    # the cohort is mixed indeed: full, partial and no marks, and ungradable submissions
    scores = expected.submissions.query("assignment == 'ps1'").set_index("student_id")["score"]
    assert scores["s1_right"] == 3.0 and scores["s2_partly"] == 1.0 and scores["s3_blank"] == 0.0
    assert expected.cells.query("student_id == 's5_kernel_dies'")["auto_score"].isna().all()
    # one Chinese line per failed submission, saying why, and a summary
    lines = kam.stdout.splitlines()
    assert any(line.startswith("✗ s4_broken_json：") and "JSON" in line for line in lines)
    assert any(line.startswith("⚠ s5_kernel_dies：") and "内核退出" in line for line in lines)
    assert any(line.startswith("✗ s7_no_notebook：") and "没有作业笔记本" in line for line in lines)
    assert any(line.startswith("⚠ s6_endless：") and "超时" in line for line in lines)
    assert "成功 5 份，失败 2 份" in lines[-1]
    assert "Traceback" not in kam.stderr


def test_manual_grades_and_comments_survive_regrade(template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    submit(root, "alice", answers=RIGHT)
    submit(root, "bob", answers=PARTLY)
    first = _grade(root, jobs=2)
    assert [o.status for o in first.outcomes] == ["graded", "graded"]

    from nbgrader.api import Gradebook

    with chdir(root), Gradebook(Course.load(root).db_url, "tiny") as gb:
        essay = gb.find_grade("essay", "ps1", "ps1", "alice")
        essay.manual_score, essay.needs_manual_grade = 2.5, False
        override = gb.find_grade("test_answer", "ps1", "ps1", "bob")  # trainer overrules the tests
        override.manual_score, override.extra_credit = 1.0, 0.5
        gb.find_comment("essay", "ps1", "ps1", "alice").manual_comment = "理由充分，再举一个例子更好。"
        gb.find_comment("answer", "ps1", "ps1", "bob").manual_comment = "差一点：再核对一下数值。"
        gb.db.commit()

    again = _grade(root, jobs=2)  # without --force: nothing to do
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    submit(root, "bob", answers=RIGHT, timestamp="2025-03-02 09:00:00.000000 UTC")  # bob resubmits
    regrade = _grade(root, jobs=2, force=True)
    assert [o.status for o in regrade.outcomes] == ["graded", "graded"]

    cells = _tables(root).cells.set_index(["student_id", "cell"])
    comments = _tables(root).comments.set_index(["student_id", "cell"])
    assert cells.loc[("alice", "essay"), "manual_score"] == 2.5
    assert cells.loc[("alice", "essay"), "score"] == 2.5
    assert cells.loc[("bob", "test_answer"), "auto_score"] == 2.0  # new answer, new auto score
    assert cells.loc[("bob", "test_answer"), "manual_score"] == 1.0  # the trainer's grade stays
    assert cells.loc[("bob", "test_answer"), "extra_credit"] == 0.5
    assert comments.loc[("alice", "essay"), "manual_comment"] == "理由充分，再举一个例子更好。"
    assert comments.loc[("bob", "answer"), "manual_comment"] == "差一点：再核对一下数值。"
    # the unchanged written answer keeps its graded status; bob's changed answers send his override back to review
    assert not cells.loc[("alice", "essay"), "needs_manual_grade"]
    assert cells.loc[("bob", "test_answer"), "needs_manual_grade"]
    bob = next(o for o in regrade.outcomes if o.student == "bob")
    assert any("test_answer" in note and "待批改" in note for note in bob.notes)
    # the runs that wrote backed the gradebook up first; the one that wrote nothing did not
    assert first.backup is not None and again.backup is None and regrade.backup is not None
    assert len(backups(root / "gradebook.db")) == 2


def test_concurrent_workers_keep_the_gradebook_whole(template, tmp_path):
    root = clone_course(template, tmp_path / "course")
    students = [f"t{i:02d}" for i in range(1, 8)]
    for i, student in enumerate(students):
        submit(root, student, answers=RIGHT if i % 2 else PARTLY)
    run = _grade(root, jobs=4)
    assert run.jobs == 4
    assert [o.status for o in run.outcomes] == ["graded"] * len(students), [o.reason for o in run.outcomes]
    with closing(sqlite3.connect(root / "gradebook.db")) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    tables = _tables(root)
    subs = tables.submissions.query("assignment == 'ps1'").set_index("student_id")
    assert subs["submitted"].all() and sorted(subs.index) == students
    assert tables.cells.query("assignment == 'ps1'").groupby("student_id").size().eq(3).all()
    assert tables.cells.query("autograded")["auto_score"].notna().all()
    assert subs.loc["t02", "score"] == 3.0 and subs.loc["t01", "score"] == 1.0


def test_gradebook_lock_excludes_other_processes_and_is_reentrant(tmp_path):
    lock = GradebookLock(str(tmp_path / "gb.lock"))
    probe = (
        "import fcntl, sys\nfh = open(sys.argv[1], 'a+b')\n"
        "try:\n    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    sys.exit(3)\n"
    )

    def other_process_gets_it() -> bool:
        return subprocess.run([sys.executable, "-c", probe, lock.path]).returncode == 0

    lock.acquire()
    lock.acquire()  # nested gradebook sessions in one worker
    lock.release()
    assert not other_process_gets_it()
    lock.release()
    assert other_process_gets_it()
    lock.acquire()
    lock.reset()
    assert lock.depth == 0 and other_process_gets_it()


def test_backups_are_timestamped_and_only_the_newest_kept(tmp_path):
    db = tmp_path / "gradebook.db"
    made = []
    for s in (1, 2, 3):
        with closing(sqlite3.connect(db)) as con:
            con.execute("CREATE TABLE IF NOT EXISTS t (x)")
            con.execute("INSERT INTO t VALUES (?)", (s,))
            con.commit()
        made.append(backup_gradebook(db, keep=2, now=datetime(2025, 3, 1, 10, 0, s)))
    assert [p.name for p in backups(db)] == ["gradebook.db.bak-20250301-100002", "gradebook.db.bak-20250301-100003"]
    assert not made[0].exists()
    with closing(sqlite3.connect(made[-1])) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,), (2,), (3,)]
    # nothing changed since the newest copy: no new copy
    assert backup_gradebook(db, keep=2, now=datetime(2025, 3, 1, 10, 0, 9)) == made[-1]
    assert backup_gradebook(tmp_path / "none.db") is None


@pytest.mark.slow
def test_scores_equal_stock_nbgrader_on_a_real_exercise(tmp_path):
    """The course's own nbgrader_config.py (its custom preprocessors included) is honoured."""
    from tests.support.submissions import ADVERSARIAL, Kit

    base = copy_clean_course(EXERCISES, tmp_path / "base")
    assert run_nbgrader(base, "generate_assignment", ADVERSARIAL).returncode == 0
    cases = Kit(base, ADVERSARIAL).adversarial_cases()
    chosen = ["right", "answer_and_test_deleted", "kernel_exit", "not_json"]
    for student in chosen:
        cases[student].write(base, student, ADVERSARIAL)
    ours = clone_course(base, tmp_path / "kam")

    stock = run_nbgrader(base, "autograde", ADVERSARIAL)
    kam = subprocess.run(
        [KAM, "grade", ADVERSARIAL, "--jobs", "2"],
        cwd=ours,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert stock.returncode == kam.returncode == 1, kam.stdout + kam.stderr[-2000:]
    expected, actual = _tables(base), _tables(ours)
    pd.testing.assert_frame_equal(actual.cells, expected.cells)
    pd.testing.assert_frame_equal(actual.comments, expected.comments)
    pd.testing.assert_frame_equal(actual.submissions, expected.submissions)
    tests = actual.cells[actual.cells["autograded"]]
    for student in chosen:
        if cases[student].expected is not None:
            got = tests[tests["student_id"] == student].set_index("cell")["auto_score"].to_dict()
            assert got == cases[student].expected, student
    assert "✗ not_json：" in kam.stdout and "⚠ kernel_exit：" in kam.stdout


def test_a_worker_process_that_dies_costs_only_its_own_submission(template, tmp_path, monkeypatch):
    import os

    from kamlib.grading import grade

    original = grade._grade_one

    def dying(assignment, student, force, expected):
        if student == "crasher":
            os._exit(1)  # the grading process itself goes down
        return original(assignment, student, force, expected)

    monkeypatch.setattr(grade, "_grade_one", dying)
    root = clone_course(template, tmp_path / "course")
    for student in ("amy", "crasher", "zed"):
        submit(root, student, answers=RIGHT)
    run = _grade(root, jobs=2)
    status = {o.student: (o.status, o.reason) for o in run.outcomes}
    assert status["amy"][0] == status["zed"][0] == "graded"
    assert status["crasher"][0] == "failed" and "意外退出" in status["crasher"][1]
    assert _tables(root).submissions.query("assignment == 'ps1' and student_id == 'zed'")["score"].item() == 3.0
