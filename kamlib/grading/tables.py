"""The gradebook as pandas tables, for the report, the export and comparisons."""

from __future__ import annotations

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
    """Read every assignment (or one) of the course's gradebook.

    A few column queries (nbgrader's own score expressions) rather than one object per
    grade, so a cohort of hundreds reads in about a second.
    """
    from nbgrader.api import (
        Assignment,
        BaseCell,
        Comment,
        Grade,
        GradeCell,
        Notebook,
        SolutionCell,
        Student,
        SubmittedAssignment,
        SubmittedNotebook,
        TaskCell,
    )

    with course.gradebook() as gb:
        db = gb.db
        found = db.query(Assignment.name, Assignment.duedate, Assignment.max_score).all()
        found = sorted(found, key=lambda a: (a.duedate is None, a.duedate, a.name))
        if assignment is not None:
            found = [a for a in found if a.name == assignment]
        names = [a.name for a in found]
        students = db.query(Student.id, Student.last_name, Student.first_name, Student.email).order_by(Student.id).all()

        def in_scope(query, column=Assignment.name):
            return query.filter(column.in_(names))

        manual = set()
        for kind in (SolutionCell, TaskCell):
            manual |= set(
                in_scope(
                    db.query(Assignment.name, Notebook.name, kind.name)
                    .join(Notebook, kind.notebook_id == Notebook.id)
                    .join(Assignment, Notebook.assignment_id == Assignment.id)
                ).all()
            )
        questions = [
            dict(assignment=a, notebook=nb, cell=c, autograded=(a, nb, c) not in manual and t == "code", max_score=m)
            for a, nb, c, t, m in in_scope(
                db.query(Assignment.name, Notebook.name, GradeCell.name, GradeCell.cell_type, GradeCell.max_score)
                .join(Notebook, GradeCell.notebook_id == Notebook.id)
                .join(Assignment, Notebook.assignment_id == Assignment.id)
            ).all()
        ]

        # a submission's score and whether it awaits a grade are summed from its grades below
        # (nbgrader's own per-submission expressions are correlated subqueries: slow on a cohort)
        timestamps = dict(
            ((a, s), ts)
            for a, s, ts in in_scope(
                db.query(Assignment.name, SubmittedAssignment.student_id, SubmittedAssignment.timestamp).join(
                    Assignment, SubmittedAssignment.assignment_id == Assignment.id
                )
            ).all()
        )
        penalties: dict[tuple[str, str], float] = {}
        for a, s, penalty in in_scope(
            db.query(Assignment.name, SubmittedAssignment.student_id, SubmittedNotebook.late_submission_penalty)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
        ).all():
            penalties[(a, s)] = penalties.get((a, s), 0.0) + (penalty or 0.0)

        def per_cell(model, *columns):
            return in_scope(
                db.query(
                    Assignment.name,
                    Notebook.name,
                    SubmittedAssignment.student_id,
                    BaseCell.name,
                    BaseCell.type,
                    *columns,
                )
                .join(SubmittedNotebook, model.notebook_id == SubmittedNotebook.id)
                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .join(BaseCell, model.cell_id == BaseCell.id)
            ).all()

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
                needs_manual_grade=bool(need),
            )
            for a, nb, s, c, _t, auto, man, extra, score, m, need in per_cell(
                Grade,
                Grade.auto_score,
                Grade.manual_score,
                Grade.extra_credit,
                Grade.score,
                Grade.max_score,
                Grade.needs_manual_grade,
            )
        ]
        comments = [
            dict(assignment=a, notebook=nb, student_id=s, cell=c, auto_comment=auto, manual_comment=man)
            for a, nb, s, c, _t, auto, man in per_cell(Comment, Comment.auto_comment, Comment.manual_comment)
        ]

    scores: dict[tuple[str, str], float] = {}
    pending: set[tuple[str, str]] = set()
    for c in cells:
        key = (c["assignment"], c["student_id"])
        scores[key] = scores.get(key, 0.0) + (c["score"] or 0.0)
        if c["needs_manual_grade"]:
            pending.add(key)
    subs = []
    for a in found:
        for s in students:
            key = (a.name, s.id)
            row = dict(
                assignment=a.name,
                duedate=a.duedate,
                student_id=s.id,
                last_name=s.last_name,
                first_name=s.first_name,
                email=s.email,
                max_score=a.max_score,
            )
            if key not in timestamps:
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
            score, penalty = scores.get(key, 0.0), penalties.get(key, 0.0)
            subs.append(
                row
                | dict(
                    submitted=True,
                    timestamp=timestamps[key],
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
