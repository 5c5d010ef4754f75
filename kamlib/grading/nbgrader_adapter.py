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
* ``Autograde.init_destination(assignment_id, student_id)`` is the first thing nbgrader does with
  a submission (it reads the timestamps, then ``init_assignment`` copies every file):
  :func:`check_submissions_first` makes it check the folder before, for plain ``nbgrader
  autograde`` and the formgrader's button too (nbgrader's ``pre_convert_hook`` cannot refuse:
  nbgrader swallows its exceptions);
* a new gradebook is stamped with the revision ``nbgrader.api.get_alembic_version`` returns,
  the head of the migrations in ``nbgrader.dbutil.ALEMBIC_DIR``: :func:`stamp_in_process`
  reads it there instead of running ``alembic heads`` in a new process;
* nbgrader's SQLite tables ``assignment(name, course_id)``, ``student(id)`` and
  ``grade(auto_score, manual_score)`` are read directly by :func:`assignment_names` and
  :func:`gradebook_counts` (fast, and possible on a damaged or foreign file, where the ORM
  raises or would create tables);
* the grades the report reads — assignments, learners, source cells, submissions, grades
  and comments — and the submissions ``kam grade`` must grade again because they were never
  scored are read with plain SQL by the ``*_rows`` functions, which write out the
  scores, points and late penalties nbgrader's ORM computes (importing nbgrader and its
  ORM takes seconds; the SQL takes milliseconds), on SQLite or any database SQLAlchemy reads.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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


def check_submissions_first(check: Callable[[Path, int], None]) -> None:
    """Make nbgrader's ``Autograde`` call ``check(submission folder, CourseDirectory.max_file_size in
    bytes)`` before it reads or copies anything of a submission; what ``check`` raises fails that
    submission alone (its message goes to nbgrader's log). Nothing happens where nbgrader's
    converters are not loaded (a process that only reads the course's configuration)."""
    if "nbgrader.converters" not in sys.modules:
        return
    from nbgrader.converters import Autograde

    original = Autograde.init_destination
    if getattr(original, "_kam_checked", False):
        return

    @functools.wraps(original)
    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        try:
            check(Path(self._format_source(assignment_id, student_id)), self.coursedir.max_file_size * 1000)
        except Exception as refused:
            self.log.error("%s：%s", student_id, refused)
            raise
        return original(self, assignment_id, student_id)

    init_destination._kam_checked = True
    Autograde.init_destination = init_destination


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


@functools.cache
def schema_head() -> str:
    """The newest revision of nbgrader's gradebook migrations, read by alembic in this process."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def stamp_in_process() -> None:
    """Let nbgrader stamp a new gradebook without starting a process.

    nbgrader learns the revision it stamps on a new gradebook by running ``alembic heads``
    in a subprocess (``nbgrader.api.get_alembic_version``): a new Python that imports alembic
    and SQLAlchemy, about 2.7 s of CPU the first time any nbgrader or kam command runs in a new
    course. :func:`schema_head` reads the same migration scripts here in milliseconds.
    ``nbgrader db upgrade`` still runs the ``alembic`` command, as before.

    It changes the nbgrader this process has loaded, and nothing where nbgrader is not loaded:
    a course's nbgrader_config.py calls it, and ``kam report`` reads that file without nbgrader
    (:mod:`kamlib.grading.course_config`).
    """
    api = sys.modules.get("nbgrader.api")
    if api is not None:
        api.get_alembic_version = schema_head


def share_engines() -> None:
    """Let the nbgrader ``Gradebook`` sessions of this process share one database engine per URL.

    nbgrader makes a new SQLAlchemy engine for each of the ten or so gradebook sessions
    of a submission (``nbgrader.api.create_engine`` in ``Gradebook.__init__``), and so
    compiles each of its queries again every time; a shared engine keeps them compiled
    (about a tenth of a second of CPU per submission). ``Gradebook.close`` still disposes
    of the engine's connections.
    """
    import nbgrader.api

    create = nbgrader.api.create_engine

    @functools.cache
    def shared(url: str, options: tuple) -> object:
        return create(url, **dict(options))

    nbgrader.api.create_engine = lambda url, **options: shared(str(url), tuple(sorted(options.items())))


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


# ---------------------------------------------------------------- nbgrader's tables, read with SQL
# The expressions of nbgrader's ORM (nbgrader/api.py) written out: a grade's score is its manual
# score when there is one, else its auto score (either plus its extra credit), else 0; its points
# are those of its grade cell or task cell; an assignment's points are the sum over both kinds of
# cell. A grade cell (task cell, solution cell) is a base_cell row with a grade_cells
# (task_cells, solution_cells) row of the same id.
_ASSIGNMENT_POINTS = """
    (SELECT COALESCE(SUM(gc.max_score), 0.0) FROM grade_cells gc JOIN base_cell bc ON bc.id = gc.id
        JOIN notebook n ON bc.notebook_id = n.id WHERE n.assignment_id = a.id)
  + (SELECT COALESCE(SUM(tc.max_score), 0.0) FROM task_cells tc JOIN base_cell bc ON bc.id = tc.id
        JOIN notebook n ON bc.notebook_id = n.id WHERE n.assignment_id = a.id)"""
_GRADE_SCORE = """CASE
    WHEN x.manual_score IS NOT NULL THEN x.manual_score + COALESCE(x.extra_credit, 0.0)
    WHEN x.auto_score IS NOT NULL THEN x.auto_score + COALESCE(x.extra_credit, 0.0)
    ELSE 0.0 END"""
_SOURCE_CELL = " JOIN notebook n ON bc.notebook_id = n.id JOIN assignment a ON n.assignment_id = a.id"
_SUBMITTED_CELL = """
    JOIN submitted_notebook sn ON x.notebook_id = sn.id
    JOIN notebook n ON sn.notebook_id = n.id
    JOIN submitted_assignment sa ON sn.assignment_id = sa.id
    JOIN assignment a ON sa.assignment_id = a.id
    JOIN base_cell bc ON x.cell_id = bc.id"""
CELL_KINDS = ("grade_cells", "solution_cells", "task_cells")


class Rows(Protocol):
    def rows(self, sql: str, **params: object) -> list[tuple]: ...


def _of(db: Rows, sql: str, assignment: str | None, tail: str = "") -> list[tuple]:
    """Rows of ``sql`` + ``tail`` (whose assignment table is ``a``), of one assignment or all."""
    if assignment is None:
        return db.rows(f"{sql}{tail}")
    return db.rows(f"{sql} WHERE a.name = :assignment{tail}", assignment=assignment)


def as_datetime(value: object) -> datetime | None:
    """A time column as nbgrader reads it: a naive UTC datetime (SQLite keeps SQLAlchemy's text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def assignment_rows(db: Rows) -> list[tuple]:
    """(name, duedate, points) of every assignment in the database (nbgrader's own queries do not
    filter by course either)."""
    rows = db.rows(f"SELECT a.name, a.duedate, {_ASSIGNMENT_POINTS} FROM assignment a")
    return [(name, as_datetime(due), points) for name, due, points in rows]


def learner_count(db: Rows) -> int:
    """How many learners nbgrader's ``student`` table holds."""
    return db.rows("SELECT COUNT(*) FROM student")[0][0]


def student_rows(db: Rows) -> list[tuple]:
    """(id, last_name, first_name, email) of every learner, by id."""
    return db.rows("SELECT id, last_name, first_name, email FROM student ORDER BY id")


def cell_rows(db: Rows, kind: str, assignment: str | None = None) -> list[tuple]:
    """(assignment, notebook, cell) of the source cells of ``kind`` (one of :data:`CELL_KINDS`)."""
    if kind not in CELL_KINDS:
        raise ValueError(kind)
    return _of(
        db, f"SELECT a.name, n.name, bc.name FROM {kind} k JOIN base_cell bc ON bc.id = k.id{_SOURCE_CELL}", assignment
    )


def question_rows(db: Rows, assignment: str | None = None) -> list[tuple]:
    """(assignment, notebook, cell, cell_type, points) of every grade cell."""
    return _of(
        db,
        "SELECT a.name, n.name, bc.name, k.cell_type, k.max_score FROM grade_cells k"
        f" JOIN base_cell bc ON bc.id = k.id{_SOURCE_CELL}",
        assignment,
    )


def submission_rows(db: Rows, assignment: str | None = None) -> list[tuple]:
    """(assignment, student, timestamp, late penalty) of every submission, the penalty summed over
    its notebooks (nbgrader's ``SubmittedAssignment.late_submission_penalty``)."""
    rows = _of(
        db,
        "SELECT a.name, sa.student_id, sa.timestamp, COALESCE(SUM(sn.late_submission_penalty), 0.0)"
        " FROM submitted_assignment sa JOIN assignment a ON sa.assignment_id = a.id"
        " LEFT JOIN submitted_notebook sn ON sn.assignment_id = sa.id",
        assignment,
        " GROUP BY sa.id, a.name, sa.student_id, sa.timestamp",
    )
    return [(a, s, as_datetime(ts), penalty) for a, s, ts, penalty in rows]


def grade_rows(db: Rows, assignment: str | None = None) -> list[tuple]:
    """(assignment, notebook, student, cell, auto_score, manual_score, extra_credit, score, points,
    needs_manual_grade) of every grade, score and points as nbgrader's ``Grade`` has them."""
    rows = _of(
        db,
        f"SELECT a.name, n.name, sa.student_id, bc.name, x.auto_score, x.manual_score, x.extra_credit, {_GRADE_SCORE},"
        f" COALESCE(gc.max_score, tc.max_score, 0.0), x.needs_manual_grade FROM grade x {_SUBMITTED_CELL}"
        " LEFT JOIN grade_cells gc ON gc.id = x.cell_id LEFT JOIN task_cells tc ON tc.id = x.cell_id",
        assignment,
    )
    return [(*r[:9], bool(r[9])) for r in rows]


def unscored_rows(db: Rows, assignment: str) -> list[tuple]:
    """(student,) of each submission of ``assignment`` holding an autograded test cell without a score:
    nbgrader recorded the submission, but its run failed before ``SaveAutoGrades`` scored it
    (that step gives every code grade cell that is not an answer cell a score, 0 at worst)."""
    return _of(
        db,
        f"SELECT DISTINCT sa.student_id FROM grade x {_SUBMITTED_CELL}"
        " JOIN grade_cells gc ON gc.id = x.cell_id LEFT JOIN solution_cells sc ON sc.id = x.cell_id",
        assignment,
        " AND gc.cell_type = 'code' AND sc.id IS NULL AND x.auto_score IS NULL",
    )


def comment_rows(db: Rows, assignment: str | None = None) -> list[tuple]:
    """(assignment, notebook, student, cell, auto_comment, manual_comment) of every comment."""
    return _of(
        db,
        f"SELECT a.name, n.name, sa.student_id, bc.name, x.auto_comment, x.manual_comment FROM comment x {_SUBMITTED_CELL}",
        assignment,
    )
