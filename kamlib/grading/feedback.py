"""``kam feedback``: nbgrader feedback for every graded submission, hidden tests removed.

Each graded submission is run through nbgrader's ``GenerateFeedback`` converter with the
course configuration, with :class:`~kamlib.grading.preprocessors.StripHiddenTests` and
:class:`~kamlib.grading.preprocessors.ExplainGrades` added after ``GetGrades`` when the
course does not list them already, and the Chinese page of :mod:`.feedback_page`. Every HTML file is
then checked for the hidden-test lines of the gradebook; a file that still shows
one is deleted and reported, so no learner ever receives it. A submission ``kam grade``
could not grade gets no feedback but the recorded reason; the feedback folder of an earlier,
superseded submission of that learner is set aside (:func:`set_aside`), so that
``nbgrader release_feedback`` does not send it as if it were current.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nbgrader.converters import GenerateFeedback
from nbgrader.converters.base import NbGraderException
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config

from .answer_store import read_failures
from .course import Course, KamError
from .failures import explain_failure
from .feedback_page import FeedbackExporter
from .hidden_tests import find_leaks
from .nbgrader_adapter import TrackedFeedback
from .preprocessors import ExplainGrades, StripHiddenTests
from .regions import HIDDEN, region_lines

MIN_LEAK_LENGTH = 10  # hidden-test lines shorter than this (")", "pass") are not searched for


@dataclass
class FeedbackOutcome:
    student: str
    files: list[Path]
    reason: str = ""  # Chinese; set when no feedback was written


def graded_students(course: Course, assignment: str) -> list[str]:
    """Students with an autograded folder for ``assignment``."""
    cd = course.coursedir
    return sorted(
        student
        for student in _student_dirs(Path(cd.format_path(cd.autograded_directory, ".", ".")))
        if Path(cd.format_path(cd.autograded_directory, student, assignment)).is_dir()
    )


def hidden_test_lines(course: Course, assignment: str) -> tuple[str, ...]:
    """The lines inside the hidden-test regions of the assignment's source cells."""
    lines: set[str] = set()
    with course.gradebook() as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            for cell in notebook.source_cells:
                lines.update(line for line in region_lines(cell.source or "", *HIDDEN) if len(line) >= MIN_LEAK_LENGTH)
    return tuple(sorted(lines))


def generate_feedback(
    course: Course,
    assignment: str,
    students: list[str] | None = None,
    on_outcome: Callable[[FeedbackOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[FeedbackOutcome]:
    """Write feedback/<student>/<assignment>/*.html for each graded submission (always afresh).

    A submission graded on disk whose grades the gradebook does not hold (a gradebook
    restored or rebuilt since) gets no feedback and a reason saying how to regrade it; one
    that ``kam grade`` could not grade gets the reason recorded then, and its older feedback
    is set aside. ``on_start`` receives the number of learners, ``on_outcome`` each result.
    """
    course.require_assignment(assignment)
    failed = {f.student: f.reason for f in read_failures(course.db_url, assignment)}
    graded = [s for s in graded_students(course, assignment) if s not in failed]
    with course.gradebook() as gb:
        recorded = {s.student.id for s in gb.find_assignment(assignment).submissions}
    # In the gradebook but without an autograded folder, no failure recorded: the last run on it was interrupted.
    lost = sorted(recorded - set(graded) - set(failed))
    if not graded and not lost and not failed:
        raise KamError(f"作业“{assignment}”还没有评过分的提交，请先运行：kam grade {assignment}")
    if students:
        unknown = [s for s in students if s not in graded and s not in lost and s not in failed]
        if unknown:
            raise KamError(f"以下学员的作业“{assignment}”还没有评分：{'、'.join(unknown)}")
        graded, lost = [s for s in students if s in graded], [s for s in students if s in lost]
        failed = {s: failed[s] for s in students if s in failed}
    leaks = hidden_test_lines(course, assignment)
    config = _feedback_config(course)
    outcomes = []
    if on_start:
        on_start(len(graded) + len(lost) + len(failed))
    for student in sorted([*graded, *lost, *failed]):
        if student in failed:
            outcome = _ungradable(course, assignment, student, failed[student])
        elif student in lost:
            outcome = FeedbackOutcome(
                student,
                [],
                "这份作业的评分结果（autograded 中的笔记本）不在了，上次评分可能被中断或失败；"
                f"请先运行：kam grade {assignment} --student {student}",
            )
        elif student in recorded:
            outcome = _one(course, assignment, student, config, leaks)
        else:
            outcome = FeedbackOutcome(
                student,
                [],
                "成绩库中没有这份作业的评分记录（成绩库可能被恢复或重建过），"
                f"请先运行：kam grade {assignment} --student {student}",
            )
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def _ungradable(course: Course, assignment: str, student: str, reason: str) -> FeedbackOutcome:
    moved = set_aside(course, assignment, student)
    old = (
        f"上一份提交的旧反馈已移到 {os.path.relpath(moved, course.root)}（nbgrader release_feedback 不会发出它）。"
        if moved
        else ""
    )
    return FeedbackOutcome(
        student,
        [],
        f"最新的提交无法评分，没有生成反馈：{reason}。{old}"
        f"收到学员的新提交后运行：kam grade {assignment} --student {student} --force",
    )


def set_aside(course: Course, assignment: str, student: str) -> Path | None:
    """Move feedback/<student>/<assignment>/ (the feedback of an earlier submission) to a
    free ``<assignment>.superseded[-N]`` folder beside it, which ``nbgrader release_feedback``
    does not read; return where it went (None when there was none)."""
    cd = course.coursedir
    folder = Path(cd.format_path(cd.feedback_directory, student, assignment))
    if not folder.is_dir():
        return None
    target = folder.with_name(f"{assignment}.superseded")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{assignment}.superseded-{n}")
    folder.rename(target)
    return target


def _feedback_config(course: Course) -> Config:
    preprocessors = list(
        course.app.config.GenerateFeedback.get(
            "preprocessors", GenerateFeedback.class_traits()["preprocessors"].default()
        )
    )
    if StripHiddenTests not in preprocessors:
        at = preprocessors.index(GetGrades) + 1 if GetGrades in preprocessors else 0
        preprocessors.insert(at, StripHiddenTests)
    if ExplainGrades not in preprocessors:
        preprocessors.insert(preprocessors.index(StripHiddenTests) + 1, ExplainGrades)
    config = Config()
    config.GenerateFeedback.preprocessors = preprocessors
    config.GenerateFeedback.exporter_class = FeedbackExporter
    return config


def _one(course: Course, assignment: str, student: str, config: Config, leaks: tuple[str, ...]) -> FeedbackOutcome:
    cd = course.coursedir
    cd.assignment_id, cd.student_id = assignment, student
    converter = TrackedFeedback(coursedir=cd, parent=course.app)
    converter.update_config(config)
    converter.force = True
    error: BaseException | None = None
    try:
        converter.start()
    except NbGraderException as exc:
        error = converter.error or exc
    finally:
        cd.student_id = "*"
    dest = Path(cd.format_path(cd.feedback_directory, student, assignment))
    if error is not None:
        reason = explain_failure(error, converter.failed_notebook, None, action="生成反馈：处理")
        return FeedbackOutcome(student, [], reason)
    files = sorted(dest.glob("*.html"))
    for page in files:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        found = find_leaks(text, leaks)
        if found:
            for f in files:
                f.unlink()
            return FeedbackOutcome(student, [], f"反馈 {page.name} 中仍含有隐藏测试（{found[0]}），已删除，未发给学员")
    return FeedbackOutcome(student, files)


def _student_dirs(root: Path) -> list[str]:
    return [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
