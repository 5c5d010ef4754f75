"""``kam report``: what the trainer learns from a cohort, as self-contained HTML pages and CSVs.

``report.html`` (charts embedded as PNG, nothing fetched from elsewhere): where the
trainer stands, score distributions and trends, item analysis with flags and advice,
common wrong answers, topic mastery, progress and the risk list. ``learners/<id>.html``:
one printable (A4) page per learner. ``report.csv`` (one row per learner),
``answers.csv`` (learner × question) and ``items.csv`` (question statistics) are UTF-8
with a byte-order mark, so Excel opens them as they are. The numbers come from
:mod:`.cohort` and :mod:`.items`.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .cohort import (
    FAILED,
    MISSING,
    NOT_ATTEMPTED,
    PENDING,
    RISK_RULE_ZH,
    TREND_RULE_ZH,
    Cohort,
    build_cohort,
    cohort_trend,
    learner_summary,
    progress,
    topic_mastery,
    weakest_topics,
)
from .course import Course, KamError
from .drawing import Jobs, draw, drawing
from .items import EASY, FLAGS_ZH, HARD, answer_groups, item_statistics, reliability
from .questions import assignment_titles, graded_cells
from .tables import learner_count, read_gradebook
from .topics import check_topics, review_pointer, topic_label

PARALLEL_FROM = 100  # learners: from here on charts are drawn in worker processes (small ones draw faster here)
GROUPS_SHOWN = 8  # distinct answers listed per question; the rest are summed up
REVIEW_BELOW = 0.6  # a learner's page points to the lesson section of a topic mastered less than this


@dataclass
class ReportFiles:
    html: Path
    csv: Path
    answers: Path
    items: Path
    learners: list[Path]


@dataclass
class Analysis:
    """Every table the report shows, computed once from a cohort."""

    cohort: Cohort
    summary: pd.DataFrame  # learner_summary
    trend: pd.DataFrame  # cohort_trend
    items: pd.DataFrame  # item_statistics
    alpha: dict[str, float]  # reliability
    groups: pd.DataFrame  # answer_groups
    mastery: pd.DataFrame  # topic_mastery
    weakest: pd.DataFrame  # weakest_topics
    progress: pd.DataFrame  # progress


def analyse(cohort: Cohort) -> Analysis:
    """The report's tables for ``cohort``."""
    return Analysis(
        cohort,
        learner_summary(cohort),
        cohort_trend(cohort),
        item_statistics(cohort),
        reliability(cohort),
        answer_groups(cohort),
        topic_mastery(cohort),
        weakest_topics(cohort),
        progress(cohort),
    )


def load_cohort(course: Course, assignment: str | None = None) -> Cohort:
    """The cohort of the course's gradebook (one assignment or all), with names and topics from source/."""
    from .answer_store import read_answers, read_failures

    failures = read_failures(course.db_url)  # a learner nbgrader never recorded may be named only here
    tables = read_gradebook(course, assignment, also={f.student for f in failures})
    catalog = list(graded_cells(course.root))
    check_topics(catalog)
    return build_cohort(
        tables,
        catalog,
        read_answers(course.db_url, assignment),
        [f for f in failures if assignment in (None, f.assignment)],
        assignment_titles(course.root),
    )


def require_collected(cohort: Cohort, assignment: str | None) -> None:
    """Raise KamError when nobody has handed in ``assignment`` (or any assignment)."""
    if not cohort.assignments:
        which = f"作业“{assignment}”" if assignment else "任何作业"
        raise KamError(f"成绩库中还没有{which}的提交，请先收取并运行 kam grade {assignment or '作业名'}")


# ---------------------------------------------------------------- tables for people
def question_label(cohort: Cohort, assignment: str, question: str, several: bool) -> str:
    return f"{assignment} {question}" if several else question


def items_table(an: Analysis) -> pd.DataFrame:
    """items.csv: one row per question with its statistics and flags (Chinese headers)."""
    items, alpha = an.items, an.alpha
    return pd.DataFrame(
        {
            "作业": items["assignment"],
            "题目": items["question"],
            "题目编号": items["cell"],
            "知识点": items["topic"].map(topic_label),
            "评分方式": np.where(items["autograded"], "自动评分", "人工评分"),
            "分值": items["points"],
            "计入人数": items["counted"],
            "未作答人数": items["not_attempted"],
            "待批改人数": items["pending"],
            "难度系数": items["facility"].round(3),
            "区分度": items["discrimination"].round(3),
            "满分占比": items["full"].round(3),
            "部分得分占比": items["partial"].round(3),
            "零分占比": items["zero"].round(3),
            "提示": ["；".join(f"{f}：{FLAGS_ZH[f]}" for f in fl) for fl in items["flags"]],
            "作业信度α": items["assignment"].map(alpha).round(3),
        }
    )


def answers_table(cohort: Cohort) -> pd.DataFrame:
    """answers.csv: one row per learner × question (Chinese headers)."""
    a = cohort.answers
    return pd.DataFrame(
        {
            "作业": a["assignment"],
            "学员编号": a["student_id"],
            "姓名": a["name"],
            "题目": a["question"],
            "题目编号": a["cell"],
            "知识点": a["topic"].map(topic_label),
            "分值": a["points"],
            "得分": a["score"],
            "状态": a["status"],
            "答案": a["answer"],
            "评分方式": np.where(a["autograded"], "自动评分", "人工评分"),
            "讲师评语": a["comment"],
        }
    )


# ---------------------------------------------------------------- HTML pieces
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
  margin:2em auto;max-width:66em;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f0f0f0;white-space:nowrap}td.t,th.t{text-align:left}td{white-space:nowrap}td:last-child{white-space:normal}.rule{color:#555;font-size:.9em}
img{max-width:100%}.risk{color:#b00}.ok{color:#1a7f37}.muted{color:#777}
.bar{display:inline-block;height:.8em;background:#4e79a7;vertical-align:middle}
.barbox{display:inline-block;width:8em;background:#eee;margin-right:.4em;text-align:left}
@page{size:A4;margin:15mm}
@media print{body{margin:0;max-width:none;font-size:10.5pt}a{color:inherit;text-decoration:none}
  h2{break-after:avoid}table{break-inside:auto}tr{break-inside:avoid}}
"""

e = html.escape


def _pct(value: float) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.0%}"


def _num(value: float, digits: int = 2) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _html_table(rows: list[list[str]], header: list[str], left: int = 1, text: tuple[int, ...] = ()) -> str:
    """A table of already escaped cells; the first ``left`` columns and those in ``text`` are left-aligned."""
    t = set(range(left)) | {i % len(header) for i in text}
    head = "".join(f"<th class='t'>{h}</th>" if i in t else f"<th>{h}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td class='t'>{c}</td>" if i in t else f"<td>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(alt: str, png: str) -> str:
    return f"<img alt='{e(alt)}' src='data:image/png;base64,{png}'>"


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)}</title>",
            f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>",
            *body,
            "</body></html>",
        ]
    )


def learner_file(student: str) -> str:
    """The file name of a learner's page: safe on every file system, and one per learner — an
    id with characters replaced gets a short digest of itself (“a/b” and “a_b” stay apart)."""
    safe = re.sub(r"[^\w.-]", "_", student)
    if safe != student:
        safe += "-" + hashlib.sha1(student.encode("utf-8")).hexdigest()[:8]
    return safe + ".html"


def _who(student: str, name: str, link: bool) -> str:
    text = e(f"{student} {name}".strip())
    return f"<a href='learners/{e(learner_file(student))}'>{text}</a>" if link else text


# ---------------------------------------------------------------- the main page
def _standing(an: Analysis) -> list[str]:
    cohort, table = an.cohort, an.trend
    rows = [
        [
            e(f"{r['作业']} {r['标题']}" if r["标题"] != r["作业"] else r["作业"]),
            str(r["应交"]),
            str(r["已交"]),
            str(r["已评分"]),
            f"{r['待批改的答案']}（{r['待批改的学员']} 人）" if r["待批改的答案"] else "0",
            f"<span class='risk'>{r['无法评分']}</span>" if r["无法评分"] else "0",
            str(r["未提交"]),
        ]
        for _, r in table.iterrows()
    ]
    parts = [_html_table(rows, ["作业", "应交", "已交", "已评分", "待批改的答案", "无法评分", "未提交"])]
    failed = cohort.submissions[cohort.submissions["status"] == FAILED]
    if len(failed):
        parts.append("<h3>无法评分的提交（不计入任何统计）</h3>")
        parts.append(
            _html_table(
                [
                    [e(a), _who(s, n, True), e(r)]
                    for a, s, n, r in zip(failed["assignment"], failed["student_id"], failed["name"], failed["reason"])
                ],
                ["作业", "学员", "原因"],
                left=3,
            )
        )
        parts.append("<p class='rule'>请学员重新提交后运行 kam grade 作业名 --student 学员编号 --force。</p>")
    bare = cohort.submissions[cohort.submissions["unsandboxed"]]
    if len(bare):
        parts.append("<h3 class='risk'>评分时没有使用沙箱的提交</h3>")
        parts.append(
            _html_table(
                [[e(a), _who(s, n, True)] for a, s, n in zip(bare["assignment"], bare["student_id"], bare["name"])],
                ["作业", "学员"],
                left=2,
            )
        )
        parts.append(
            "<p class='rule'>这些提交是用 kam grade --no-sandbox 评的：学员代码当时能改动成绩库和讲师的文件，"
            "成绩不可全信。请在能使用沙箱的机器上（kam doctor 全部通过）运行 kam grade 作业名 --student 学员编号 --force "
            "重新评分。</p>"
        )
    return parts


def cohort_charts(cohort: Cohort) -> Jobs:
    """The charts drawn from the cohort alone: topic mastery, score distributions, progress, trend
    (the longest to draw first, so that the workers finish together)."""
    subs, table, mastery = cohort.submissions, progress(cohort), topic_mastery(cohort)
    shares = {cohort.title(a): subs.loc[subs["assignment"] == a, "share"] for a in cohort.assignments}
    jobs = {}
    if len(mastery.columns) and len(mastery):
        jobs["topics"] = ("heatmap", (mastery, [topic_label(t) for t in mastery.columns]))
    jobs["distribution"] = ("distribution_chart", (shares,))
    status = subs.pivot(index="student_id", columns="assignment", values="status").reindex(
        index=table.index, columns=table.columns
    )
    empty = status.replace({MISSING: "未交", FAILED: "无法评分", PENDING: "待批改"}).where(table.isna(), "")
    jobs["progress"] = ("heatmap", (table, cohort.assignments, empty))
    if len(cohort.assignments) > 1:
        jobs["trend"] = ("trend_chart", (list(shares), cohort_trend(cohort)["平均得分率"]))
    return jobs


def item_charts(an: Analysis) -> Jobs:
    """The chart of the item analysis: the facility of the 40 hardest questions."""
    cohort, items = an.cohort, an.items
    if not len(items):
        return {}
    several = len(cohort.assignments) > 1
    ordered = items.sort_values("facility", kind="stable", na_position="last").head(40)
    labels = [question_label(cohort, a, q, several) for a, q in zip(ordered["assignment"], ordered["question"])]
    return {"facility": ("facility_chart", (labels, ordered["facility"], HARD, EASY))}


def _distribution(an: Analysis, pngs: Mapping[str, str]) -> list[str]:
    table = an.trend
    parts = [_img("各作业得分分布", pngs["distribution"])]
    if "trend" in pngs:
        parts.append(_img("各作业平均得分率走势", pngs["trend"]))
    parts.append(
        _html_table(
            [
                [e(r["作业"]), _pct(r["平均得分率"]), _pct(r["中位数"]), _pct(r["最低"]), _pct(r["最高"])]
                for _, r in table.iterrows()
            ],
            ["作业", "平均得分率", "中位数", "最低", "最高"],
        )
    )
    return parts


def _items(an: Analysis, pngs: Mapping[str, str]) -> list[str]:
    cohort, items, alpha = an.cohort, an.items, an.alpha
    several = len(cohort.assignments) > 1
    parts = [
        "<p class='rule'>难度系数 = 作答学员的平均得分 ÷ 分值（未作答的另计一栏，不算作答错）；区分度 = 该题得分与本作业其余各题总分的相关系数"
        "（未作答按 0 分计；其余各题只算已全部批改的题；得分全都一样时无法计算，记为“—”）；满分、部分得分、零分、未作答四项占比合计 100%。"
        f"难度系数高于 {EASY:g} 标为“太容易”，低于 {HARD:g} 标为“太难”，区分度低于 0.2 标为“区分度低”。"
        "待批改的答案和无法评分的提交不计入。</p>",
        "<p>各作业的信度（Cronbach α，只算已全部批改的题）："
        + "；".join(f"{e(cohort.title(a))} {_num(v)}" for a, v in alpha.items())
        + "</p>",
    ]
    if "facility" in pngs:
        parts.append(_img("各题难度系数", pngs["facility"]))
    rows = []
    for _, r in items.iterrows():
        n = r["counted"]
        share_na = r["not_attempted"] / n if n else np.nan
        advice = "<br>".join(f"<b class='risk'>{e(f)}</b>：{e(FLAGS_ZH[f])}" for f in r["flags"])
        rows.append(
            [
                e(question_label(cohort, r["assignment"], r["question"], several)),
                e(topic_label(r["topic"])),
                "自动" if r["autograded"] else "人工",
                _num(r["points"], 0),
                str(n),
                str(r["pending"]) if r["pending"] else "0",
                _num(r["facility"]),
                _num(r["discrimination"]),
                _pct(r["full"]),
                _pct(r["partial"]),
                _pct(r["zero"]),
                _pct(share_na),
                advice,
            ]
        )
    parts.append(
        _html_table(
            rows,
            [
                "题目",
                "知识点",
                "评分",
                "分值",
                "计入",
                "待批改",
                "难度系数",
                "区分度",
                "满分",
                "部分得分",
                "零分",
                "未作答",
                "提示",
            ],
            left=2,
            text=(-1,),
        )
    )
    return parts


def _answers(an: Analysis) -> list[str]:
    cohort, groups = an.cohort, an.groups
    if groups.empty:
        return [
            "<p class='muted'>没有记录到自动评分题的答案（答案在评分时记录，重新运行 kam grade 作业名 --force 后即可看到）。</p>"
        ]
    several = len(cohort.assignments) > 1
    parts = [
        "<p class='rule'>每道自动评分题的答案按内容归并，按人数从多到少排列；✔ 为正确答案"
        "（得满分的提交中最常见的答案）。未作答单独列出。</p>"
    ]
    for (assignment, _cell), g in groups.groupby(["assignment", "cell"], sort=False):
        shown, rest = g.head(GROUPS_SHOWN), g.iloc[GROUPS_SHOWN:]
        rows = [
            [("✔ " if c else "") + e(a), str(n), _pct(s)]
            for a, n, s, c in zip(shown["answer"], shown["count"], shown["share"], shown["correct"])
        ]
        if len(rest):
            rows.append([f"其他 {len(rest)} 种答案", str(rest["count"].sum()), _pct(rest["share"].sum())])
        wrong = g[~g["correct"]].head(1)
        headline = (
            f"：最常见的错误是 {e(wrong['answer'].iloc[0])}（{_pct(wrong['share'].iloc[0])}）"
            if len(wrong) and g["correct"].any()
            else ""
        )
        parts.append(f"<h3>{e(question_label(cohort, assignment, g['question'].iloc[0], several))}{headline}</h3>")
        parts.append(_html_table(rows, ["答案", "人数", "占比"]))
    return parts


def _topics(an: Analysis, pngs: Mapping[str, str]) -> list[str]:
    weakest = an.weakest
    parts = [
        "<p class='rule'>掌握程度 = 该知识点各题得分之和 ÷ 分值之和（已评分和未作答的答案；未提交的作业不计）。"
        "最薄弱的在前。</p>",
        _html_table(
            [
                [e(topic_label(t)), str(q), str(n), _pct(m)]
                for t, q, n, m in zip(weakest["topic"], weakest["题数"], weakest["计入的答案"], weakest["掌握程度"])
            ],
            ["知识点", "题数", "计入的答案", "掌握程度"],
        ),
    ]
    if "topics" in pngs:
        parts.append(_img("学员 × 知识点掌握程度", pngs["topics"]))
    return parts


def _progress(an: Analysis, links: bool, pngs: Mapping[str, str]) -> list[str]:
    cohort, summary, table = an.cohort, an.summary, an.progress
    status = cohort.submissions.pivot(index="student_id", columns="assignment", values="status").reindex(
        index=table.index, columns=table.columns
    )
    parts = [_img("学员进度", pngs["progress"])]
    rows = []
    for _, r in summary.sort_values("学员编号").iterrows():
        cells = []
        for a in cohort.assignments:
            s = status.at[r["学员编号"], a]
            value = _pct(r[a])
            cells.append(
                value
                if s not in (MISSING, FAILED)
                else "<span class='risk'>未交</span>"
                if s == MISSING
                else "<span class='risk'>无法评分</span>"
            )
        rows.append(
            [
                _who(r["学员编号"], r["姓名"], links),
                *cells,
                _pct(r["平均得分率"]),
                str(r["未提交数"]),
                str(r["待批改"]),
                e(r["走势"]),
            ]
        )
    parts.append(f"<p class='rule'>{e(TREND_RULE_ZH)} 待批改的答案暂不计入得分率。</p>")
    parts.append(_html_table(rows, ["学员", *map(e, cohort.assignments), "平均得分率", "未提交", "待批改", "走势"]))
    return parts


def _risk(summary: pd.DataFrame, links: bool) -> list[str]:
    risky = summary[summary["风险"]]
    parts = [f"<p class='rule'>{e(RISK_RULE_ZH)}</p>"]
    if not len(risky):
        return parts + ["<p>没有风险学员。</p>"]
    parts.append(
        _html_table(
            [
                [
                    _who(r["学员编号"], r["姓名"], links),
                    e(r["严重程度"]),
                    _pct(r["平均得分率"]),
                    str(r["未提交数"]),
                    str(r["待批改"]),
                    e(r["走势"]),
                    e(r["原因"]),
                ]
                for _, r in risky.iterrows()
            ],
            ["学员", "严重程度", "平均得分率", "未提交", "待批改", "走势", "原因"],
            left=2,
            text=(-1,),
        )
    )
    return parts


def render_html(an: Analysis, title: str, links: bool = True, pngs: Mapping[str, str] | None = None) -> str:
    """The report page; ``links`` points learner names to their pages in ``learners/``; ``pngs``: the
    charts of :func:`cohort_charts` and :func:`item_charts` already drawn (drawn here when not given)."""
    cohort, summary = an.cohort, an.summary
    if pngs is None:
        pngs = {name: draw(*job) for name, job in {**cohort_charts(cohort), **item_charts(an)}.items()}
    risky = int(summary["风险"].sum())
    body = [
        f"<p>生成时间：{datetime.now().astimezone():%Y-%m-%d %H:%M（UTC%z）}；学员 {len(summary)} 人；"
        f"已收作业 {len(cohort.assignments)} 份：{e('、'.join(cohort.assignments))}；"
        f"风险学员 <span class='risk'>{risky}</span> 人。</p>",
        "<h2>一、评分进展</h2>",
        *_standing(an),
        "<h2>二、得分分布与走势</h2>",
        *_distribution(an, pngs),
        "<h2>三、各题分析</h2>",
        *_items(an, pngs),
        "<h2>四、常见错误答案</h2>",
        *_answers(an),
        "<h2>五、知识点掌握（最薄弱的在前）</h2>",
        *_topics(an, pngs),
        "<h2>六、学员进度</h2>",
        *_progress(an, links, pngs),
        "<h2>七、风险学员</h2>",
        *_risk(summary, links),
    ]
    return _page(title, body)


# ---------------------------------------------------------------- one page per learner
def _bar(value: float) -> str:
    width = 0 if pd.isna(value) else max(0.0, min(1.0, value)) * 100
    return f"<span class='barbox'><span class='bar' style='width:{width:.0f}%'></span></span>{_pct(value)}"


def render_learners(an: Analysis, course_title: str):
    """(student id, printable page) for every learner: assignments and topics against the
    cohort, missing and ungradable work, answers left blank and the trainer's comments."""
    cohort, mastery = an.cohort, an.mastery
    subs, answers = cohort.submissions, cohort.answers
    cohort_mean = subs.groupby("assignment")["share"].mean().to_dict()
    topic_mean = an.weakest.set_index("topic")["掌握程度"].to_dict()  # the cohort's, as the report shows it
    own_topics = mastery.to_dict("index")
    work: dict[str, dict[str, tuple]] = {}
    for r in subs[["student_id", "assignment", "status", "share", "reason", "pending"]].itertuples(index=False):
        work.setdefault(r.student_id, {})[r.assignment] = r
    noted = answers[(answers["comment"] != "") | (answers["status"] == NOT_ATTEMPTED)]
    comments: dict[str, list] = {}
    blank: dict[str, list] = {}
    for r in noted.itertuples(index=False):
        question = e(f"{cohort.title(r.assignment)} {r.question}")
        if r.status == NOT_ATTEMPTED:
            blank.setdefault(r.student_id, []).append(question)
        if r.comment:
            comments.setdefault(r.student_id, []).append(
                [question, f"{_num(r.score, 1)} / {_num(r.points, 0)}", e(r.comment)]
            )
    stamp = f"{datetime.now().astimezone():%Y-%m-%d %H:%M（UTC%z）}"
    for row in an.summary.to_dict("records"):
        student = row["学员编号"]
        rows = []
        for a in cohort.assignments:
            w = work[student][a]
            note = {
                MISSING: "<span class='risk'>未提交</span>",
                FAILED: f"<span class='risk'>无法评分</span>：{e(w.reason)}",
                PENDING: f"{w.pending} 题待批改（暂不计入）",
            }.get(w.status, "")
            rows.append([e(cohort.title(a)), _bar(w.share), _pct(cohort_mean.get(a)), note])
        topic_rows = [
            [e(topic_label(t)), _bar(v), _pct(topic_mean[t]), e(review_pointer(t)) if v < REVIEW_BELOW else ""]
            for t, v in own_topics.get(student, {}).items()
            if not pd.isna(v)
        ]
        body = [
            f"<p>{e(course_title)}；生成时间：{stamp}</p>",
            f"<p>平均得分率 {_pct(row['平均得分率'])}；走势：{e(row['走势'])}"
            + (f"；<span class='risk'>需要关注（{e(row['严重程度'])}）：{e(row['原因'])}</span>" if row["风险"] else "")
            + "</p>",
            "<h2>各份作业</h2>",
            _html_table(rows, ["作业", "得分率", "全班平均", "说明"], text=(-1,)),
            "<h2>各知识点</h2>",
            _html_table(topic_rows, ["知识点", "掌握程度", "全班平均", "复习建议"], text=(-1,))
            if topic_rows
            else "<p class='muted'>暂无已评分的题。</p>",
        ]
        if student in blank:
            body += ["<h2>未作答的题</h2>", "<p>" + "；".join(blank[student]) + "</p>"]
        body.append("<h2>讲师评语</h2>")
        body.append(
            _html_table(comments[student], ["题目", "得分", "评语"], left=3)
            if student in comments
            else "<p class='muted'>暂无评语。</p>"
        )
        yield student, _page(f"学员成绩单：{student} {cohort.learners.get(student, '')}".strip(), body)


# ---------------------------------------------------------------- files
def write_report(course: Course, out_dir: Path, assignment: str | None = None) -> ReportFiles:
    """Write report.html, learners/*.html, report.csv, answers.csv and items.csv into ``out_dir``."""
    if assignment is not None:
        course.require_assignment(assignment)
    # on a large cohort each chart is drawn by a worker process as soon as its data is ready
    with drawing(parallel=learner_count(course) >= PARALLEL_FROM) as drawer:
        cohort = load_cohort(course, assignment)
        require_collected(cohort, assignment)
        title = f"培训成绩报告：{assignment}" if assignment else "培训成绩报告"
        drawer.add(cohort_charts(cohort))
        an = analyse(cohort)
        drawer.add(item_charts(an))
        # CSVs first: a page is never newer than the tables beside it
        out_dir.mkdir(parents=True, exist_ok=True)
        csv = out_dir / "report.csv"
        learner_csv(an).to_csv(csv, index=False, encoding="utf-8-sig")
        answers, items = out_dir / "answers.csv", out_dir / "items.csv"
        answers_table(cohort).to_csv(answers, index=False, encoding="utf-8-sig")
        items_table(an).to_csv(items, index=False, encoding="utf-8-sig")
        folder = out_dir / "learners"
        folder.mkdir(exist_ok=True)
        pages = []
        for student, text in render_learners(an, title):
            page = folder / learner_file(student)
            page.write_text(text, encoding="utf-8")
            pages.append(page)
        for stale in set(folder.glob("*.html")) - set(pages):  # pages of an earlier run's learners
            stale.unlink()
        main = out_dir / "report.html"
        main.write_text(render_html(an, title, pngs=drawer.pngs()), encoding="utf-8")
    return ReportFiles(main, csv, answers, items, pages)


def learner_csv(an: Analysis) -> pd.DataFrame:
    """report.csv: one row per learner, shares in percent, most at risk first."""
    table = an.summary.copy()
    shares = [*an.cohort.assignments, "平均得分率"]
    table[shares] = (table[shares].astype(float) * 100).round(1)
    table = table.rename(columns={c: f"{c} 得分率(%)" if c != "平均得分率" else "平均得分率(%)" for c in shares})
    table["风险"] = table["风险"].map({True: "是", False: "否"})
    return table
