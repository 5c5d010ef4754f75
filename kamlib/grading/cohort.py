"""The cohort as the report sees it: every learner × question with its status, every
learner × assignment with its share, topic mastery, trends and the risk list.

Statuses keep apart what a plain score mixes up:

* a submission: 已评分, 待批改 (some written answer still to grade), 无法评分 (grading
  failed; its reason is shown and it is left out of every statistic), 未提交;
* an answer: 已评分, 未作答 (the answer cells left as released or an empty written answer,
  not scored by hand, or not run because the kernel had died; it scores 0), 格式不对 (answer
  cells changed but no answer came of them, e.g. a typing slip made the cell raise an error;
  it scores 0, as the feedback page says), 待批改 (not counted until graded), 无法评分, 未提交.

A submission's share is its score over the points graded so far (late penalty
deducted); answers still to grade count neither for nor against it. nbgrader's score
still counts the old hand score of a written answer changed since (back to 待批改);
``held`` says how much of it that is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .answer_store import NOT_RUN
from .questions import NO_RESPONSE, GradedCell, answers_of_tests
from .tables import GradeTables
from .topics import TOPICS, UNTAGGED

RISK_SHARE = 0.6
HIGH_RISK_SHARE = 0.4
TREND_STEP = 0.05
RISK_RULE_ZH = (
    f"风险学员：已收作业的平均得分率低于 {RISK_SHARE:.0%}（未提交的作业按 0 分计），"
    "或有已收作业未提交（只缺交、没有已评分的作业时只列缺交）。平均得分率低于 "
    f"{HIGH_RISK_SHARE:.0%} 或未提交两份及以上为“高”，其余为“中”；按严重程度、平均得分率从低到高排列。"
    "无法评分的提交和尚待批改的答案不计入平均。"
)
TREND_RULE_ZH = (
    f"走势：按作业顺序，给学员各份作业的得分率拟合一条直线，每份上升 {TREND_STEP * 100:.0f} 个百分点以上为“上升”，"
    f"下降 {TREND_STEP * 100:.0f} 个百分点以上为“下降”，其余为“平稳”；少于两份已评分作业时不判断。"
)

GRADED, NOT_ATTEMPTED, PENDING, FAILED, MISSING = "已评分", "未作答", "待批改", "无法评分", "未提交"
FORMAT_ERROR = "格式不对"
COUNTED = (GRADED, NOT_ATTEMPTED, FORMAT_ERROR)

ANSWER_COLUMNS = [
    "assignment",
    "notebook",
    "student_id",
    "name",
    "cell",
    "question",
    "topic",
    "autograded",
    "points",
    "score",
    "status",
    "answer",
    "comment",
]


@dataclass
class Cohort:
    """Everything the report shows, as tables.

    ``answers``: one row per learner × question of the collected assignments
    (:data:`ANSWER_COLUMNS`); ``submissions``: one row per learner × collected
    assignment with ``status``, ``share``, ``reason`` (why it could not be graded) and
    ``held`` (the points of answers awaiting a grade that nbgrader's ``score`` counts);
    ``learners``: student id -> name, in id order; ``assignments``: the collected
    assignments in order; ``titles``: assignment -> readable title.
    """

    answers: pd.DataFrame
    submissions: pd.DataFrame
    learners: pd.Series
    assignments: list[str]
    titles: dict[str, str]

    def title(self, assignment: str) -> str:
        return self.titles.get(assignment, assignment)


def collected(subs: pd.DataFrame) -> list[str]:
    """Assignments at least one learner submitted, in gradebook order."""
    names = set(subs.loc[subs["submitted"], "assignment"])
    return [a for a in dict.fromkeys(subs["assignment"]) if a in names]


def answer_cells(catalog: list[GradedCell]) -> dict[tuple[str, str, str], list[str]]:
    """(assignment, notebook, test cell) -> its answer cells in its source notebook
    (:func:`~kamlib.grading.questions.answers_of_tests`); notebooks that cannot be read are left out."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for assignment, notebook, path in dict.fromkeys(
        (c.assignment, c.notebook, c.path) for c in catalog if c.autograded
    ):
        try:
            cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for test, answers in answers_of_tests(cells):
            grade_id = test["metadata"]["nbgrader"].get("grade_id")
            found[(assignment, notebook, grade_id)] = [a["metadata"]["nbgrader"].get("grade_id") for a in answers]
    return found


def _changed(grid: pd.DataFrame, comments: pd.DataFrame, catalog: list[GradedCell]) -> np.ndarray:
    """Per grid row: one of the question's answer cells is not as released (nbgrader's automatic
    comment is not "No response."), as the feedback page reads it (hidden_tests.strip_notebook)."""
    cells = answer_cells(catalog)
    auto = {
        (a, n, s, c): comment
        for a, n, s, c, comment in zip(
            comments["assignment"],
            comments["notebook"],
            comments["student_id"],
            comments["cell"],
            comments["auto_comment"],
        )
    }
    return np.array(
        [
            any(auto.get((a, n, s, c)) != NO_RESPONSE for c in cells.get((a, n, q), []))
            for a, n, s, q in zip(grid["assignment"], grid["notebook"], grid["student_id"], grid["cell"])
        ],
        dtype=bool,
    )


def build_cohort(
    tables: GradeTables, catalog: list[GradedCell], answers: list, failures: list, titles: dict[str, str] | None = None
) -> Cohort:
    """Join the gradebook ``tables`` with the source ``catalog`` (names, topics), the recorded
    ``answers`` (:class:`~kamlib.grading.answer_store.AnswerRecord`) and ``failures``
    (:class:`~kamlib.grading.answer_store.GradingFailure`)."""
    failed = {(f.assignment, f.student): f.reason for f in failures}
    subs = tables.submissions.copy()  # one that could not be graded was handed in, in the gradebook or not
    subs["submitted"] = subs["submitted"].astype(bool) | np.array(
        [k in failed for k in zip(subs["assignment"], subs["student_id"])], dtype=bool
    )
    names = collected(subs)
    learners = (
        (
            subs.drop_duplicates("student_id")
            .set_index("student_id")
            .apply(lambda r: "".join(v for v in (r["last_name"], r["first_name"]) if isinstance(v, str)), axis=1)
            .rename("name")
            .sort_index()
        )
        if len(subs)
        else pd.Series(dtype=str, name="name")
    )
    source = {(c.assignment, c.grade_id): (i, c) for i, c in enumerate(catalog)}

    questions = tables.questions[tables.questions["assignment"].isin(names)].copy()
    questions["order"] = [
        source.get((a, c), (len(source) + i, None))[0]
        for i, (a, c) in enumerate(zip(questions["assignment"], questions["cell"]))
    ]
    questions["question"] = [
        source[(a, c)][1].title if (a, c) in source else c for a, c in zip(questions["assignment"], questions["cell"])
    ]
    questions["topic"] = [
        (source[(a, c)][1].topic if (a, c) in source else None) or UNTAGGED
        for a, c in zip(questions["assignment"], questions["cell"])
    ]
    questions["assignment_order"] = questions["assignment"].map({a: i for i, a in enumerate(names)})
    questions = questions.sort_values(["assignment_order", "order"], ignore_index=True)

    # learner × question grid
    grid = questions.merge(
        subs[subs["assignment"].isin(names)][["assignment", "student_id", "submitted"]], on="assignment"
    )
    cells = tables.cells.set_index(["assignment", "notebook", "student_id", "cell"])
    grid = grid.join(
        cells[["auto_score", "manual_score", "score", "needs_manual_grade"]],
        on=["assignment", "notebook", "student_id", "cell"],
    )
    keys = ["assignment", "notebook", "student_id", "cell"]
    recorded = pd.DataFrame(
        [(r.assignment, r.notebook, r.student, r.grade_id, r.answer, r.missing) for r in answers],
        columns=[*keys, "recorded", "blank"],
    )
    noted = tables.comments[np.array([isinstance(c, str) for c in tables.comments["manual_comment"]], dtype=bool)]
    grid = grid.merge(recorded, on=keys, how="left").merge(
        noted[[*keys, "manual_comment"]].rename(columns={"manual_comment": "note"}), on=keys, how="left"
    )
    autograded = grid["autograded"].to_numpy(dtype=bool)
    score = grid["score"].to_numpy(dtype=float)
    by_hand = grid["manual_score"].notna().to_numpy()  # a trainer's score stands even on a blank answer
    no_answer = autograded & grid["blank"].eq(True).to_numpy() & ~by_hand
    status = np.select(
        [
            pd.MultiIndex.from_arrays([grid["assignment"], grid["student_id"]]).isin(list(failed)),
            ~grid["submitted"].to_numpy(dtype=bool),
            np.isnan(score) | grid["needs_manual_grade"].eq(True).to_numpy(),
            no_answer & _changed(grid, tables.comments, catalog) & grid["recorded"].ne(NOT_RUN).to_numpy(),
            no_answer,
            autograded,
            ~by_hand & grid["auto_score"].eq(0).to_numpy(),
        ],
        [FAILED, MISSING, PENDING, FORMAT_ERROR, NOT_ATTEMPTED, GRADED, NOT_ATTEMPTED],
        GRADED,
    ).astype(object)
    counted = np.isin(status, COUNTED)
    grid["held"] = np.where(status == PENDING, np.nan_to_num(score), 0.0)
    score = np.where(counted, score, np.nan)
    shown = np.where(grid["blank"].eq(False).to_numpy(), grid["recorded"].to_numpy(dtype=object), "")
    note = grid["note"].to_numpy(dtype=object)
    comment = np.where(counted & ~autograded & grid["note"].notna().to_numpy(), note, "")
    grid["status"], grid["score"], grid["answer"], grid["comment"] = list(status), score, list(shown), list(comment)
    grid["name"] = grid["student_id"].map(learners)
    grid = grid.rename(columns={"max_score": "points"})
    grid = grid.sort_values(["assignment_order", "student_id", "order"], kind="stable", ignore_index=True)

    # learner × assignment
    per = subs[subs["assignment"].isin(names)].copy()
    graded = grid[grid["status"].isin(COUNTED)].groupby(["assignment", "student_id"])
    sums = pd.DataFrame({"graded_score": graded["score"].sum(), "graded_points": graded["points"].sum()})
    waiting = grid[grid["status"] == PENDING].groupby(["assignment", "student_id"])
    held = pd.DataFrame({"pending": waiting.size(), "held": waiting["held"].sum()})
    per = per.join(sums, on=["assignment", "student_id"]).join(held, on=["assignment", "student_id"])
    per["pending"] = per["pending"].fillna(0).astype(int)
    per["held"] = per["held"].fillna(0.0)
    per["reason"] = [failed.get((a, s), "") for a, s in zip(per["assignment"], per["student_id"])]
    per["status"] = np.select(
        [~per["submitted"].astype(bool), per["reason"] != "", per["pending"] > 0], [MISSING, FAILED, PENDING], GRADED
    )
    per["status"] = per["status"].astype(object)
    points = per["graded_points"].where(per["graded_points"] > 0)
    share = ((per["graded_score"] - per["late_penalty"]).clip(lower=0) / points).clip(upper=1)
    per["share"] = share.where(per["status"].isin([GRADED, PENDING]))
    per["name"] = per["student_id"].map(learners)
    unsandboxed = {(r.assignment, r.student) for r in answers if not r.sandboxed}
    per["unsandboxed"] = [(a, s) in unsandboxed for a, s in zip(per["assignment"], per["student_id"])]
    per = per.sort_values(["student_id"], kind="stable")
    per["assignment_order"] = per["assignment"].map({a: i for i, a in enumerate(names)})
    per = per.sort_values(["assignment_order", "student_id"], ignore_index=True).drop(columns="assignment_order")
    return Cohort(
        answers=grid[ANSWER_COLUMNS], submissions=per, learners=learners, assignments=names, titles=dict(titles or {})
    )


# ---------------------------------------------------------------- per learner
def progress(cohort: Cohort) -> pd.DataFrame:
    """Learner × collected assignment share (NaN: not submitted, not gradable or nothing graded yet)."""
    table = cohort.submissions.pivot(index="student_id", columns="assignment", values="share")
    return table.reindex(index=cohort.learners.index, columns=cohort.assignments)


def trend(shares: pd.Series) -> str:
    """上升 / 下降 / 平稳 from the shares in assignment order (“—” with fewer than two)."""
    return _trend(shares.to_numpy(dtype=float))


def _trend(shares: np.ndarray) -> str:
    known = ~np.isnan(shares)
    if known.sum() < 2:
        return "—"
    slope = np.polyfit(np.flatnonzero(known), shares[known], 1)[0]
    return "上升" if slope >= TREND_STEP else "下降" if slope <= -TREND_STEP else "平稳"


def learner_summary(cohort: Cohort) -> pd.DataFrame:
    """One row per learner: share per assignment, average, missing and ungradable work,
    answers still to grade, trend, and risk with its severity and reasons; most at risk first."""
    table = progress(cohort)
    status = cohort.submissions.pivot(index="student_id", columns="assignment", values="status").reindex(
        index=table.index, columns=table.columns
    )
    shares, states = table.to_numpy(dtype=float), status.to_numpy(dtype=object)
    missing, failed = states == MISSING, states == FAILED
    counted = missing | ~np.isnan(shares)  # a missing submission counts as 0
    n_counted = counted.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        average = np.where(counted, np.where(missing, 0.0, shares), 0.0).sum(axis=1) / n_counted
    low = (average < RISK_SHARE) & (n_counted > missing.sum(axis=1))  # some work was graded, not only missed
    high = (low & (average < HIGH_RISK_SHARE)) | (missing.sum(axis=1) >= 2)
    columns = list(table.columns)
    reasons = []
    for is_low, avg, gone in zip(low, average, missing):
        why = [f"平均得分率 {avg:.0%} 低于 {RISK_SHARE:.0%}"] if is_low else []
        if gone.any():
            why.append(f"未提交 {'、'.join(a for a, g in zip(columns, gone) if g)}")
        reasons.append(why)
    at_risk = np.array([bool(r) for r in reasons], dtype=bool)
    pending = cohort.submissions.groupby("student_id")["pending"].sum()
    out = pd.DataFrame({"学员编号": table.index, "姓名": [cohort.learners.get(s, "") for s in table.index]})
    for k, a in enumerate(columns):
        out[a] = shares[:, k]
    out["平均得分率"] = average
    out["未提交数"] = missing.sum(axis=1)
    out["无法评分数"] = failed.sum(axis=1)
    out["待批改"] = [int(pending.get(s, 0)) for s in table.index]
    out["走势"] = [_trend(row) for row in shares]
    out["风险"] = at_risk
    out["严重程度"] = np.where(at_risk, np.where(high, "高", "中"), "")
    out["原因"] = ["；".join(r) for r in reasons]
    rank = out["严重程度"].map({"高": 0, "中": 1, "": 2})
    order = (
        pd.DataFrame(
            {"rank": rank, "avg": out["平均得分率"].fillna(2.0), "miss": -out["未提交数"], "id": out["学员编号"]}
        )
        .sort_values(["rank", "avg", "miss", "id"], kind="stable")
        .index
    )
    return out.loc[order].reset_index(drop=True)


def cohort_trend(cohort: Cohort) -> pd.DataFrame:
    """Per collected assignment in order: submissions, how they stand, the mean share and the answers still to grade."""
    subs = cohort.submissions
    rows = []
    for name in cohort.assignments:
        part = subs[subs["assignment"] == name]
        rows.append(
            {
                "作业": name,
                "标题": cohort.title(name),
                "应交": len(part),
                "已交": int(part["submitted"].sum()),
                "已评分": int((part["status"] == GRADED).sum()),
                "待批改的答案": int(part["pending"].sum()),
                "待批改的学员": int((part["pending"] > 0).sum()),
                "无法评分": int((part["status"] == FAILED).sum()),
                "未提交": int((part["status"] == MISSING).sum()),
                "平均得分率": part["share"].mean(),
                "中位数": part["share"].median(),
                "最低": part["share"].min(),
                "最高": part["share"].max(),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "作业",
            "标题",
            "应交",
            "已交",
            "已评分",
            "待批改的答案",
            "待批改的学员",
            "无法评分",
            "未提交",
            "平均得分率",
            "中位数",
            "最低",
            "最高",
        ],
    )


# ---------------------------------------------------------------- topics
def _topic_order(topics: pd.Series) -> list[str]:
    present = set(topics.unique())
    return [t for t in TOPICS if t in present] + sorted(present - set(TOPICS))


def topic_mastery(cohort: Cohort) -> pd.DataFrame:
    """Learner × topic: score over points of the answers counted (graded or not attempted)."""
    counted = cohort.answers[cohort.answers["status"].isin(COUNTED)]
    sums = counted.groupby(["student_id", "topic"])[["score", "points"]].sum()
    table = (sums["score"] / sums["points"].where(sums["points"] > 0)).unstack("topic")
    return table.reindex(index=cohort.learners.index, columns=_topic_order(cohort.answers["topic"]))


def weakest_topics(cohort: Cohort) -> pd.DataFrame:
    """Per topic: questions, answers counted and the cohort's mastery, weakest first (ties in topic order)."""
    answers = cohort.answers
    counted = answers[answers["status"].isin(COUNTED)]
    order = _topic_order(answers["topic"])
    rows = []
    for topic in order:
        part = counted[counted["topic"] == topic]
        points = part["points"].sum()
        rows.append(
            {
                "topic": topic,
                "题数": int(answers.loc[answers["topic"] == topic, ["assignment", "cell"]].drop_duplicates().shape[0]),
                "计入的答案": len(part),
                "掌握程度": part["score"].sum() / points if points else np.nan,
            }
        )
    table = pd.DataFrame(rows, columns=["topic", "题数", "计入的答案", "掌握程度"])
    table["position"] = range(len(table))
    return table.sort_values(["掌握程度", "position"], na_position="last", kind="stable", ignore_index=True).drop(
        columns="position"
    )
