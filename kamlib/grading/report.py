"""``kam report``: where the cohort stands, as one self-contained HTML page and a CSV.

The page shows the score distribution of each assignment, the pass rate of each
question (hardest first), each trainee's progress across assignments and who is at
risk. Charts are PNGs embedded as base64, so the file can be mailed as it is.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import kamlib.plots

from .course import Course, KamError
from .tables import GradeTables, read_gradebook

PASS_SHARE = 0.6
RISK_SHARE = 0.6
PASS_RULE_ZH = (
    f"某题“通过”指该题得分不低于其分值的 {PASS_SHARE:.0%}（自动评分的题即评分测试通过）；"
    "尚待人工评分的答案和未能评分的提交不计入。"
)
RISK_RULE_ZH = (
    f"风险学员：已收作业的平均得分率低于 {RISK_SHARE:.0%}（未提交的作业按 0 分计），"
    "或有已收作业未提交。“已收作业”指至少有一名学员提交过的作业；得分已扣除迟交扣分，"
    "尚待人工评分的答案暂按 0 分计（见“待人工评分”列）。"
)


@dataclass
class ReportFiles:
    html: Path
    csv: Path


# ---------------------------------------------------------------- the numbers
def collected(subs: pd.DataFrame) -> list[str]:
    """Assignments at least one trainee submitted, in gradebook order."""
    names = subs.loc[subs["submitted"], "assignment"]
    return list(dict.fromkeys(a for a in subs["assignment"] if a in set(names)))


def with_share(subs: pd.DataFrame) -> pd.DataFrame:
    """``subs`` plus ``share`` = score / max score (0..1; NaN when the maximum is 0)."""
    out = subs.copy()
    out["share"] = out["score"] / out["max_score"].where(out["max_score"] > 0)
    return out


def score_summary(subs: pd.DataFrame) -> pd.DataFrame:
    """Per collected assignment: submissions and the spread of their score shares."""
    rows = []
    data = with_share(subs)
    for name in collected(subs):
        shares = data.loc[(data["assignment"] == name) & data["submitted"], "share"]
        rows.append({
            "作业": name, "满分": float(data.loc[data["assignment"] == name, "max_score"].iloc[0]),
            "提交人数": int(shares.size), "应交人数": int((data["assignment"] == name).sum()),
            "平均得分率": shares.mean(), "中位数": shares.median(),
            "最低": shares.min(), "最高": shares.max(),
        })
    return pd.DataFrame(rows, columns=["作业", "满分", "提交人数", "应交人数", "平均得分率", "中位数", "最低", "最高"])


def question_pass_rates(cells: pd.DataFrame) -> pd.DataFrame:
    """Per graded question: how many answers were graded and passed; hardest first."""
    graded = cells[cells["manual_score"].notna() | ~cells["needs_manual_grade"]].copy()
    graded["passed"] = graded["score"] >= PASS_SHARE * graded["max_score"]
    table = (
        graded.groupby(["assignment", "notebook", "cell"], sort=False)
        .agg(autograded=("autograded", "first"), points=("max_score", "first"),
             graded=("passed", "size"), passed=("passed", "sum"))
        .reset_index()
    )
    table["pass_rate"] = table["passed"] / table["graded"]
    table = table.sort_values(["pass_rate", "assignment", "notebook", "cell"], kind="stable", ignore_index=True)
    return pd.DataFrame({
        "作业": table["assignment"], "笔记本": table["notebook"], "题目": table["cell"],
        "类型": np.where(table["autograded"], "自动评分", "人工评分"),
        "分值": table["points"], "已评人数": table["graded"].astype(int),
        "通过人数": table["passed"].astype(int), "通过率": table["pass_rate"],
    })


def progress(subs: pd.DataFrame) -> pd.DataFrame:
    """Trainee x collected assignment score share (NaN = not submitted)."""
    data = with_share(subs)
    data = data[data["assignment"].isin(collected(subs))]
    data = data.assign(share=data["share"].where(data["submitted"]))
    table = data.pivot(index="student_id", columns="assignment", values="share")
    return table.reindex(columns=collected(subs))


def trainee_summary(subs: pd.DataFrame) -> pd.DataFrame:
    """One row per trainee: share per collected assignment, average, missing, risk and why."""
    table = progress(subs)
    names = subs.drop_duplicates("student_id").set_index("student_id")
    pending = subs[subs["needs_manual_grade"] & subs["assignment"].isin(table.columns)].groupby("student_id").size()
    rows = []
    for student, shares in table.iterrows():
        missing = [a for a in table.columns if pd.isna(shares[a])]
        average = shares.fillna(0.0).mean() if len(table.columns) else float("nan")
        reasons = []
        if average < RISK_SHARE:
            reasons.append(f"平均得分率 {average:.0%} 低于 {RISK_SHARE:.0%}")
        if missing:
            reasons.append(f"未提交 {'、'.join(missing)}")
        full = "".join(str(names.at[student, c] or "") for c in ("last_name", "first_name"))
        rows.append({"学员编号": student, "姓名": full, **{a: shares[a] for a in table.columns},
                     "平均得分率": average, "未提交数": len(missing),
                     "待人工评分": int(pending.get(student, 0)),
                     "风险": bool(reasons), "原因": "；".join(reasons)})
    return pd.DataFrame(rows, columns=["学员编号", "姓名", *table.columns, "平均得分率", "未提交数",
                                       "待人工评分", "风险", "原因"])


# ---------------------------------------------------------------- the charts
def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float, rows: int = 1) -> tuple[Figure, list]:
    kamlib.plots.use_chinese_font()
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes)


def distribution_chart(subs: pd.DataFrame) -> Figure:
    """A histogram of score shares per collected assignment."""
    names = collected(subs)
    data = with_share(subs)
    fig, axes = _figure(7, 1.9 * len(names) + 0.6, rows=len(names))
    bins = np.linspace(0, 100, 11)
    for ax, name in zip(axes, names):
        shares = data.loc[(data["assignment"] == name) & data["submitted"], "share"].dropna() * 100
        ax.hist(shares.clip(0, 100), bins=bins, color=kamlib.plots.BAR_COLOR, edgecolor="white")
        ax.set_title(f"{name}（{len(shares)} 人提交，平均 {shares.mean():.0f}%）", fontsize=10, loc="left")
        ax.set_xlim(0, 100)
        ax.set_ylabel("人数")
        ax.yaxis.get_major_locator().set_params(integer=True)
    axes[-1].set_xlabel("得分率（%）")
    return fig


def pass_rate_chart(questions: pd.DataFrame, limit: int = 30) -> Figure:
    """Horizontal bars of pass rates, the hardest question on top."""
    shown = questions.head(limit)
    fig, (ax,) = _figure(7, 0.32 * len(shown) + 1.2)
    several = shown["作业"].nunique() > 1
    labels = [f"{a} / {q}" if several else q for a, q in zip(shown["作业"], shown["题目"])]
    y = np.arange(len(shown))
    ax.barh(y, shown["通过率"] * 100, color=kamlib.plots.BAR_COLOR)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.axvline(PASS_SHARE * 100, color=kamlib.plots.LINE_COLOR, linestyle="--", linewidth=1)
    ax.set_xlabel("通过率（%）")
    for yi, rate in zip(y, shown["通过率"]):
        ax.text(rate * 100 + 1, yi, f"{rate:.0%}", va="center", fontsize=8)
    return fig


def progress_chart(table: pd.DataFrame) -> Figure:
    """Trainees x assignments heat map of score shares; "未交" where nothing was submitted."""
    fig, (ax,) = _figure(1.3 * len(table.columns) + 2.5, 0.3 * len(table) + 1.4)
    values = table.to_numpy(dtype=float) * 100
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    ax.set_facecolor("#d9d9d9")
    ax.set_xticks(range(len(table.columns)), table.columns)
    ax.set_yticks(range(len(table)), table.index, fontsize=8)
    for (i, j), value in np.ndenumerate(values):
        dark = not np.isnan(value) and (value < 25 or value > 85)
        ax.text(j, i, "未交" if np.isnan(value) else f"{value:.0f}", ha="center", va="center", fontsize=8,
                color="white" if dark else "black")
    fig.colorbar(image, ax=ax, label="得分率（%）")
    return fig


# ---------------------------------------------------------------- the page
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
  margin:2em auto;max-width:62em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.rule{color:#555;font-size:.9em}
img{max-width:100%}.risk{color:#b00}
"""


def _pct(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.0%}"


def _table(df: pd.DataFrame, pct_columns: list[str]) -> str:
    shown = df.copy()
    for column in pct_columns:
        shown[column] = shown[column].map(_pct)
    return shown.to_html(index=False, escape=True, na_rep="—", border=0)


def render_html(tables: GradeTables, title: str) -> str:
    """The report page for the gradebook ``tables``."""
    subs = tables.submissions
    names = collected(subs)
    summary = score_summary(subs)
    questions = question_pass_rates(tables.cells[tables.cells["assignment"].isin(names)])
    trainees = trainee_summary(subs)
    risky = trainees[trainees["风险"]]
    e = html.escape
    parts = [
        f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>",
        f"<p>生成时间：{datetime.now():%Y-%m-%d %H:%M}；学员 {len(trainees)} 人；已收作业 {len(names)} 份："
        f"{e('、'.join(names))}；风险学员 <span class='risk'>{len(risky)}</span> 人。</p>",
        "<h2>一、各作业得分分布</h2>",
        f"<img alt='各作业得分分布' src='data:image/png;base64,{_png(distribution_chart(subs))}'>",
        _table(summary, ["平均得分率", "中位数", "最低", "最高"]),
        "<h2>二、各题通过率（最难的在前）</h2>",
        f"<p class='rule'>{e(PASS_RULE_ZH)}</p>",
    ]
    if len(questions):
        parts.append(f"<img alt='各题通过率' src='data:image/png;base64,{_png(pass_rate_chart(questions))}'>")
    parts += [
        _table(questions, ["通过率"]),
        "<h2>三、学员进度</h2>",
        f"<img alt='学员进度' src='data:image/png;base64,{_png(progress_chart(progress(subs)))}'>",
        _table(trainees.drop(columns=["风险", "原因"]), [*names, "平均得分率"]),
        "<h2>四、风险学员</h2>",
        f"<p class='rule'>{e(RISK_RULE_ZH)}</p>",
        _table(risky[["学员编号", "姓名", "平均得分率", "未提交数", "待人工评分", "原因"]], ["平均得分率"])
        if len(risky) else "<p>没有风险学员。</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(course: Course, out_dir: Path, assignment: str | None = None) -> ReportFiles:
    """Write ``report.html`` and ``report.csv`` (trainee summary, UTF-8 with BOM) into ``out_dir``."""
    if assignment is not None:
        course.require_assignment(assignment)
    tables = read_gradebook(course, assignment)
    if not tables.submissions["submitted"].any():
        which = f"作业“{assignment}”" if assignment else "任何作业"
        raise KamError(f"成绩库中还没有{which}的提交，请先收取并运行 kam grade 作业名")
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"培训成绩报告：{assignment}" if assignment else "培训成绩报告"
    page = out_dir / "report.html"
    page.write_text(render_html(tables, title), encoding="utf-8")
    trainees = trainee_summary(tables.submissions)
    shares = [*collected(tables.submissions), "平均得分率"]
    trainees[shares] = (trainees[shares] * 100).round(1)
    trainees = trainees.rename(columns={c: f"{c} 得分率(%)" if c != "平均得分率" else "平均得分率(%)" for c in shares})
    trainees["风险"] = trainees["风险"].map({True: "是", False: "否"})
    csv = out_dir / "report.csv"
    trainees.to_csv(csv, index=False, encoding="utf-8-sig")
    return ReportFiles(page, csv)
