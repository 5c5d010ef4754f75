"""The gradebook as pandas tables, for the report, the export and comparisons."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from nbgrader.api import MissingEntry

from .course import Course

SUBMISSION_COLUMNS = [
    "assignment", "duedate", "student_id", "last_name", "first_name", "email", "submitted",
    "timestamp", "raw_score", "late_penalty", "score", "max_score", "needs_manual_grade",
]
CELL_COLUMNS = [
    "assignment", "notebook", "student_id", "cell", "autograded", "auto_score", "manual_score",
    "extra_credit", "score", "max_score", "needs_manual_grade",
]
COMMENT_COLUMNS = ["assignment", "notebook", "student_id", "cell", "auto_comment", "manual_comment"]
QUESTION_COLUMNS = ["assignment", "notebook", "cell", "autograded", "max_score"]


@dataclass
class GradeTables:
    """``submissions``: one row per assignment and student (missing submissions included,
    ``submitted`` False, score 0, like ``nbgrader export``); ``cells``: one row per graded
    cell of each submission (``autograded`` True for hidden-test cells, False for cells a
    trainer grades by hand); ``comments``: one row per answer cell; ``questions``: one
    row per graded cell of each assignment, in gradebook order."""

    submissions: pd.DataFrame
    cells: pd.DataFrame
    comments: pd.DataFrame
    assignments: list[str]
    questions: pd.DataFrame


def read_gradebook(course: Course, assignment: str | None = None) -> GradeTables:
    """Read every assignment (or one) of the course's gradebook."""
    subs, cells, comments, questions = [], [], [], []
    with course.gradebook() as gb:
        students = sorted(gb.students, key=lambda s: s.id)
        assignments = sorted(gb.assignments, key=lambda a: (a.duedate is None, a.duedate, a.name))
        if assignment is not None:
            assignments = [a for a in assignments if a.name == assignment]
        for a in assignments:
            manual = {(nb.name, c.name) for nb in a.notebooks for c in nb.solution_cells}
            manual |= {(nb.name, c.name) for nb in a.notebooks for c in nb.task_cells}
            for nb in a.notebooks:
                for c in nb.grade_cells:
                    questions.append(dict(assignment=a.name, notebook=nb.name, cell=c.name,
                                          autograded=(nb.name, c.name) not in manual and c.cell_type == "code",
                                          max_score=c.max_score))
            for s in students:
                row = dict(assignment=a.name, duedate=a.duedate, student_id=s.id,
                           last_name=s.last_name, first_name=s.first_name, email=s.email,
                           max_score=a.max_score)
                try:
                    sub = gb.find_submission(a.name, s.id)
                except MissingEntry:
                    subs.append(row | dict(submitted=False, timestamp=None, raw_score=0.0,
                                           late_penalty=0.0, score=0.0, needs_manual_grade=False))
                    continue
                penalty = sub.late_submission_penalty or 0.0
                subs.append(row | dict(submitted=True, timestamp=sub.timestamp, raw_score=sub.score,
                                       late_penalty=penalty, score=max(0.0, sub.score - penalty),
                                       needs_manual_grade=bool(sub.needs_manual_grade)))
                for nb in sub.notebooks:
                    key = dict(assignment=a.name, notebook=nb.name, student_id=s.id)
                    for g in nb.grades:
                        cells.append(key | dict(
                            cell=g.name, autograded=(nb.name, g.name) not in manual
                            and g.cell.cell_type == "code",
                            auto_score=g.auto_score, manual_score=g.manual_score,
                            extra_credit=g.extra_credit, score=g.score, max_score=g.max_score,
                            needs_manual_grade=bool(g.needs_manual_grade)))
                    for c in nb.comments:
                        comments.append(key | dict(cell=c.name, auto_comment=c.auto_comment,
                                                   manual_comment=c.manual_comment))
        names = [a.name for a in assignments]
    return GradeTables(
        submissions=pd.DataFrame(subs, columns=SUBMISSION_COLUMNS),
        cells=pd.DataFrame(cells, columns=CELL_COLUMNS)
        .sort_values(["assignment", "notebook", "student_id", "cell"], ignore_index=True),
        comments=pd.DataFrame(comments, columns=COMMENT_COLUMNS)
        .sort_values(["assignment", "notebook", "student_id", "cell"], ignore_index=True),
        assignments=names,
        questions=pd.DataFrame(questions, columns=QUESTION_COLUMNS),
    )
