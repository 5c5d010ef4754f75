"""One test per assumption kamlib.grading.nbgrader_adapter makes about nbgrader's internals.

When nbgrader is upgraded and one of these fails, the adapter (and only the adapter) needs
changing; the test's name says which assumption broke.
"""

from __future__ import annotations

import inspect
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.converters.base import BaseConverter
from sqlalchemy.exc import SQLAlchemyError

from kamlib.grading import nbgrader_adapter as adapter

pytestmark = pytest.mark.slow  # the SQL tests read the tiny course graded once per run


@pytest.mark.parametrize(
    "hook, params",
    [
        ("init_destination", ["self", "assignment_id", "student_id"]),
        ("init_assignment", ["self", "assignment_id", "student_id"]),
        ("convert_single_notebook", ["self", "notebook_filename"]),
    ],
)
def test_converters_have_the_hooks_the_tracked_converters_override(hook, params):
    assert list(inspect.signature(getattr(BaseConverter, hook)).parameters) == params
    # nbgrader's own run loop calls them, so overriding them sees every submission
    assert f"self.{hook}(" in inspect.getsource(BaseConverter)


def test_init_destination_says_whether_the_submission_is_processed():
    assert inspect.signature(BaseConverter.init_destination).return_annotation in (bool, "bool")


def test_the_tracked_converters_are_nbgraders_own_and_record_errors():
    assert issubclass(adapter.TrackedAutograde, Autograde)
    assert issubclass(adapter.TrackedFeedback, GenerateFeedback)
    assert adapter.TrackedAutograde is adapter.TrackedAutograde  # made once

    class Failing(BaseConverter):
        def convert_single_notebook(self, notebook_filename):
            raise RuntimeError("broken notebook")

    tracked = type("T", (adapter._Tracked, Failing), {})()
    with pytest.raises(RuntimeError):
        tracked.convert_single_notebook("/x/ps1.ipynb")
    assert tracked.failed_notebook == "ps1.ipynb" and str(tracked.error) == "broken notebook"


class CountingLock:
    def __init__(self):
        self.held = 0
        self.acquired = 0

    def acquire(self):
        assert self.held == 0, "a second session started while one was open"
        self.held += 1
        self.acquired += 1

    def release(self):
        self.held -= 1


def test_a_gradebook_session_is_opened_by_init_and_ended_by_close(graded, tmp_path, monkeypatch):
    monkeypatch.setattr(Gradebook, "__init__", Gradebook.__init__)  # undone after the test
    monkeypatch.setattr(Gradebook, "close", Gradebook.close)
    lock = CountingLock()
    adapter.serialise_gradebook(lock)
    shutil.copy(graded / "gradebook.db", tmp_path / "gradebook.db")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:  # __exit__ ends the session through close()
        assert lock.held == 1
        gb.add_student("dave")
    assert lock.held == 0
    gb = Gradebook(url)
    gb.close()
    assert (lock.held, lock.acquired) == (0, 2)
    (tmp_path / "folder.db").mkdir()
    with pytest.raises((SQLAlchemyError, OSError)):
        Gradebook(f"sqlite:///{tmp_path / 'folder.db'}")
    assert lock.held == 0, "a session that failed to open must not keep the lock"


def test_gradebook_sessions_on_one_url_share_one_engine(graded, tmp_path, monkeypatch):
    import nbgrader.api

    monkeypatch.setattr(nbgrader.api, "create_engine", nbgrader.api.create_engine)  # undone after the test
    shutil.copy(graded / "gradebook.db", tmp_path / "gradebook.db")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as first, Gradebook(url) as second:
        assert first.engine is not second.engine  # nbgrader's own: an engine per session
    adapter.share_engines()
    with Gradebook(url) as first:
        first.add_student("dave")
    with Gradebook(url) as second:
        assert second.engine is first.engine  # Gradebook looks create_engine up in nbgrader.api
        assert second.find_student("dave").id == "dave"  # and the closed session's work is there


def test_the_sql_reads_agree_with_nbgraders_own_api(graded):
    db = graded / "gradebook.db"
    with closing(adapter.read_only(db)) as con:
        counts = adapter.gradebook_counts(con)
        names = adapter.assignment_names(con, "tiny")
        assert adapter.assignment_names(con, "another course") == []
    with Gradebook(f"sqlite:///{db}", "tiny") as gb:
        assert list(counts.assignments) == names == sorted(a.name for a in gb.assignments)
        assert counts.learners == len(gb.students)
        grades = [g for a in gb.assignments for s in a.submissions for n in s.notebooks for g in n.grades]
        assert counts.grades == sum(g.auto_score is not None or g.manual_score is not None for g in grades)
        assert counts.manual == sum(g.manual_score is not None for g in grades)
    assert counts.learners == 3 and counts.grades > 0


def test_read_only_never_creates_or_changes_a_file(tmp_path, graded):
    missing = tmp_path / "none.db"
    with pytest.raises(sqlite3.OperationalError):
        adapter.read_only(missing).execute("SELECT 1")
    assert not missing.exists()
    broken = tmp_path / "broken.db"
    broken.write_bytes((graded / "gradebook.db").read_bytes()[:5000])
    with closing(adapter.read_only(broken)) as con, pytest.raises(sqlite3.Error):
        adapter.gradebook_counts(con)


# ---------------------------------------------------------------- the grades, read with SQL
@pytest.fixture
def varied(graded, tmp_path) -> str:
    """A copy of the tiny course's gradebook with every case nbgrader's score expressions tell apart:
    manual score with and without extra credit, auto score with extra credit, neither score, a task
    cell graded by hand, a late penalty split over notebooks, a comment by the trainer."""
    from nbgrader.api import Grade

    shutil.copy(graded / "gradebook.db", tmp_path / "gradebook.db")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "tiny") as gb:
        task = gb.update_or_create_task_cell("plan", "ps1", "ps1", max_score=2.5, cell_type="markdown")
        bob, carol = gb.find_submission("ps1", "bob"), gb.find_submission("ps1", "carol")
        grades = {g.name: g for g in bob.notebooks[0].grades}
        grades["essay"].manual_score, grades["essay"].extra_credit = 2.0, 0.5
        grades["test_answer"].extra_credit = 1.0
        grades["test_share"].manual_score = 0.5
        blank = {g.name: g for g in carol.notebooks[0].grades}["test_answer"]
        blank.auto_score, blank.manual_score = None, None
        gb.db.add(Grade(cell_id=task.id, notebook_id=bob.notebooks[0].id, manual_score=1.5, needs_manual_grade=False))
        bob.notebooks[0].late_submission_penalty = 1.0
        {c.name: c for c in bob.notebooks[0].comments}["essay"].manual_comment = "论据充分"
        gb.db.commit()
    return url


def _api(url: str):
    """Everything the SQL reads, as nbgrader's own API gives it."""
    with Gradebook(url, "tiny") as gb:
        subs = [s for a in gb.assignments for s in a.submissions]
        return {
            "assignments": {(a.name, a.duedate, a.max_score) for a in gb.assignments},
            "students": [(s.id, s.last_name, s.first_name, s.email) for s in sorted(gb.students, key=lambda s: s.id)],
            "cells": {
                kind: {
                    (a.name, nb.name, c.name) for a in gb.assignments for nb in a.notebooks for c in getattr(nb, kind)
                }
                for kind in ("grade_cells", "solution_cells", "task_cells")
            },
            "questions": {
                (a.name, nb.name, c.name, c.cell_type, c.max_score)
                for a in gb.assignments
                for nb in a.notebooks
                for c in nb.grade_cells
            },
            "submissions": {(s.assignment.name, s.student_id, s.timestamp, s.late_submission_penalty) for s in subs},
            "grades": {
                (
                    s.assignment.name,
                    nb.name,
                    s.student_id,
                    g.name,
                    g.auto_score,
                    g.manual_score,
                    g.extra_credit,
                    g.score,
                    g.max_score,
                    g.needs_manual_grade,
                )
                for s in subs
                for nb in s.notebooks
                for g in nb.grades
            },
            "comments": {
                (s.assignment.name, nb.name, s.student_id, c.name, c.auto_comment, c.manual_comment)
                for s in subs
                for nb in s.notebooks
                for c in nb.comments
            },
        }


def test_the_sql_reads_of_the_grades_are_nbgraders_own_values(varied):
    from kamlib.grading.database import reading

    expected = _api(varied)
    with reading(varied) as db:
        assert set(adapter.assignment_rows(db)) == expected["assignments"]
        assert adapter.student_rows(db) == expected["students"]
        for kind in adapter.CELL_KINDS:
            assert set(adapter.cell_rows(db, kind)) == expected["cells"][kind], kind
        assert set(adapter.question_rows(db)) == expected["questions"]
        assert set(adapter.submission_rows(db)) == expected["submissions"]
        assert set(adapter.grade_rows(db)) == expected["grades"]
        assert set(adapter.comment_rows(db)) == expected["comments"]
        # one assignment: the same rows, only its own
        assert set(adapter.grade_rows(db, "ps2")) == {g for g in expected["grades"] if g[0] == "ps2"}
        assert adapter.grade_rows(db, "no such assignment") == []
        # a submission with an autograded test cell left unscored (carol's, above), as nbgrader sees it
        unscored = {(g[2],) for g in expected["grades"] if g[0] == "ps1" and g[3].startswith("test_") and g[4] is None}
        assert adapter.unscored_rows(db, "ps1") == sorted(unscored) == [("carol",)]
        assert adapter.unscored_rows(db, "ps2") == []
    scores = {g[3]: g[7] for g in expected["grades"] if g[:3] == ("ps1", "ps1", "bob")}
    assert scores["essay"] == 2.5 and scores["plan"] == 1.5  # the cases above are really there
    assert ("ps1", "bob", 1.0) in {(a, s, p) for a, s, _t, p in expected["submissions"]}
    assert {g[7] for g in expected["grades"] if g[2] == "carol" and g[3] == "test_answer"} == {0.0}


def test_a_new_gradebook_is_stamped_with_the_head_alembic_reports(tmp_path, monkeypatch):
    import nbgrader.api

    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    reported = nbgrader.api.get_alembic_version()  # nbgrader's own: `alembic heads` in a new process
    assert reported == adapter.schema_head()
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", nbgrader.api.get_alembic_version)  # undone after
    adapter.stamp_in_process()

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}").close()
    with closing(sqlite3.connect(tmp_path / "gradebook.db")) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(reported,)]


def test_stamping_in_process_loads_no_nbgrader_where_none_is_loaded():
    """kam report reads the course's nbgrader_config.py, which calls stamp_in_process, without nbgrader."""
    code = (
        "import sys; from kamlib.grading.nbgrader_adapter import stamp_in_process; stamp_in_process(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nbgrader', 'alembic')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_submissions_are_checked_before_nbgrader_reads_them(monkeypatch, tmp_path):
    """init_destination is where nbgrader's Autograde starts on a submission (in its try block, so an
    error fails that submission alone); the check sees the submitted folder and the size limit."""
    seen = []

    def check(folder, limit):
        seen.append((folder, limit))
        raise RuntimeError("拒收")

    # nbgrader's own (a course config loaded earlier in this process may have wrapped it); undone after
    monkeypatch.setattr(Autograde, "init_destination", inspect.unwrap(Autograde.init_destination))
    adapter.check_submissions_first(check)
    adapter.check_submissions_first(check)  # once is enough: not wrapped twice
    source = inspect.getsource(BaseConverter.convert_notebooks)
    assert source.index("self.init_destination(") < source.index("self.init_assignment(")
    assert source.index("try:") < source.index("self.init_destination(")
    from nbgrader.coursedir import CourseDirectory

    converter = Autograde(coursedir=CourseDirectory(root=str(tmp_path)))
    monkeypatch.setattr(converter, "_format_source", lambda a, s: str(tmp_path / s / a))
    with pytest.raises(RuntimeError, match="拒收"):
        converter.init_destination("ps1", "zed")
    assert seen == [(tmp_path / "zed" / "ps1", 100_000_000)]  # nbgrader's default: 100000 kB
