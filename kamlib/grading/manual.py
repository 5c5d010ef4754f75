"""Manual grades kept across a regrade when the answer they judged has not changed.

nbgrader's ``SaveAutoGrades`` marks every grade that has a manual score as needing a
manual grade again whenever a submission is autograded anew (``--force``, or a newer
submission). :func:`snapshot` reads, before the regrade, the graded-by-hand grades and
the answers they judged (from the old autograded notebooks); :func:`restore_status`
afterwards marks those whose answer is unchanged as graded again, and returns the
grade ids whose answer changed (they stay pending, with the old score shown to the grader).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ManualGrade:
    notebook: str
    grade_id: str
    answer: str  # what the grade judged: the cell itself (a written answer) or the notebook's answers


def _answers(path: Path) -> dict[str, str]:
    """grade_id -> the answer that grade judges, for each graded cell of an autograded notebook."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return {}
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
    return {gid: everything if own is None else own for gid, own in graded.items()}


def snapshot(gradebook, assignment: str, student: str, autograded: Path) -> list[ManualGrade]:
    """The grades of ``student`` given by hand and marked graded, with the answers they judged."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return []
    kept = []
    for notebook in submission.notebooks:
        answers = None
        for grade in notebook.grades:
            if grade.manual_score is None or grade.needs_manual_grade:
                continue
            if answers is None:
                answers = _answers(autograded / f"{notebook.name}.ipynb")
            if grade.name in answers:
                kept.append(ManualGrade(notebook.name, grade.name, answers[grade.name]))
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
