"""The trainer's accidents, through the ``kam`` command (its entry point) on the tiny course: backups that keep
what matters, a deleted or damaged gradebook and the way back (``kam restore``), regrading after a
lost gradebook, ``--force`` with manual grades, a re-submission without ``timestamp.txt``."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from kamlib.cli import main
from kamlib.grading.backup import backup_gradebook, backups, describe
from tests.support.commands import run_nbgrader, tool_env
from tests.support.courses import clone_course
from tests.support.tiny_course import RIGHT, submit

ENGLISH = ("Traceback", "sqlalchemy", "Error:", "Permission denied", "Is a directory")


def kam(course: Path, *args: str) -> subprocess.CompletedProcess:
    """``kam --course COURSE ARGS`` through its entry point, in this process (as fast as the tests need)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--course", str(course), *args])
    return subprocess.CompletedProcess(["kam", *args], code, out.getvalue(), err.getvalue())


def one_chinese_sentence(run: subprocess.CompletedProcess) -> str:
    text = run.stdout + run.stderr
    assert run.returncode == 2, text
    assert not [word for word in ENGLISH if word in text], text
    assert len(run.stderr.strip().splitlines()) == 1, text
    return run.stderr


def grade_by_hand(course: Path, student: str = "alice", score: float = 2.5) -> None:
    """What the formgrader writes when a trainer grades the essay."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tiny") as gb:
        grade = gb.find_grade("essay", "ps1", "ps1", student)
        grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()


def needs_manual(course: Path, student: str, grade_id: str) -> bool:
    with closing(sqlite3.connect(course / "gradebook.db")) as con:
        return bool(
            con.execute(
                "SELECT g.needs_manual_grade FROM grade g JOIN base_cell c ON g.cell_id = c.id "
                "JOIN submitted_notebook n ON g.notebook_id = n.id JOIN submitted_assignment a ON n.assignment_id = a.id "
                "WHERE c.name = ? AND a.student_id = ?",
                (grade_id, student),
            ).fetchone()[0]
        )


@pytest.fixture
def course(graded, tmp_path) -> Path:
    return clone_course(graded, tmp_path / "course")


def test_runs_that_write_nothing_take_no_backup(course):
    before = backups(course / "gradebook.db")
    for _ in range(3):
        run = kam(course, "grade", "ps1")
        assert run.returncode == 0 and "跳过 3 份" in run.stdout
        assert "备份" not in run.stdout + run.stderr
    assert backups(course / "gradebook.db") == before


def test_rotation_never_drops_the_last_backup_holding_manual_grades(course):
    db = course / "gradebook.db"
    grade_by_hand(course)
    kept = backup_gradebook(db, keep=2, now=datetime(2030, 1, 1, 9, 0, 0))
    assert describe(kept).manual == 1
    with closing(sqlite3.connect(db)) as con:  # the accident: every grade gone
        con.execute("DELETE FROM grade")
        con.commit()
    for minute in range(1, 6):  # then five runs that each change something
        with closing(sqlite3.connect(db)) as con:
            con.execute("UPDATE student SET first_name = ? WHERE id = 'alice'", (f"v{minute}",))
            con.commit()
        backup_gradebook(db, keep=2, now=datetime(2030, 1, 1, 9, minute, 0))
    left = backups(db)
    assert kept in left and len(left) <= 4
    assert max(describe(p).grades for p in left) > 0


def test_a_deleted_gradebook_names_the_backups_and_kam_restore_brings_it_back(course):
    grade_by_hand(course)
    backup_gradebook(course / "gradebook.db")
    (course / "gradebook.db").unlink()
    for command in (["grade", "ps1"], ["report"]):
        err = one_chinese_sentence(kam(course, *command))
        assert "不存在" in err and "kam restore" in err and ".bak-" in err, command
    listing = kam(course, "restore")
    assert listing.returncode == 0
    newest = listing.stdout.splitlines()[1]
    assert newest.startswith("1. gradebook.db.bak-") and "作业 ps1、ps2" in newest
    assert "学员 3 名" in newest and "人工评分 1 项" in newest
    assert datetime.now().strftime("%Y-%m-%d") in newest
    run = kam(course, "restore", "1")
    assert run.returncode == 0 and "已用备份恢复成绩库" in run.stdout
    report = kam(course, "report")
    assert report.returncode == 0, report.stderr
    assert describe(course / "gradebook.db").manual == 1


def test_restoring_backs_up_the_gradebook_it_replaces(course):
    db = course / "gradebook.db"
    older = backups(db)[0]
    grade_by_hand(course)
    run = kam(course, "restore", older.name)
    assert run.returncode == 0, run.stderr
    assert describe(db).manual == 0
    saved = [p for p in backups(db) if describe(p).manual == 1]
    assert saved and saved[-1].name in run.stdout
    assert kam(course, "restore", saved[-1].name).returncode == 0
    assert describe(db).manual == 1


def test_a_truncated_gradebook_is_one_chinese_sentence_in_every_command(course):
    db = course / "gradebook.db"
    data = db.read_bytes()[: db.stat().st_size // 3]
    db.write_bytes(data)
    for command in (["report"], ["export"], ["feedback", "ps1"], ["grade", "ps1"], ["roster", "x.csv"]):
        err = one_chinese_sentence(kam(course, *command))
        assert "已损坏" in err and "kam restore gradebook.db.bak-" in err, command
    assert db.read_bytes() == data  # left as it was, for whoever wants to rescue it
    script = subprocess.run(
        [str(Path(sys.executable).parent / "kam"), "report"],
        cwd=course,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )  # the console script a trainer types
    assert "已损坏" in one_chinese_sentence(script)
    db.write_bytes(b"")  # an emptied file is no gradebook either
    assert "已损坏" in one_chinese_sentence(kam(course, "report"))


def test_a_lost_gradebook_without_backups_is_rebuilt_by_regrading(course):
    for path in [course / "gradebook.db", *backups(course / "gradebook.db")]:
        path.unlink()
    err = one_chinese_sentence(kam(course, "grade", "ps1"))
    assert "nbgrader generate_assignment --force" in err
    assert run_nbgrader(course, "generate_assignment", "--force", "ps1").returncode == 0
    run = kam(course, "grade", "ps1")  # no --force needed, nothing "已评分" skipped
    assert run.returncode == 0, run.stdout + run.stderr
    assert "成功 3 份" in run.stdout and "跳过" not in run.stdout
    assert "已重新评分" in run.stdout and "alice" in run.stdout
    feedback = kam(course, "feedback", "ps1")
    assert feedback.returncode == 0, feedback.stdout + feedback.stderr
    assert "MissingEntry" not in feedback.stdout + feedback.stderr


def test_feedback_after_restoring_an_older_backup_says_how_to_regrade(course):
    db = course / "gradebook.db"
    first = backups(db)[0]  # taken before anything was graded
    assert kam(course, "restore", first.name).returncode == 0
    run = kam(course, "feedback", "ps1")
    assert run.returncode == 1
    assert "MissingEntry" not in run.stdout + run.stderr
    assert "✗ alice：" in run.stdout and "kam grade ps1 --student alice" in run.stdout


def score(course: Path, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "tiny") as gb:
        return gb.find_submission("ps1", student).score


def test_a_resubmission_graded_after_the_restored_backup_is_graded_again(course):
    """The gradebook restored from a backup taken before bob's resubmission was graded holds his
    older submission's grades: the next kam grade grades the resubmission again and says so."""
    assert score(course, "bob") == 1.0
    submit(course, "bob", answers=RIGHT, timestamp="2025-03-02 09:00:00.000000 UTC")
    taken = set(backups(course / "gradebook.db"))
    assert kam(course, "grade", "ps1").returncode == 0
    assert score(course, "bob") == 3.0
    (before_resubmission,) = set(backups(course / "gradebook.db")) - taken
    assert kam(course, "restore", before_resubmission.name).returncode == 0
    assert score(course, "bob") == 1.0
    run = kam(course, "grade", "ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert score(course, "bob") == 3.0
    warning = [line for line in run.stdout.splitlines() if "已重新评分" in line]
    assert warning and "bob" in warning[0] and "alice" not in warning[0], run.stdout


def test_force_keeps_manual_grades_of_unchanged_answers_and_says_which_changed(course):
    grade_by_hand(course, "alice")
    grade_by_hand(course, "carol", 0.0)
    submit(
        course,
        "carol",
        answers={"essay": "我重新写了：因为八成收入来自该客户。"},
        timestamp="2025-03-02 10:00:00.000000 UTC",
    )
    run = kam(course, "grade", "ps1", "--force")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not needs_manual(course, "alice", "essay")
    assert needs_manual(course, "carol", "essay")
    assert any(line.startswith("⚠ carol：") and "待批改" in line for line in run.stdout.splitlines())
    feedback = kam(course, "feedback", "ps1")
    warning = [line for line in feedback.stdout.splitlines() if "待人工评分" in line]
    assert warning and "carol" in warning[0] and "alice" not in warning[0]


def test_a_manual_grade_survives_a_run_that_lost_the_autograded_notebook(course):
    """An interrupted or failed run removes the submission's autograded folder; the next run
    still knows what the manual grade judged (recorded in the gradebook) and keeps it."""
    import shutil

    grade_by_hand(course, "alice")
    shutil.rmtree(course / "autograded" / "alice" / "ps1")
    feedback = kam(course, "feedback", "ps1")  # says whose feedback it cannot write, and how to fix it
    assert feedback.returncode == 1, feedback.stdout + feedback.stderr
    assert any(
        line.startswith("✗ alice：") and "kam grade ps1 --student alice" in line
        for line in feedback.stdout.splitlines()
    )
    run = kam(course, "grade", "ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (course / "autograded" / "alice" / "ps1" / "ps1.ipynb").is_file()
    assert not needs_manual(course, "alice", "essay")
    # and a changed answer still goes back to the trainer, with the old folder gone too
    submit(course, "alice", answers={"essay": "我改了答案。"}, timestamp="2025-03-03 08:00:00.000000 UTC")
    shutil.rmtree(course / "autograded" / "alice" / "ps1")
    again = kam(course, "grade", "ps1")
    assert needs_manual(course, "alice", "essay")
    assert any(line.startswith("⚠ alice：") and "待批改" in line for line in again.stdout.splitlines()), again.stdout


def test_a_submission_the_restored_gradebook_holds_no_scores_for_is_graded_again(course):
    """fay's first hand-in had a misnamed notebook: nbgrader recorded her submission, unscored, and
    the run failed. Renamed, it is graded (after a backup). That backup restored holds the unscored
    record with the same hand-in time: the next kam grade grades her again, and her failure is over."""
    folder = submit(course, "fay", answers=RIGHT)
    (folder / "ps1.ipynb").rename(folder / "PS1.ipynb")
    assert kam(course, "grade", "ps1", "--student", "fay").returncode == 1
    (folder / "PS1.ipynb").rename(folder / "ps1.ipynb")
    taken = set(backups(course / "gradebook.db"))
    assert kam(course, "grade", "ps1", "--student", "fay").returncode == 0
    (unscored,) = set(backups(course / "gradebook.db")) - taken
    assert kam(course, "restore", unscored.name).returncode == 0
    assert score(course, "fay") == 0.0
    run = kam(course, "grade", "ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert score(course, "fay") == 3.0
    warning = [line for line in run.stdout.splitlines() if "已重新评分" in line]
    assert warning and warning[0].endswith("fay"), run.stdout
    with closing(sqlite3.connect(course / "gradebook.db")) as con:
        assert con.execute("SELECT COUNT(*) FROM kam_grading_failure WHERE student = 'fay'").fetchone() == (0,)


def test_a_failure_is_over_once_plain_nbgrader_graded_the_submission(course, monkeypatch):
    """A failed submission fixed and graded with plain nbgrader autograde: kam grade then skips it
    (its result is current) and the report no longer calls it ungradable."""
    folder = submit(course, "gus", raw='{"cells": [')
    assert kam(course, "grade", "ps1").returncode == 1
    submit(course, "gus", answers=RIGHT)
    assert run_nbgrader(course, "autograde", "ps1", "--student", "gus").returncode == 0
    run = kam(course, "grade", "ps1")
    assert run.returncode == 0 and "跳过 4 份" in run.stdout, run.stdout
    with closing(sqlite3.connect(course / "gradebook.db")) as con:
        assert con.execute("SELECT COUNT(*) FROM kam_grading_failure WHERE student = 'gus'").fetchone() == (0,)
    (folder / "ps1.ipynb").write_text('{"cells": [', encoding="utf-8")  # broken again, failed again:
    before = set(backups(course / "gradebook.db"))
    times = iter(f"2026-01-0{day}T09:00:00+00:00" for day in range(1, 10))  # each run at a time of its own
    monkeypatch.setattr("kamlib.grading.grade.now_utc", lambda: next(times))
    for _ in range(3):
        assert kam(course, "grade", "ps1", "--force", "--student", "gus").returncode == 1
    # a backup before the first run and one before the second (the first recorded the failure); the
    # second failed for the same reason and changed nothing, so the third run's backup was not kept
    assert len(set(backups(course / "gradebook.db")) - before) == 2


@pytest.mark.parametrize("next_run", [(), ("--force",)], ids=["next-run", "next-run-forced"])
def test_a_manual_grade_survives_a_run_killed_before_it_gave_it_back(course, monkeypatch, next_run):
    """A regrade marks a hand-graded answer for grading again (nbgrader's SaveAutoGrades) and
    kam gives it its graded status back at the end. The run killed in between (Ctrl-C, a killed
    worker or machine) leaves it marked: the next run, forced or not, still gives it back."""
    import os
    import signal

    from kamlib.grading import grade

    grade_by_hand(course, "alice")
    monkeypatch.setattr(grade, "_keep_manual_grades", lambda *_: os.kill(os.getpid(), signal.SIGKILL))
    killed = kam(course, "grade", "ps1", "--force", "--student", "alice", "--jobs", "1")
    assert killed.returncode == 1 and "意外退出" in killed.stdout, killed.stdout + killed.stderr
    assert needs_manual(course, "alice", "essay")  # killed in the window
    monkeypatch.undo()
    run = kam(course, "grade", "ps1", *next_run)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not needs_manual(course, "alice", "essay"), run.stdout
    assert "待批改" not in run.stdout
    # a changed answer still goes back to the trainer after such a run
    monkeypatch.setattr(grade, "_keep_manual_grades", lambda *_: os.kill(os.getpid(), signal.SIGKILL))
    submit(course, "alice", answers={"essay": "我改了答案。"}, timestamp="2025-03-03 08:00:00.000000 UTC")
    assert kam(course, "grade", "ps1", "--jobs", "1").returncode == 1
    monkeypatch.undo()
    again = kam(course, "grade", "ps1", *next_run)
    assert needs_manual(course, "alice", "essay")
    assert any(line.startswith("⚠ alice：") and "待批改" in line for line in again.stdout.splitlines()), again.stdout


def test_a_submission_filed_under_a_misspelt_assignment_is_named(course):
    """submitted/dan/ps_1/ is no assignment's folder: nbgrader ignores it without a word; kam grade names it."""
    submit(course, "dan", assignment="ps1").rename(course / "submitted" / "dan" / "ps_1")
    run = kam(course, "grade", "ps1")
    (line,) = [line for line in run.stdout.splitlines() if "不是任何作业的名字" in line]
    assert "submitted/dan/ps_1" in line and "ps1、ps2" in line, line
    assert "submitted/alice/ps1" not in line


def test_a_resubmission_without_timestamp_is_named_with_what_to_do(course):
    folder = submit(course, "bob", answers=RIGHT)
    (folder / "timestamp.txt").unlink()
    run = kam(course, "grade", "ps1")
    lines = [line for line in run.stdout.splitlines() if line.startswith("⚠ bob：")]
    assert lines and "timestamp.txt" in lines[0] and "kam grade ps1 --student bob --force" in lines[0]
    again = kam(course, "grade", "ps1", "--student", "bob", "--force")
    assert again.returncode == 0 and "成功 1 份" in again.stdout


def test_an_unreadable_submission_fails_only_itself(course):
    """A learner writes nonsense into timestamp.txt of a graded submission (nbgrader's reader
    crashed the whole run), another hands in a named pipe as the notebook (every reader
    would hang): each is named with what to do, and everyone else is graded."""
    import os

    (course / "submitted" / "carol" / "ps1" / "timestamp.txt").write_text("x", encoding="utf-8")
    pipe = submit(course, "dave") / "ps1.ipynb"
    pipe.unlink()
    os.mkfifo(pipe)
    submit(course, "bob", answers=RIGHT, timestamp="2025-03-02 09:00:00.000000 UTC")
    run = kam(course, "grade", "ps1")
    dave = [line for line in run.stdout.splitlines() if line.startswith("✗ dave：")]
    assert dave and "ps1.ipynb 不是普通文件" in dave[0], run.stdout
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("✗ carol：")]
    assert lines and "timestamp.txt" in lines[0] and "“x”" in lines[0] and "kam grade ps1 --student carol" in lines[0]
    assert score(course, "bob") == 3.0  # the others are graded


def test_hostile_folders_fail_only_themselves(course):
    """Each named with what to do, the others graded: a named pipe as timestamp.txt (nbgrader's
    reader waited on it for ever, before anyone was graded), a sparse file of 200 MB (nbgrader
    copies it whole, and the sandbox again), a hand-in time in the year 9999 (kam export crashed
    on it) and a folder name that is not UTF-8 (it crashed the whole run)."""
    import os
    import shutil

    erin = submit(course, "erin", answers=RIGHT)
    (erin / "timestamp.txt").unlink()
    os.mkfifo(erin / "timestamp.txt")
    with open(submit(course, "frank", answers=RIGHT) / "data.bin", "wb") as sparse:
        sparse.truncate(200_000_000)
    submit(course, "gina", answers=RIGHT, timestamp="9999-12-31 23:59:59.000000 UTC")
    shutil.copytree(course / "submitted" / "bob", course / "submitted" / os.fsdecode(b"j\xe9r\xf4me"))
    submit(course, "hal", answers=RIGHT, timestamp="2025-03-02 09:00:00.000000 UTC")
    run = kam(course, "grade", "ps1")
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    failed = {line[2:].split("：")[0]: line for line in run.stdout.splitlines() if line.startswith("✗ ")}
    assert sorted(failed) == ["erin", "frank", "gina", "j\\xe9r\\xf4me"], run.stdout
    assert "timestamp.txt 不是普通文件" in failed["erin"] and "kam grade ps1 --student erin" in failed["erin"]
    assert "共 200 MB" in failed["frank"] and "max_file_size" in failed["frank"]
    assert not (course / "autograded" / "frank").exists()
    assert "“9999-12-31 23:59:59.000000 UTC”" in failed["gina"]
    assert "不是有效的 UTF-8" in failed["j\\xe9r\\xf4me"]
    assert score(course, "hal") == 3.0 and score(course, "bob") == 1.0  # graded, and left as graded


def test_a_damaged_timestamp_in_a_graded_result_is_graded_again(course):
    """The timestamp.txt of a result in autograded/ (the trainer's side) made unreadable: nbgrader's
    reader failed the whole run with an English traceback. That submission is graded again and
    named; the others are left as they were; a hand grade of the unchanged answer is kept."""
    grade_by_hand(course, "alice")
    (course / "autograded" / "alice" / "ps1" / "timestamp.txt").write_text("garbage", encoding="utf-8")
    run = kam(course, "grade", "ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if "timestamp.txt 不是有效的时间" in line]
    assert lines and lines[0].endswith("alice"), run.stdout
    assert "成功 1 份" in run.stdout and "跳过 2 份" in run.stdout
    assert (course / "autograded" / "alice" / "ps1" / "timestamp.txt").read_text() != "garbage"
    assert not needs_manual(course, "alice", "essay")


def test_a_gradebook_the_trainer_may_not_write_is_not_called_damaged(graded):
    """A course folder the grading user cannot write: kam says so, and does not send the trainer to the backups."""
    import os
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="kam-readonly-"))  # outside pytest's private folders: another user reads it
    try:
        root = clone_course(graded, base / "course")
        submit(root, "bob", answers=RIGHT, timestamp="2025-03-02 09:00:00.000000 UTC")
        for folder, dirs, files in os.walk(base):
            for name in dirs + files:
                Path(folder, name).chmod(0o555 if Path(folder, name).is_dir() else 0o444)
        base.chmod(0o755)
        command = [str(Path(sys.executable).parent / "kam"), "grade", "ps1"]
        # root may write anywhere: the grading user is then nobody, who may read the course but not write it
        as_user = {"user": "nobody", "group": "nogroup", "extra_groups": []} if os.geteuid() == 0 else {}
        env = {**tool_env(), "HOME": str(base)}
        run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300, **as_user)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "没有写入成绩库 gradebook.db 的权限" in run.stderr and "已损坏" not in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    finally:
        for folder, dirs, _files in os.walk(base):
            for name in dirs:
                Path(folder, name).chmod(0o755)
        base.chmod(0o755)
        shutil.rmtree(base)


def test_start_and_end_lines_agree_and_the_backup_is_named_at_the_start(course):
    import re

    submit(course, "dave", answers=RIGHT)
    run = kam(course, "grade", "ps1", "--jobs", "2")
    assert run.returncode == 0, run.stderr
    errs = run.stderr.splitlines()
    start = next(line for line in errs if line.startswith("评分作业"))
    said = re.search(r"(\d+) 个并行进程", start)[1]
    assert re.search(r"（(\d+) 个并行进程", run.stdout.splitlines()[-1])[1] == said
    # the backup is named before grading starts (so also when Ctrl+C stops it), with the way back
    backup = next(i for i, line in enumerate(errs) if "已备份为" in line)
    assert errs.index(start) < backup and "kam restore gradebook.db.bak-" in errs[backup]
    assert "每份评分平均需" in run.stdout.splitlines()[-1]


def test_os_errors_are_said_in_chinese(course):
    (course / "out").mkdir()
    err = one_chinese_sentence(kam(course, "export", "--out", str(course / "out")))
    assert "文件夹" in err
