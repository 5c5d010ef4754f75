"""Autograde a cohort in parallel with exactly nbgrader's scores.

Design
------
nbgrader grades submissions one after another (its issue #174). Almost all of
that time is spent waiting for a kernel to start and run the notebook; the
gradebook work is a few milliseconds per notebook. So:

* A pool of ``jobs`` long-lived worker processes each load the course's nbgrader
  configuration once and run nbgrader's own ``Autograde`` converter — unchanged,
  so sanitising, execution, timeouts, late penalties and score saving are
  nbgrader's — for one student at a time (``nbgrader autograde A --student S``
  without paying the ~3 s start-up of a fresh ``nbgrader`` process per student).
  On Linux the workers are forked from this process, which has nbgrader imported.
* SQLite allows one writer. Every nbgrader ``Gradebook`` session opened in a
  worker holds an inter-process file lock from construction to ``close()``, so
  the workers' gradebook sessions never overlap, while their kernels run in
  parallel. The database URL also gets a 60 s busy timeout, for a formgrader
  that may have the gradebook open at the same time.
* One submission is one task: an exception in it becomes a Chinese reason in its
  :class:`Outcome` and the others go on. Should a worker process die, the pool is
  rebuilt, the submissions it had not started are queued again and those it had
  are regraded one at a time, to find the one that kills its worker.
* Ctrl-C stops the workers the way nbgrader stops: the partial output of the
  submissions being graded is removed, so the next run grades them again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from nbgrader.api import Gradebook
from nbgrader.converters.base import NbGraderException

from .answer_store import (
    GradingFailure,
    JudgedAnswer,
    clear_failure,
    clear_kept,
    now_utc,
    read_judged,
    read_kept,
    record_failure,
    record_kept,
)
from .backup import backup_gradebook
from .course import Course, KamError, load_app, with_busy_timeout
from .database import reading
from .failures import RefusedSubmission, execution_notes, explain_failure, no_notebook_reason, refuse_unreadable_files
from .nbgrader_adapter import TrackedAutograde, serialise_gradebook, share_engines, unscored_rows
from .preprocessors import secure_autograde, start_kernel_early, stop_early_kernels

Status = Literal["graded", "skipped", "failed"]
MAX_BREAKS = 3  # a submission caught in more broken pools than this is given up


@dataclass
class Outcome:
    """What happened to one student's submission."""

    student: str
    status: Status
    reason: str = ""  # Chinese; set when failed
    notes: list[str] = field(default_factory=list)  # Chinese; graded but worth a look
    log: str = ""  # nbgrader's log of this submission
    seconds: float = 0.0


@dataclass
class GradeRun:
    """The result of grading one assignment."""

    assignment: str
    jobs: int
    outcomes: list[Outcome]
    seconds: float
    backup: Path | None  # the copy of the gradebook as it was before this run
    stale: list[str] = field(default_factory=list)  # regraded: the gradebook had lost (or held older) grades
    damaged: list[str] = field(default_factory=list)  # regraded: the last result's timestamp.txt was unreadable
    no_timestamp: list[str] = field(default_factory=list)  # skipped: newer files but no timestamp.txt

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)


def grade_assignment(
    course: Course,
    assignment: str,
    *,
    jobs: int | None = None,
    students: list[str] | None = None,
    force: bool = False,
    quiet: bool = True,
    sandbox: bool = True,
    on_start: Callable[[int, int, Path | None], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> GradeRun:
    """Autograde every submission of ``assignment`` (or only ``students``) with ``jobs`` workers.

    Like ``nbgrader autograde``, already graded submissions are skipped unless
    ``force`` is set or the submission is newer; a submission whose autograded folder
    exists but whose grades the gradebook no longer holds (a gradebook restored or
    rebuilt) is graded again. When anything is to be graded the gradebook is backed up
    first (:mod:`.backup`). Manual grades of unchanged answers keep their graded status
    (:mod:`.manual`). Learner kernels run in the sandbox unless ``sandbox`` is False; where
    the sandbox cannot start, nothing is graded. ``on_start`` receives the number of
    submissions, the number of worker processes and the backup; ``on_outcome`` each
    result as it arrives. Raises
    :class:`~kamlib.grading.course.KamError` for an unknown assignment, when nothing
    was submitted, or when the sandbox cannot start. Failed submissions are recorded
    for ``kam report`` (:mod:`.answer_store`); graded ones lose their old failure.
    """
    started = time.monotonic()
    course.require_assignment(assignment)
    submissions = course.require_submissions(assignment, students)
    misnamed = [s for s in submissions if not _is_text(s)]  # nbgrader and the gradebook need text ids
    todo = [s for s, folder in submissions.items() if s not in misnamed and any(folder.glob("*.ipynb"))]
    with ThreadPoolExecutor(max_workers=1) as background:  # the sandbox check waits for a probe process
        checked = background.submit(require_sandbox, course) if sandbox else None
        if todo:
            import kamlib.checks  # noqa: F401  (what the test cells import, loaded once before the workers fork)
        if checked:
            checked.result()
    expected = course.expected_notebooks(assignment)
    unreadable = {s: r for s in todo if (r := _unreadable(course.coursedir, assignment, s))}
    todo = [s for s in todo if s not in unreadable]
    forced, stale, damaged, no_timestamp = _plan(course, assignment, todo, force)
    writes = bool(forced) or len(todo) < len(submissions) or any(_newer(course.coursedir, assignment, s) for s in todo)
    backup = backup_gradebook(course.db_path) if course.db_path and writes else None
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    if on_start:
        on_start(len(submissions), jobs, backup)
    outcomes: list[Outcome] = []

    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    for student, folder in submissions.items():
        if student in misnamed:
            done(Outcome(_shown(student), "failed", reason=_misnamed_reason(folder, assignment)))
        elif student in unreadable:
            done(Outcome(student, "failed", reason=unreadable[student]))
        elif student not in todo:  # nbgrader would stop at "No notebooks were matched" without writing anything
            done(Outcome(student, "failed", reason=no_notebook_reason(folder, expected, course.root)))

    if todo:
        _run_pool(course, assignment, todo, expected, jobs, forced, quiet, sandbox, done)
    outcomes.sort(key=lambda o: o.student)
    _record_outcomes(course, assignment, outcomes)
    no_timestamp = [o.student for o in outcomes if o.status == "skipped" and o.student in no_timestamp]
    return GradeRun(assignment, jobs, outcomes, time.monotonic() - started, backup, stale, damaged, no_timestamp)


def _folders(cd, assignment: str, student: str) -> tuple[Path, Path]:
    """The submitted and autograded folders of one submission (``cd``: nbgrader's CourseDirectory)."""
    return (
        Path(cd.format_path(cd.submitted_directory, student, assignment)),
        Path(cd.format_path(cd.autograded_directory, student, assignment)),
    )


def _is_text(student: str) -> bool:
    """False for a folder name that is not valid UTF-8 (Python keeps its bytes as surrogates)."""
    try:
        student.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(student: str) -> str:
    """A printable form of a folder name that is not valid UTF-8: its odd bytes as \\xNN."""
    return os.fsencode(student).decode("utf-8", "backslashreplace")


def _misnamed_reason(folder: Path, assignment: str) -> str:
    return (
        f"学员文件夹名“{_shown(folder.parent.name)}”不是有效的 UTF-8 文字（可能是在别的系统上解压时乱了码），未评分；"
        f"请把文件夹 {_shown(str(folder.parent))} 改名为学员编号，再运行 kam grade {assignment}"
    )


#: Submission times before this, or more than a day after now, are no real hand-in time (and
#: the earliest and latest that Python can hold crash the local times of ``kam export``).
EARLIEST_SUBMISSION = datetime(2000, 1, 1)


def _unreadable(cd, assignment: str, student: str) -> str | None:
    """Why the submission cannot be read at all, or None: a file that is not a regular file (a
    named pipe would hang every reader, a device never ends), files larger in all than nbgrader's
    ``CourseDirectory.max_file_size`` (nbgrader copies them whole, sparse or linked ones too), a
    ``timestamp.txt`` nbgrader's reader fails on or that holds no possible hand-in time."""
    submitted, _ = _folders(cd, assignment, student)
    again = f"再运行 kam grade {assignment} --student {student}"
    try:
        refuse_unreadable_files(submitted, cd.max_file_size * 1000)  # nbgrader counts kilobytes of 1000 bytes
    except RefusedSubmission as refused:
        return f"{refused}，{again}"
    try:
        handed_in = cd.get_existing_timestamp(str(submitted))
    except Exception:  # noqa: BLE001 - nbgrader's reader fails on text it cannot parse, in more than one way
        handed_in = EARLIEST_SUBMISSION - timedelta(days=1)
    latest = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)  # nbgrader's times are naive UTC
    if handed_in is not None and not EARLIEST_SUBMISSION <= handed_in <= latest:
        try:
            text = (submitted / "timestamp.txt").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = "无法读取"
        return (
            f"提交文件夹中的 timestamp.txt 不是有效的提交时间（内容为“{text[:40]}”），未评分；请把它改成提交时间"
            f"（例如 2025-03-01 09:00:00 UTC）或删除它，{again}"
        )
    return None


def _newer(cd, assignment: str, student: str) -> bool:
    """True when nbgrader will (re)grade the submission without --force: never graded, or newer."""
    submitted, autograded = _folders(cd, assignment, student)
    if not autograded.exists():
        return True
    old = _graded_timestamp(cd, autograded)
    if old is _DAMAGED:
        return True
    new = cd.get_existing_timestamp(str(submitted))
    return new is not None and old is not None and new > old


_DAMAGED = object()


def _graded_timestamp(cd, autograded: Path):
    """The time of the submission an autograded folder holds the result of: a datetime, None (no
    timestamp.txt), or ``_DAMAGED`` where nbgrader's reader fails on the file (it then fails the
    whole run); only the trainer's side writes there, so it is a damaged result, graded again."""
    try:
        return cd.get_existing_timestamp(str(autograded))
    except Exception:  # noqa: BLE001 - nbgrader's reader fails on text it cannot parse, in more than one way
        return _DAMAGED


def _plan(
    course: Course, assignment: str, students: list[str], force: bool
) -> tuple[set[str], list[str], list[str], list[str]]:
    """(students to grade with force, those among them whose grades the gradebook lost or holds
    for an older submission, those among them whose last result has an unreadable timestamp,
    those skipped for want of a timestamp).

    A submission already graded on disk but absent from the gradebook, recorded there with
    an older timestamp (a gradebook restored from a backup taken before a resubmission was
    graded) or recorded but never scored (restored from a backup taken after a run that failed
    on it), would be skipped by nbgrader and keep missing, old or no grades; it is graded again
    instead. A submission whose notebooks changed after grading but that has no
    ``timestamp.txt`` is skipped by nbgrader (it cannot tell it is newer); the trainer is told.
    """
    with course.gradebook() as gb:
        try:
            known = {s.student.id: s.timestamp for s in gb.find_assignment(assignment).submissions}
        except Exception:  # noqa: BLE001 - an assignment without submissions
            known = {}
    with reading(course.db_url) as db:
        unscored = {student for (student,) in unscored_rows(db, assignment)}
    stale, damaged, no_timestamp = [], [], []
    for student in students:
        submitted, autograded = _folders(course.coursedir, assignment, student)
        if not autograded.exists():
            continue
        handed_in = course.coursedir.get_existing_timestamp(str(submitted))
        graded_on_disk = _graded_timestamp(course.coursedir, autograded)
        if graded_on_disk is _DAMAGED:
            damaged.append(student)
        elif (
            student not in known
            or student in unscored
            or (handed_in is not None and graded_on_disk == handed_in != known[student])
        ):
            stale.append(student)
        elif not (submitted / "timestamp.txt").is_file() and not force and _changed_since(submitted, autograded):
            no_timestamp.append(student)
    forced = set(students) if force else set(stale) | set(damaged)
    return forced, stale, damaged, no_timestamp


def _changed_since(submitted: Path, autograded: Path) -> bool:
    graded = [p.stat().st_mtime for p in autograded.glob("*.ipynb")]
    return bool(graded) and any(p.stat().st_mtime > min(graded) for p in submitted.glob("*.ipynb"))


def require_sandbox(course: Course) -> None:
    """Raise KamError (one Chinese sentence) unless the course's sandbox starts on this machine."""
    from .sandbox import Sandbox, doctor

    failed = [check for check in doctor(Sandbox(config=course.app.config), imports=False) if not check.ok]
    if failed:
        raise KamError(
            f"无法在沙箱中运行学员代码（{failed[0].name}：{failed[0].detail}），所以没有评分。"
            "运行 kam doctor 查看详情；确需不用沙箱评分时可加 --no-sandbox（不推荐）。"
        )


def _record_outcomes(course: Course, assignment: str, outcomes: list[Outcome]) -> None:
    """Record each failure (and set aside the feedback of the learner's earlier submission, so
    that ``nbgrader release_feedback`` does not send it as current); a success ends one."""
    from .feedback import set_aside

    for outcome in outcomes:
        if outcome.status == "failed":
            record_failure(course.db_url, GradingFailure(assignment, outcome.student, outcome.reason, now_utc()))
            moved = set_aside(course, assignment, outcome.student)
            if moved is not None:
                where = os.path.relpath(moved, course.root)
                outcome.notes.append(f"上一份提交的旧反馈已移到 {where}（nbgrader release_feedback 不会发出它）")
        else:  # graded, or its result on disk is current: an earlier failure is over
            clear_failure(course.db_url, assignment, outcome.student)


def _run_pool(course, assignment, students, expected, jobs, forced, quiet, sandbox, done) -> None:
    """Grade ``students`` in a process pool, surviving the death of a worker process.

    When a worker dies the pool breaks and every unfinished task with it. Those not
    yet started go back in the queue; those started are graded again one at a time
    in a pool of their own (with force: a killed worker may have left a partial
    autograded folder), so the one that kills its worker is found and reported.
    On Ctrl-C the workers are stopped and, as nbgrader does, the autograded folders
    of the submissions being graded are removed, so a re-run grades them again.
    """
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    finished: set[str] = set()

    def record(outcome: Outcome) -> None:
        finished.add(outcome.student)
        done(outcome)

    with tempfile.TemporaryDirectory(prefix="kam-grade-") as tmp:
        scratch = Path(tmp)
        initargs = (str(course.root), str(scratch), quiet, sandbox)
        queue, suspects, breaks = list(students), [], dict.fromkeys(students, 0)
        try:
            while queue or suspects:
                if suspects:
                    batch, width = [suspects.pop(0)], 1
                    batch_force = set(batch)
                else:
                    batch, width, batch_force, queue = queue, jobs, forced, []
                for student in _run_batch(
                    context, initargs, assignment, batch, min(width, len(batch)), batch_force, expected, record
                ):
                    breaks[student] += 1
                    if breaks[student] > MAX_BREAKS:
                        record(Outcome(student, "failed", reason="评分进程反复意外退出，未评分"))
                    elif not _started(scratch, student).exists():
                        queue.append(student)
                    elif width > 1:
                        suspects.append(student)
                    else:
                        record(
                            Outcome(
                                student,
                                "failed",
                                reason="评分进程在评这份作业时意外退出（可能是内存耗尽或代码使 Python 崩溃），未评分",
                            )
                        )
                for marker in scratch.glob("started-*"):
                    marker.unlink()
        except BaseException:
            cd = course.coursedir
            for student in students:
                if student not in finished and _started(scratch, student).exists():
                    shutil.rmtree(cd.format_path(cd.autograded_directory, student, assignment), ignore_errors=True)
            raise


def _run_batch(context, initargs, assignment, students, width, forced, expected, done) -> list[str]:
    """Grade ``students`` with ``width`` workers; return those left unfinished by a broken pool."""
    unfinished = []
    pool = ProcessPoolExecutor(max_workers=width, mp_context=context, initializer=_init_worker, initargs=initargs)
    try:
        futures = {pool.submit(_task, assignment, s, s in forced, expected): s for s in students}
        for future in as_completed(futures):
            try:
                done(future.result())
            except BrokenProcessPool:
                unfinished.append(futures[future])
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return sorted(unfinished)


def _stop(pool: ProcessPoolExecutor, grace: float = 10.0) -> None:
    """Interrupt the workers (nbgrader then cleans up as on Ctrl-C), kill those that linger."""
    processes = [p for p in getattr(pool, "_processes", {}).values() if p.is_alive()]
    for process in processes:
        if os.name == "posix":
            os.kill(process.pid, signal.SIGINT)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _started(scratch: Path, student: str) -> Path:
    return scratch / f"started-{hashlib.sha1(student.encode()).hexdigest()}"


# --------------------------------------------------------------------------- workers

_WORKER: dict = {}


class GradebookLock:
    """A re-entrant inter-process lock held through a file (flock / msvcrt)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.depth = 0
        self._fh = None

    def acquire(self) -> None:
        if self.depth == 0:
            fh = open(self.path, "a+b")
            _lock_file(fh)
            self._fh = fh
        self.depth += 1

    def release(self) -> None:
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            _unlock_file(self._fh)
            self._fh.close()
            self._fh = None

    def reset(self) -> None:
        while self.depth:
            self.release()


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock_file(fh) -> None:
        while True:
            try:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock_file(fh) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(fh) -> None:
        fcntl.flock(fh, fcntl.LOCK_EX)

    def _unlock_file(fh) -> None:
        fcntl.flock(fh, fcntl.LOCK_UN)


def _init_worker(root: str, scratch: str, quiet: bool, sandbox: bool) -> None:
    os.chdir(root)
    if quiet:  # kernels inherit these; their chatter would garble the progress bar
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    lock = GradebookLock(os.path.join(scratch, "gradebook.lock"))
    serialise_gradebook(lock)
    share_engines()
    app = load_app(Path(root))
    app.coursedir.db_url = with_busy_timeout(app.coursedir.db_url)
    secure_autograde(app.config)
    if not sandbox:
        app.config.Sandbox.enabled = False
    _WORKER.update(app=app, lock=lock, scratch=Path(scratch))


def _task(assignment: str, student: str, force: bool, expected: list[str]) -> Outcome:
    """One pool task: mark the submission as started (see _run_pool), then grade it.

    On Ctrl-C nbgrader removes the partial output and re-raises; the worker then
    ends instead of taking the next submission.
    """
    _started(_WORKER["scratch"], student).touch()
    try:
        return _grade_one(assignment, student, force, expected)
    except KeyboardInterrupt:
        os._exit(130)


class EarlyKernelAutograde(TrackedAutograde):
    """nbgrader's ``Autograde`` (tracked) that starts each notebook's kernel before it sanitises the
    notebook, so that the kernel's start-up overlaps the sanitising and the gradebook work."""

    def convert_single_notebook(self, notebook_filename: str) -> None:
        if _is_json(Path(notebook_filename)):  # nbgrader fails the others before they run
            info = self.init_single_notebook_resources(notebook_filename)["nbgrader"]
            _, autograded = _folders(self.coursedir, info["assignment"], info["student"])
            start_kernel_early(self, info, autograded)
        super().convert_single_notebook(notebook_filename)


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return True


def _grade_one(assignment: str, student: str, force: bool, expected: list[str]) -> Outcome:
    app, lock = _WORKER["app"], _WORKER["lock"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    app.log.addHandler(handler)
    started = time.monotonic()
    coursedir = app.coursedir
    coursedir.assignment_id, coursedir.student_id = assignment, student
    converter = EarlyKernelAutograde(coursedir=coursedir, parent=app)
    converter.force = force
    failure = None
    dest = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    carried = read_kept(coursedir.db_url, assignment, student)  # left by a run killed before it gave them back
    kept = (
        _manual_grades(app, assignment, student, dest, carried)
        if force or carried or _newer(coursedir, assignment, student)
        else []
    )
    if kept or carried:  # noted before the regrade marks them for grading again (an empty note is none)
        record_kept(
            coursedir.db_url,
            assignment,
            student,
            [JudgedAnswer(assignment, m.notebook, student, m.grade_id, m.answer, now_utc()) for m in kept],
        )
    try:
        converter.start()
    except NbGraderException:
        failure = converter.error or NbGraderException()
    except Exception as exc:  # nbgrader let it through (e.g. a broken config hook)
        failure = exc
    finally:
        stop_early_kernels()
        lock.reset()
        app.log.removeHandler(handler)
    outcome = Outcome(student, "graded", log=buffer.getvalue(), seconds=time.monotonic() - started)
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    missing = [name for name in expected if not (submitted / f"{name}.ipynb").is_file()]
    if failure is None and converter.processed is False:
        outcome.status = "skipped"
    elif failure is not None:
        outcome.status = "failed"
        if len(missing) == len(expected):
            outcome.reason = no_notebook_reason(submitted, expected, Path(coursedir.root))
        else:
            outcome.reason = explain_failure(failure, converter.failed_notebook, _execute_timeout(app))
    else:
        outcome.notes = [f"缺少笔记本 {name}.ipynb，该笔记本按 0 分计" for name in missing]
        outcome.notes += execution_notes(dest)
    if kept and failure is None:  # also when skipped: a killed run may have left them marked
        outcome.notes += _keep_manual_grades(app, assignment, student, dest, kept)
        clear_kept(coursedir.db_url, assignment, student)
    return outcome


def _manual_grades(app, assignment: str, student: str, dest: Path, carried: dict[tuple[str, str], str]) -> list:
    from .manual import snapshot

    judged = read_judged(app.coursedir.db_url, assignment, student)
    try:
        with Gradebook(app.coursedir.db_url, app.coursedir.course_id) as gb:
            return snapshot(gb, assignment, student, dest, judged, carried)
    finally:
        _WORKER["lock"].reset()


def _keep_manual_grades(app, assignment: str, student: str, dest: Path, kept: list) -> list[str]:
    from .manual import restore_status

    try:
        with Gradebook(app.coursedir.db_url, app.coursedir.course_id) as gb:
            changed = restore_status(gb, assignment, student, dest, kept)
    finally:
        _WORKER["lock"].reset()
    return [f"题目 {gid} 的答案与上次评分时不同，原来的人工评分已改回待批改，请重新批改" for gid in changed]


def _execute_timeout(app) -> int | None:
    from nbgrader.preprocessors import Execute

    return Execute(parent=app).timeout
