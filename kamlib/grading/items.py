"""Item analysis: how each question did its job, and what the cohort answered.

* facility — the mean score of the answers attempted over the points (0..1); the
  share not attempted is reported apart, so a question most left blank is not read
  as a hard one;
* discrimination — the Pearson correlation of the question's score with the rest of
  the assignment (the sum of its other questions that have no answer still to grade);
  undefined (NaN) when either is constant;
* Cronbach's α per assignment, over its questions with no answer still to grade;
* common answers — the recorded answer values of an autograded question grouped,
  the correct one being the most common answer among full-score submissions.

Only answers that count (graded, or not attempted, which scores 0 in the totals behind
discrimination and α) enter: answers still to grade, submissions that could not be
graded and missing work stay out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cohort import COUNTED, NOT_ATTEMPTED, PENDING, Cohort

EASY, HARD, FLAT = 0.95, 0.2, 0.2
FLAGS_ZH = {
    "太容易": "几乎人人答对，可改成需要判断的情形，或只作课堂热身。",
    "太难": "多数学员没有答对，先查题目表述和课上是否讲透，再决定讲评还是改题。",
    "区分度低": "答得好坏与整份作业的成绩关系不大，请检查题目是否有歧义、答案和评分标准是否唯一。",
}
NOT_ANSWERED = "（未作答）"

ITEM_COLUMNS = [
    "assignment",
    "notebook",
    "cell",
    "question",
    "topic",
    "autograded",
    "points",
    "counted",
    "not_attempted",
    "pending",
    "facility",
    "discrimination",
    "full",
    "partial",
    "zero",
    "flags",
]


def _matrix(cohort: Cohort, assignment: str) -> pd.DataFrame:
    """Learner × question scores of an assignment's gradable submissions (NaN: still to grade)."""
    part = cohort.answers[
        (cohort.answers["assignment"] == assignment) & cohort.answers["status"].isin([*COUNTED, PENDING])
    ]
    return part.pivot_table(index="student_id", columns="cell", values="score", aggfunc="first", dropna=False).reindex(
        columns=list(dict.fromkeys(part["cell"]))
    )


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def discrimination(matrix: pd.DataFrame) -> dict[str, float]:
    """Question -> item–rest correlation (see the module docstring)."""
    complete = [c for c in matrix.columns if matrix[c].notna().all()]
    out = {}
    for cell in matrix.columns:
        rest = [c for c in complete if c != cell]
        rows = matrix[cell].notna()
        out[cell] = (
            _pearson(matrix.loc[rows, cell].to_numpy(float), matrix.loc[rows, rest].sum(axis=1).to_numpy(float))
            if rest
            else float("nan")
        )
    return out


def cronbach_alpha(matrix: pd.DataFrame) -> float:
    """Cronbach's α over the questions with every answer graded (NaN with < 2 questions or learners,
    or when the totals do not vary)."""
    items = matrix[[c for c in matrix.columns if matrix[c].notna().all()]].to_numpy(float)
    n, k = items.shape
    if k < 2 or n < 2:
        return float("nan")
    total = items.sum(axis=1).var(ddof=1)
    if total == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - items.var(axis=0, ddof=1).sum() / total))


def flags(facility: float, disc: float) -> list[str]:
    """The flags of a question (keys of :data:`FLAGS_ZH`)."""
    out = []
    if facility > EASY:
        out.append("太容易")
    if facility < HARD:
        out.append("太难")
    if disc < FLAT:  # NaN compares False: an undefined discrimination raises no flag
        out.append("区分度低")
    return out


def item_statistics(cohort: Cohort) -> pd.DataFrame:
    """One row per question of the collected assignments (:data:`ITEM_COLUMNS`), in assignment order."""
    rows = []
    answers = cohort.answers
    for assignment in cohort.assignments:
        disc = discrimination(_matrix(cohort, assignment))
        part = answers[answers["assignment"] == assignment]
        for (notebook, cell), q in part.groupby(["notebook", "cell"], sort=False):
            counted = q[q["status"].isin(COUNTED)]
            points = float(q["points"].iloc[0])
            n = len(counted)
            attempted = counted[counted["status"] != NOT_ATTEMPTED]["score"]
            facility = attempted.mean() / points if len(attempted) and points else float("nan")
            d = disc.get(cell, float("nan"))
            rows.append(
                {
                    "assignment": assignment,
                    "notebook": notebook,
                    "cell": cell,
                    "question": q["question"].iloc[0],
                    "topic": q["topic"].iloc[0],
                    "autograded": bool(q["autograded"].iloc[0]),
                    "points": points,
                    "counted": n,
                    "not_attempted": int((q["status"] == NOT_ATTEMPTED).sum()),
                    "pending": int((q["status"] == PENDING).sum()),
                    "facility": facility,
                    "discrimination": d,
                    "full": (attempted >= points).sum() / n if n else np.nan,
                    "partial": ((attempted > 0) & (attempted < points)).sum() / n if n else np.nan,
                    "zero": (attempted <= 0).sum() / n if n else np.nan,
                    "flags": flags(facility, d) if len(attempted) else [],
                }
            )
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def reliability(cohort: Cohort) -> dict[str, float]:
    """Assignment -> Cronbach's α."""
    return {a: cronbach_alpha(_matrix(cohort, a)) for a in cohort.assignments}


def answer_groups(cohort: Cohort) -> pd.DataFrame:
    """Per autograded question with recorded answers: each distinct answer with its count, share
    among the answers that count, and whether it is the correct one; most common first."""
    answers = cohort.answers
    counted = answers[answers["autograded"] & answers["status"].isin(COUNTED)]
    rows = []
    for (assignment, cell), q in counted.groupby(["assignment", "cell"], sort=False):
        shown = q["answer"].where(q["status"] != NOT_ATTEMPTED, NOT_ANSWERED)
        if not (shown != "").any():
            continue  # no answer was recorded for this question
        full = shown[(q["score"] >= q["points"]) & (shown != NOT_ANSWERED) & (shown != "")]
        correct = _most_common(full)
        counts = shown.replace("", "（未记录）").value_counts()
        counts = (
            counts.reset_index()
            .set_axis(["answer", "count"], axis=1)
            .sort_values(["count", "answer"], ascending=[False, True], kind="stable")
        )
        for answer, count in zip(counts["answer"], counts["count"]):
            rows.append(
                {
                    "assignment": assignment,
                    "cell": cell,
                    "question": q["question"].iloc[0],
                    "answer": answer,
                    "count": int(count),
                    "share": count / len(q),
                    "correct": correct is not None and answer == correct,
                }
            )
    return pd.DataFrame(rows, columns=["assignment", "cell", "question", "answer", "count", "share", "correct"])


def _most_common(values: pd.Series) -> str | None:
    if values.empty:
        return None
    counts = values.value_counts()
    top = counts[counts == counts.max()].index
    return sorted(top)[0]
