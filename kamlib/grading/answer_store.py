"""What grading records beside nbgrader's scores: answers, failed submissions, what was judged.

nbgrader's gradebook keeps a score per cell but not what the learner answered, and
nothing about a submission it could not grade. Four tables of kam's own, in the same
database as the gradebook (SQLite or PostgreSQL), keep them:

* ``kam_answer`` — one row per learner × autograded test cell: a short rendering of
  the answer value handed over by the learner's kernel (see :mod:`.answers`), whether
  it was missing, and whether the kernel ran in the sandbox. Written by the
  :class:`~kamlib.grading.preprocessors.SaveAnswers` step of autograding, so plain
  ``nbgrader autograde`` records answers too.
* ``kam_grading_failure`` — one row per learner × assignment that ``kam grade`` could
  not grade, with the Chinese reason; removed when a later run grades it.
* ``kam_judged`` — one row per learner × graded cell: a digest of the answer that grade
  judged when the submission was last autograded (see :mod:`.manual`), so that a
  manual grade of an unchanged answer survives a regrade even when the old autograded
  notebook is gone (an interrupted or failed run removes it).
* ``kam_kept_manual`` — one row per hand-graded cell whose graded status a running
  ``kam grade`` is to give back after the regrade (see :mod:`.manual`): written before the
  regrade, removed once given back, so that a run killed in between still gives it back
  at the next run.

The first two are read by ``kam report``, the last two by ``kam grade``. Reading a gradebook
without these tables gives ``[]`` (``{}`` for the last two).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from .database import reading, sqlite_path

__all__ = [
    "AnswerRecord",
    "GradingFailure",
    "read_answers",
    "read_failures",
    "record_answers",
    "record_failure",
    "clear_failure",
    "record_judged",
    "read_judged",
    "record_kept",
    "read_kept",
    "clear_kept",
    "now_utc",
    "MAX_ANSWER_CHARS",
    "NOT_RUN",
]

MAX_ANSWER_CHARS = 200
#: The answer recorded (as missing) for a test cell that did not run: its kernel had died or been stopped.
NOT_RUN = "（没有运行）"
ANSWERS, FAILURES, JUDGED, KEPT = "kam_answer", "kam_grading_failure", "kam_judged", "kam_kept_manual"
CELL_KEY = ("assignment", "notebook", "student", "grade_id")  # one graded cell of one learner


@functools.cache
def _tables():
    """The four tables as SQLAlchemy tables, for writing (reading needs no SQLAlchemy)."""
    import sqlalchemy as sa

    def cell_key() -> list:
        return [sa.Column(name, sa.String(128), primary_key=True) for name in CELL_KEY]

    meta = sa.MetaData()
    answers = sa.Table(
        ANSWERS,
        meta,
        *cell_key(),
        sa.Column("answer", sa.String(MAX_ANSWER_CHARS), nullable=False),
        sa.Column("missing", sa.Boolean, nullable=False),
        sa.Column("sandboxed", sa.Boolean, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    failures = sa.Table(
        FAILURES,
        meta,
        sa.Column("assignment", sa.String(128), primary_key=True),
        sa.Column("student", sa.String(128), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    judged, kept = (
        sa.Table(
            name,
            meta,
            *cell_key(),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("recorded_at", sa.String(32), nullable=False),
        )
        for name in (JUDGED, KEPT)
    )
    return answers, failures, judged, kept


@dataclass(frozen=True)
class AnswerRecord:
    """One learner's answer to one autograded question."""

    assignment: str
    notebook: str
    student: str
    grade_id: str  # the autograded test cell's grade_id
    answer: str  # short rendering for people; "" when missing
    missing: bool  # the answer variable was not defined
    sandboxed: bool  # False when graded with ``kam grade --no-sandbox``
    recorded_at: str  # ISO 8601 UTC


@dataclass(frozen=True)
class JudgedAnswer:
    """What one graded cell judged (a digest of it): when the submission was last autograded
    (``kam_judged``), or when it was graded by hand (``kam_kept_manual``)."""

    assignment: str
    notebook: str
    student: str
    grade_id: str
    digest: str  # kamlib.grading.manual.digest of the answer
    recorded_at: str  # ISO 8601 UTC


@dataclass(frozen=True)
class GradingFailure:
    """A submission ``kam grade`` could not grade, and why (Chinese)."""

    assignment: str
    student: str
    reason: str
    recorded_at: str  # ISO 8601 UTC


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=8)
def _engine(db_url: str):
    import sqlalchemy as sa

    return sa.create_engine(db_url, poolclass=sa.pool.NullPool)


def _has(conn, table) -> bool:
    import sqlalchemy as sa

    return sa.inspect(conn).has_table(table.name)


def _ensure(engine, table) -> None:
    """Create ``table`` unless it exists, also when other graders try at the same moment.

    Several graders may write to one gradebook at once (``kam grade --jobs``, a stock
    ``nbgrader autograde`` beside it). Checking for a table and creating it are two
    statements, so two of them can both find it missing; the loser's CREATE then fails
    (PostgreSQL: a duplicate key in ``pg_type``; SQLite: "table already exists").
    The creation runs in its own transaction, and that failure counts as done once
    the table is there.
    """
    import sqlalchemy as sa

    try:
        with engine.begin() as conn:
            table.create(conn, checkfirst=True)
    except sa.exc.DBAPIError:
        with engine.connect() as conn:
            if not _has(conn, table):
                raise


def _read(db_url: str, table: str, cls, keys: tuple[str, ...], assignment: str | None) -> list[tuple]:
    """The rows of ``table`` (the columns of ``cls``, in the order of ``keys``); [] when there is no such table."""
    columns = ", ".join(f.name for f in fields(cls))
    where, params = ("", {}) if assignment is None else (" WHERE assignment = :assignment", {"assignment": assignment})
    path = sqlite_path(db_url)
    if path is not None and not path.exists():
        return []  # no gradebook yet, so nothing recorded (and no empty file made)
    with reading(db_url) as db:
        if not db.has_table(table):
            return []
        return db.rows(f"SELECT {columns} FROM {table}{where} ORDER BY {', '.join(keys)}", **params)


def read_answers(db_url: str, assignment: str | None = None) -> list[AnswerRecord]:
    """Every recorded answer (of one assignment), ordered by assignment, notebook, student, cell."""
    rows = _read(db_url, ANSWERS, AnswerRecord, CELL_KEY, assignment)
    return [
        AnswerRecord(a, n, s, g, answer, bool(missing), bool(sandboxed), at)
        for a, n, s, g, answer, missing, sandboxed, at in rows
    ]


def read_failures(db_url: str, assignment: str | None = None) -> list[GradingFailure]:
    """Every submission that could not be graded (of one assignment)."""
    return [
        GradingFailure(*row) for row in _read(db_url, FAILURES, GradingFailure, ("assignment", "student"), assignment)
    ]


def _upsert(conn, table, rows: list[dict]) -> None:
    keys = [c.name for c in table.primary_key.columns]
    for row in rows:
        conn.execute(table.delete().where(*(table.c[k] == row[k] for k in keys)))
    if rows:
        conn.execute(table.insert(), rows)


def record_answers(db_url: str, records: list[AnswerRecord]) -> None:
    """Store ``records``, replacing earlier answers to the same questions by the same learners."""
    rows = [{**r.__dict__, "answer": r.answer[:MAX_ANSWER_CHARS]} for r in records]
    answers = _tables()[0]
    engine = _engine(db_url)
    _ensure(engine, answers)
    with engine.begin() as conn:
        _upsert(conn, answers, rows)


def record_failure(db_url: str, failure: GradingFailure) -> None:
    """Store that one learner's submission of one assignment could not be graded. The same reason
    again keeps its first time, so a run that changes nothing leaves the database as it was."""
    failures = _tables()[1]
    engine = _engine(db_url)
    _ensure(engine, failures)
    with engine.begin() as conn:
        same = failures.c.assignment == failure.assignment, failures.c.student == failure.student
        if conn.execute(failures.select().where(*same, failures.c.reason == failure.reason)).first() is None:
            _upsert(conn, failures, [dict(failure.__dict__)])


def clear_failure(db_url: str, assignment: str, student: str) -> None:
    """Forget a failure once the submission has been graded."""
    failures = _tables()[1]
    with _engine(db_url).begin() as conn:
        if _has(conn, failures):
            conn.execute(failures.delete().where(failures.c.assignment == assignment, failures.c.student == student))


def record_judged(db_url: str, records: list[JudgedAnswer]) -> None:
    """Store what each graded cell judged, replacing the earlier digests of the same cells."""
    judged = _tables()[2]
    engine = _engine(db_url)
    _ensure(engine, judged)
    with engine.begin() as conn:
        _upsert(conn, judged, [dict(r.__dict__) for r in records])


def read_judged(db_url: str, assignment: str, student: str) -> dict[tuple[str, str], str]:
    """(notebook, grade_id) -> digest of what was judged at the learner's last autograde; {} if none recorded."""
    rows = _read(db_url, JUDGED, JudgedAnswer, CELL_KEY, assignment)
    return {(n, g): d for _a, n, s, g, d, _at in rows if s == student}


def _delete_learner(conn, table, assignment: str, student: str) -> None:
    conn.execute(table.delete().where(table.c.assignment == assignment, table.c.student == student))


def record_kept(db_url: str, assignment: str, student: str, records: list[JudgedAnswer]) -> None:
    """Note, before a regrade, the hand-graded cells of one learner whose status it is to give
    back (replacing any earlier note for that learner's submission)."""
    kept = _tables()[3]
    engine = _engine(db_url)
    _ensure(engine, kept)
    with engine.begin() as conn:
        _delete_learner(conn, kept, assignment, student)
        if records:
            conn.execute(kept.insert(), [dict(r.__dict__) for r in records])


def read_kept(db_url: str, assignment: str, student: str) -> dict[tuple[str, str], str]:
    """(notebook, grade_id) -> digest of what the hand grade judged, for the cells a regrade of the
    learner's submission has not given back yet; {} if none."""
    rows = _read(db_url, KEPT, JudgedAnswer, CELL_KEY, assignment)
    return {(n, g): d for _a, n, s, g, d, _at in rows if s == student}


def clear_kept(db_url: str, assignment: str, student: str) -> None:
    """Forget the note once the regrade has given the statuses back."""
    kept = _tables()[3]
    with _engine(db_url).begin() as conn:
        if _has(conn, kept):
            _delete_learner(conn, kept, assignment, student)
