"""Manual grades kept across a regrade when the answer they judged has not changed.

nbgrader's ``SaveAutoGrades`` marks every grade that has a manual score as needing a
manual grade again whenever a submission is autograded anew (``--force``, or a newer
submission). :func:`snapshot` reads, before the regrade, the graded-by-hand grades and a
digest of the answers they judged; :func:`restore_status` afterwards marks those whose
answer is unchanged as graded again, and returns the grade ids whose answer changed (they
stay pending, with the old score shown to the grader).

The judged answers' digests are recorded at every autograde (``kam_judged``, written by
:class:`~kamlib.grading.preprocessors.SaveAnswers`), so they survive the loss of the old
autograded notebook (an interrupted or failed run removes it); gradebooks graded before
that table existed are read from the old autograded notebook, as before. ``kam grade``
notes the snapshot in the gradebook before the regrade (``kam_kept_manual``) and forgets it
once the statuses are given back: a run killed in between leaves the grades marked for
grading again, and the next run takes them from that note (``carried``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ManualGrade:
    notebook: str
    grade_id: str
    answer: str  # digest of what the grade judged: the cell itself (a written answer) or the notebook's answers


def digest(text: str) -> str:
    """A fixed-length fingerprint of an answer (SHA-256, hex): equal answers, equal digests."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def judged_answers(cells: Iterable) -> dict[str, str]:
    """grade_id -> digest of the answer that grade judges, for each graded cell of a notebook."""
    solutions, graded = [], {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if meta.get("solution"):
            solutions.append(source)
        if meta.get("grade") and meta.get("grade_id"):
            graded[meta["grade_id"]] = source if meta.get("solution") else None
    everything = "\n\x00\n".join(solutions)
    return {gid: digest(everything if own is None else own) for gid, own in graded.items()}


def _answers(path: Path) -> dict[str, str]:
    """:func:`judged_answers` of an autograded notebook file; {} when it is missing or unreadable."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return {}
    return judged_answers(cells)


def snapshot(
    gradebook,
    assignment: str,
    student: str,
    autograded: Path,
    judged: dict[tuple[str, str], str],
    carried: dict[tuple[str, str], str] | None = None,
) -> list[ManualGrade]:
    """The grades of ``student`` given by hand and marked graded, with what they judged.

    ``judged``: the digests recorded at the last autograde (``read_judged``); where it has
    none, the old autograded notebook in ``autograded`` is read. ``carried``: the note of an
    earlier regrade that did not give its statuses back (``read_kept``); those grades count
    as graded, with the digests of that note.
    """
    carried = carried or {}
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return []
    kept = []
    for notebook in submission.notebooks:
        answers = None
        for grade in notebook.grades:
            key = (notebook.name, grade.name)
            if grade.manual_score is None or (grade.needs_manual_grade and key not in carried):
                continue
            answer = carried.get(key) or judged.get(key)
            if answer is None:
                if answers is None:
                    answers = _answers(autograded / f"{notebook.name}.ipynb")
                answer = answers.get(grade.name)
            if answer is not None:
                kept.append(ManualGrade(notebook.name, grade.name, answer))
    return kept


def restore_status(gradebook, assignment: str, student: str, autograded: Path, before: list[ManualGrade]) -> list[str]:
    """Mark unchanged answers graded again; return the grade ids whose answer changed."""
    changed = []
    answers: dict[str, dict[str, str]] = {}
    for item in before:
        now = answers.setdefault(item.notebook, _answers(autograded / f"{item.notebook}.ipynb"))
        grade = gradebook.find_grade(item.grade_id, item.notebook, assignment, student)
        if now.get(item.grade_id) == item.answer and grade.manual_score is not None:
            grade.needs_manual_grade = False
        else:
            changed.append(item.grade_id)
    gradebook.db.commit()
    return changed
