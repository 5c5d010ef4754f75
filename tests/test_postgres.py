"""The gradebook on PostgreSQL: several graders at once, and the same grades as on SQLite.

A small cohort of ex01_concepts is graded on the embedded SQLite gradebook (the course's
default) and on a real PostgreSQL server that the ``postgres_url`` fixture starts in a
temporary directory (see tests/support/postgres.py). Every grade — per student, notebook and cell,
read back through nbgrader's own ``Gradebook`` — must be the same, also when several
graders (``kam grade --jobs 2`` and a stock ``nbgrader autograde``, for disjoint
students) write to the one PostgreSQL gradebook at the same time.

Without the PostgreSQL server binaries (Debian: ``apt-get install postgresql``) or the
psycopg2 driver these tests are skipped on a user's machine, and fail on CI (CI=true).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import tool_env
from tests.support.courses import EXERCISES, copy_clean_course
from tests.support.postgres import MissingPostgres, PostgresServer
from tests.support.submissions import Case, Kit

pytestmark = pytest.mark.postgres

ASSIGNMENT = "ex01_concepts"
COURSE_ID = "kam_course"
PG_DATABASE = "kam_course"
KAM = str(Path(sys.executable).parent / "kam")
NBGRADER = str(Path(sys.executable).parent / "nbgrader")
# Two groups of students, so two graders can each take one group (--student=a_* / b_*).
GROUPS = ("a_*", "b_*")


# ------------------------------------------------------------------ the server
@pytest.fixture(scope="session")
def postgres_server(skip_or_fail):
    """A PostgreSQL server in a temporary directory, for the whole session."""
    try:
        import psycopg2  # noqa: F401  (the driver nbgrader's SQLAlchemy will load)
    except ImportError:
        skip_or_fail("the PostgreSQL driver psycopg2 is not installed (pip install psycopg2-binary)")
    try:
        server = PostgresServer.start()
    except MissingPostgres as error:
        skip_or_fail(f"PostgreSQL tests cannot run: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """The SQLAlchemy URL of an empty database on the session's PostgreSQL server.

    The server (and with it the database) is stopped and deleted at the end of the session.
    """
    return postgres_server.create_database(PG_DATABASE)


# ------------------------------------------------------------------ the cohort
def point_at(course: Path, db_url: str) -> None:
    """Move the course's gradebook to ``db_url``: the one line a trainer adds to nbgrader_config.py."""
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")


def start_nbgrader(course: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [NBGRADER, *args], cwd=course, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_all(*processes: subprocess.Popen) -> None:
    """Wait for processes started together; each must succeed."""
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"{process.args}:\n{(out + err)[-3000:]}"


def snapshot(db_url: str, assignment: str = ASSIGNMENT) -> dict:
    """Everything graded of ``assignment``: {student: {"score": …, "notebooks": {notebook:
    {notebook totals…, "grades": {cell: (auto, manual, extra, max, needs manual, failed)},
    "comments": {cell: (auto, manual)}}}}}, read through nbgrader's Gradebook."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(db_url, COURSE_ID) as gb:
        for sub in gb.assignment_submissions(assignment):
            notebooks = {}
            for nb in sub.notebooks:
                notebooks[nb.name] = {
                    "score": nb.score,
                    "max_score": nb.max_score,
                    "code_score": nb.code_score,
                    "written_score": nb.written_score,
                    "needs_manual_grade": nb.needs_manual_grade,
                    "failed_tests": nb.failed_tests,
                    "flagged": nb.flagged,
                    "grades": {
                        g.name: (
                            g.auto_score,
                            g.manual_score,
                            g.extra_credit,
                            g.max_score,
                            g.needs_manual_grade,
                            g.failed_tests,
                        )
                        for g in nb.grades
                    },
                    "comments": {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments},
                }
            result[sub.student_id] = {
                "score": sub.score,
                "max_score": sub.max_score,
                "needs_manual_grade": sub.needs_manual_grade,
                "notebooks": notebooks,
            }
    return result


def assert_same_grades(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected), "students differ"
    for student in expected:
        assert actual[student] == expected[student], f"grades of {student} differ"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, postgres_server, postgres_url) -> dict:
    """The cohort graded by stock ``nbgrader autograde`` on SQLite and on PostgreSQL
    (the two runs at the same time), and an ungraded copy on a fresh PostgreSQL gradebook.

    Four students of ASSIGNMENT: right, blank, half right, half right with the tests
    edited to pass (one with a Chinese id). Students a_* and b_* are two groups that two
    graders can take at once.
    """
    base = tmp_path_factory.mktemp("pg")
    sqlite_course = copy_clean_course(EXERCISES, base / "sqlite")
    pg_course = copy_clean_course(EXERCISES, base / "postgres")
    point_at(pg_course, postgres_url)
    wait_all(*(start_nbgrader(c, "generate_assignment", "--force", ASSIGNMENT) for c in (sqlite_course, pg_course)))

    kit = Kit(sqlite_course, ASSIGNMENT)
    half = kit.solved(kit.first_half)
    cohort = {
        "a_right": Case(kit.solved(), expected=kit.full()),
        "a_blank": Case(copy.deepcopy(kit.release), expected=kit.zero()),
        "b_张伟_half": Case(half, expected=kit.only(kit.first_half)),
        "b_tests_edited": Case(kit.replace_tests(half), expected=kit.only(kit.first_half)),
    }
    for course in (sqlite_course, pg_course):
        for student, case in cohort.items():
            case.write(course, student, ASSIGNMENT)

    # Released, submitted, nothing graded: a copy of the course and of its PostgreSQL gradebook.
    fresh_url = postgres_server.create_database("kam_fresh", copy_of=PG_DATABASE)
    fresh_course = base / "fresh"
    shutil.copytree(sqlite_course, fresh_course, ignore=shutil.ignore_patterns("gradebook.db"))
    point_at(fresh_course, fresh_url)

    wait_all(*(start_nbgrader(c, "autograde", ASSIGNMENT) for c in (sqlite_course, pg_course)))
    return {
        "cohort": cohort,
        "sqlite": snapshot(f"sqlite:///{sqlite_course / 'gradebook.db'}"),
        "postgres": snapshot(postgres_url),
        "sqlite_course": sqlite_course,
        "postgres_course": pg_course,
        "fresh_course": fresh_course,
        "fresh_url": fresh_url,
    }


# ------------------------------------------------------------------ the tests
def test_sqlite_run_gives_the_deserved_scores(runs):
    grades = runs["sqlite"]
    assert sorted(grades) == sorted(runs["cohort"])
    for student, case in runs["cohort"].items():
        cells = grades[student]["notebooks"][ASSIGNMENT]["grades"]
        assert {gid: cells[gid][0] for gid in case.expected} == case.expected, student


def test_postgres_grades_equal_sqlite(runs):
    assert not (runs["postgres_course"] / "gradebook.db").exists()  # the config line moved it
    assert_same_grades(runs["postgres"], runs["sqlite"])


def test_the_report_reads_postgres_as_it_reads_sqlite(runs, tmp_path):
    """kam report reads a PostgreSQL gradebook through SQLAlchemy, a SQLite one directly: same tables."""
    for name in ("sqlite", "postgres"):
        done = subprocess.run(
            [KAM, "report", "--out", str(tmp_path / name)],
            cwd=runs[f"{name}_course"],
            env=tool_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    for table in ("answers.csv", "items.csv", "report.csv"):
        assert (tmp_path / "postgres" / table).read_bytes() == (tmp_path / "sqlite" / table).read_bytes(), table


def test_graders_writing_at_once_lose_nothing(runs):
    """Group a by ``kam grade --jobs 2`` (two worker processes), group b by a stock
    ``nbgrader autograde`` — three writers on one PostgreSQL gradebook at the same time.
    Without kam, two stock nbgrader processes."""
    course = runs["fresh_course"]
    if Path(KAM).exists():
        first = subprocess.Popen(
            [KAM, "grade", ASSIGNMENT, "--jobs", "2", "--student", "a_right", "a_blank"],
            cwd=course,
            env=tool_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    else:
        first = start_nbgrader(course, "autograde", ASSIGNMENT, f"--student={GROUPS[0]}")
    second = start_nbgrader(course, "autograde", ASSIGNMENT, f"--student={GROUPS[1]}")
    wait_all(first, second)
    assert not (course / "gradebook.db").exists()
    assert_same_grades(snapshot(runs["fresh_url"]), runs["sqlite"])


def test_graders_creating_kam_tables_at_once_all_record(postgres_server):
    """Eight graders store their first answers in a gradebook without kam's tables, at once.

    Each finds the table missing and tries to create it; the losers' CREATE fails on
    PostgreSQL (a duplicate key in ``pg_type``). Every grader's answer must be stored.
    """
    import threading

    from kamlib.grading.answer_store import AnswerRecord, read_answers, record_answers

    url = postgres_server.create_database("kam_race")
    start = threading.Barrier(8)
    errors = []

    def grader(n: int) -> None:
        record = AnswerRecord(
            ASSIGNMENT, ASSIGNMENT, f"s{n}", "q1_test", "'B'", False, True, "2026-01-01T00:00:00+00:00"
        )
        start.wait()
        try:
            record_answers(url, [record])
        except Exception as error:  # noqa: BLE001  (reported below, with every other grader's)
            errors.append(error)

    threads = [threading.Thread(target=grader, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.student for r in read_answers(url)) == [f"s{n}" for n in range(8)]
