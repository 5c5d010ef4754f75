"""The gradebook as pandas tables, for the report, the export and comparisons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .course import Course

SUBMISSION_COLUMNS = [
    "assignment",
    "duedate",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "submitted",
    "timestamp",
    "raw_score",
    "late_penalty",
    "score",
    "max_score",
    "needs_manual_grade",
]
CELL_COLUMNS = [
    "assignment",
    "notebook",
    "student_id",
    "cell",
    "autograded",
    "auto_score",
    "manual_score",
    "extra_credit",
    "score",
    "max_score",
    "needs_manual_grade",
]
COMMENT_COLUMNS = ["assignment", "notebook", "student_id", "cell", "auto_comment", "manual_comment"]
QUESTION_COLUMNS = ["assignment", "notebook", "cell", "autograded", "max_score"]


@dataclass
class GradeTables:
    """``submissions``: one row per assignment and student (missing submissions included,
    ``submitted`` False, score 0, like ``nbgrader export``; learners named in ``also`` of
    :func:`read_gradebook` but not in the gradebook have such rows too); ``cells``: one row per graded
    cell of each submission (``autograded`` True for hidden-test cells, False for cells a
    trainer grades by hand); ``comments``: one row per answer cell; ``questions``: one
    row per graded cell of each assignment, in gradebook order."""

    submissions: pd.DataFrame
    cells: pd.DataFrame
    comments: pd.DataFrame
    assignments: list[str]
    questions: pd.DataFrame


def learner_count(course: Course) -> int:
    """How many learners the course's gradebook holds."""
    from .database import reading
    from .nbgrader_adapter import learner_count

    course.require_gradebook()
    with reading(course.db_url) as db:
        return learner_count(db)


def read_gradebook(course: Course, assignment: str | None = None, also: Iterable[str] = ()) -> GradeTables:
    """Read every assignment (or one) of the course's gradebook.

    A few SQL queries on nbgrader's tables (:mod:`.nbgrader_adapter`, nbgrader's own score
    expressions), without loading nbgrader, so a cohort of hundreds reads in well under a second.
    ``also`` names learners to include beside the gradebook's: those nbgrader never
    recorded because no submission of theirs could be graded.
    """
    from . import nbgrader_adapter as nbg
    from .database import reading

    course.require_gradebook()
    with reading(course.db_url) as db:
        found = sorted(nbg.assignment_rows(db), key=lambda a: (a[1] is None, a[1], a[0]))
        if assignment is not None:
            found = [a for a in found if a[0] == assignment]
        names = [a[0] for a in found]
        students = nbg.student_rows(db)
        known = {row[0] for row in students}
        students = [*students, *((s, None, None, None) for s in sorted(set(also) - known))]
        manual = set(nbg.cell_rows(db, "solution_cells", assignment)) | set(nbg.cell_rows(db, "task_cells", assignment))
        questions = [
            dict(assignment=a, notebook=nb, cell=c, autograded=(a, nb, c) not in manual and t == "code", max_score=m)
            for a, nb, c, t, m in nbg.question_rows(db, assignment)
        ]
        # a submission's score and whether it awaits a grade are summed from its grades below
        submitted = {(a, s): (ts, penalty) for a, s, ts, penalty in nbg.submission_rows(db, assignment)}
        code_cells = {(q["assignment"], q["notebook"], q["cell"]) for q in questions if q["autograded"]}
        cells = [
            dict(
                assignment=a,
                notebook=nb,
                student_id=s,
                cell=c,
                autograded=(a, nb, c) in code_cells,
                auto_score=auto,
                manual_score=man,
                extra_credit=extra,
                score=score,
                max_score=m,
                needs_manual_grade=need,
            )
            for a, nb, s, c, auto, man, extra, score, m, need in nbg.grade_rows(db, assignment)
        ]
        comments = [
            dict(assignment=a, notebook=nb, student_id=s, cell=c, auto_comment=auto, manual_comment=man)
            for a, nb, s, c, auto, man in nbg.comment_rows(db, assignment)
        ]

    scores: dict[tuple[str, str], float] = {}
    pending: set[tuple[str, str]] = set()
    for c in cells:
        key = (c["assignment"], c["student_id"])
        scores[key] = scores.get(key, 0.0) + (c["score"] or 0.0)
        if c["needs_manual_grade"]:
            pending.add(key)
    subs = []
    for name, duedate, points in found:
        for student, last_name, first_name, email in students:
            key = (name, student)
            row = dict(
                assignment=name,
                duedate=duedate,
                student_id=student,
                last_name=last_name,
                first_name=first_name,
                email=email,
                max_score=points,
            )
            if key not in submitted:
                subs.append(
                    row
                    | dict(
                        submitted=False,
                        timestamp=None,
                        raw_score=0.0,
                        late_penalty=0.0,
                        score=0.0,
                        needs_manual_grade=False,
                    )
                )
                continue
            score, (timestamp, penalty) = scores.get(key, 0.0), submitted[key]
            subs.append(
                row
                | dict(
                    submitted=True,
                    timestamp=timestamp,
                    raw_score=score,
                    late_penalty=penalty,
                    score=max(0.0, score - penalty),
                    needs_manual_grade=key in pending,
                )
            )
    order = {n: i for i, n in enumerate(names)}
    return GradeTables(
        submissions=pd.DataFrame(subs, columns=SUBMISSION_COLUMNS),
        cells=pd.DataFrame(cells, columns=CELL_COLUMNS).sort_values(
            ["assignment", "notebook", "student_id", "cell"], ignore_index=True
        ),
        comments=pd.DataFrame(comments, columns=COMMENT_COLUMNS).sort_values(
            ["assignment", "notebook", "student_id", "cell"], ignore_index=True
        ),
        assignments=names,
        questions=pd.DataFrame(sorted(questions, key=lambda q: order[q["assignment"]]), columns=QUESTION_COLUMNS),
    )
