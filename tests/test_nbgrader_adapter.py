"""One test per assumption kamlib.grading.nbgrader_adapter makes about nbgrader's internals.

When nbgrader is upgraded and one of these fails, the adapter (and only the adapter) needs
changing; the test's name says which assumption broke.
"""

from __future__ import annotations

import inspect
import shutil
import sqlite3
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
