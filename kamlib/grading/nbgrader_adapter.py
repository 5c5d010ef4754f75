"""Every place kam reaches into nbgrader's internals, so that an nbgrader upgrade is one file.

Each assumption about nbgrader (0.9) made here has its own test in
tests/test_nbgrader_adapter.py:

* converter hooks — ``init_destination(assignment_id, student_id) -> bool``,
  ``init_assignment`` and ``convert_single_notebook`` — are overridden by
  :class:`TrackedAutograde` and :class:`TrackedFeedback`, which behave exactly like nbgrader's
  converters and only record whether the submission was processed (or skipped as already
  done) and the exception a notebook failed with, which nbgrader itself only logs;
* ``Gradebook.__init__`` opens and ``Gradebook.close`` ends a database session:
  :func:`serialise_gradebook` patches them so that parallel graders take turns;
* nbgrader's SQLite tables ``assignment(name, course_id)``, ``student(id)`` and
  ``grade(auto_score, manual_score)`` are read directly by :func:`assignment_names` and
  :func:`gradebook_counts` (fast, and possible on a damaged or foreign file, where the ORM
  raises or would create tables).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class _Tracked:
    processed: bool | None = None
    error: BaseException | None = None
    failed_notebook: str | None = None

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        self.processed = super().init_destination(assignment_id, student_id)
        return self.processed

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        try:
            super().init_assignment(assignment_id, student_id)
        except Exception as exc:
            self.error = exc
            raise

    def convert_single_notebook(self, notebook_filename: str) -> None:
        try:
            super().convert_single_notebook(notebook_filename)
        except Exception as exc:
            self.error, self.failed_notebook = exc, os.path.basename(notebook_filename)
            raise


@functools.cache
def _tracked(name: str) -> type:
    from nbgrader import converters

    base = getattr(converters, name)
    return type(
        f"Tracked{name}",
        (_Tracked, base),
        {
            "__doc__": f"nbgrader's ``{name}`` (configured by the ``{name}`` section), remembering what it did.",
            "__module__": __name__,
        },
    )


def __getattr__(name: str) -> type:
    """``TrackedAutograde`` and ``TrackedFeedback``, made on first use: importing this module does not
    import nbgrader's converters (seconds), which the SQL helpers below do not need."""
    if name == "TrackedAutograde":
        return _tracked("Autograde")
    if name == "TrackedFeedback":
        return _tracked("GenerateFeedback")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Lock(Protocol):
    def acquire(self) -> None: ...
    def release(self) -> None: ...


def serialise_gradebook(lock: Lock) -> None:
    """Make every nbgrader Gradebook session in this process hold ``lock`` until closed."""
    from nbgrader.api import Gradebook

    init, close = Gradebook.__init__, Gradebook.close

    @functools.wraps(init)
    def locked_init(self, *args, **kwargs):
        lock.acquire()
        self._kam_locked = True
        try:
            init(self, *args, **kwargs)
        except BaseException:
            self._kam_locked = False
            lock.release()
            raise

    @functools.wraps(close)
    def unlocking_close(self):
        try:
            close(self)
        finally:
            if self.__dict__.pop("_kam_locked", False):
                lock.release()

    Gradebook.__init__ = locked_init
    Gradebook.close = unlocking_close


def read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the SQLite gradebook at ``path`` (never creates or changes it)."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def assignment_names(con: sqlite3.Connection, course_id: str | None = None) -> list[str]:
    """The assignments nbgrader's ``assignment`` table holds (of ``course_id`` when given), sorted."""
    if course_id is None:
        rows = con.execute("SELECT name FROM assignment").fetchall()
    else:
        rows = con.execute("SELECT name FROM assignment WHERE course_id = ?", (course_id,)).fetchall()
    return sorted(r[0] for r in rows)


@dataclass(frozen=True)
class GradebookCounts:
    """What a gradebook holds, counted in nbgrader's tables."""

    assignments: tuple[str, ...]
    learners: int
    grades: int  # grades with a score (autograded or by hand)
    manual: int  # grades given by hand


def gradebook_counts(con: sqlite3.Connection) -> GradebookCounts:
    """Count assignments, learners, scored grades and manual grades; sqlite3.Error on a bad file."""
    if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        raise sqlite3.DatabaseError("quick_check")
    learners = con.execute("SELECT COUNT(*) FROM student").fetchone()[0]
    grades = con.execute(
        "SELECT COUNT(*) FROM grade WHERE auto_score IS NOT NULL OR manual_score IS NOT NULL"
    ).fetchone()[0]
    manual = con.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL").fetchone()[0]
    return GradebookCounts(tuple(assignment_names(con)), learners, grades, manual)
