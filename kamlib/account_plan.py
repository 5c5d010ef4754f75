"""The one-page account plan (客户计划) a trainee brings to their sales manager.

Its sections, in :data:`ACCOUNT_PLAN_SECTIONS`, follow the deck's seven functions of key
account management (了解 … 团队建设, slides 19–21), framed by the relationship tier
(slides 13–17) and the next steps. :func:`account_plan` fills in what the data says
(tier and reasons, priority, portfolio group, team, stakeholder-map gaps, the indicators
to raise); the prompts are left for what only the trainee knows. Export it as an
editable .xlsx, a printable HTML page and, where Chromium is installed, a PDF.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kamlib.priorities import QUADRANTS, performance_review, portfolio_quadrants, priority_scores
from kamlib.roles import ROLES
from kamlib.stakeholders import SHORT_ROLE_ZH, stakeholder_gaps
from kamlib.tiers import INDICATORS, Tier, classify, classify_accounts, steps_to_next_tier

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = [
    "PlanSection",
    "ACCOUNT_PLAN_SECTIONS",
    "AccountPlan",
    "ranked_accounts",
    "account_plan",
    "write_plan_xlsx",
    "plan_html",
    "export_account_plan",
]


@dataclass(frozen=True)
class PlanSection:
    """One part of the plan: title, what the deck (or the course) says of it, and the
    questions the trainee answers in it."""

    key: str
    title: str
    basis: str
    prompts: tuple[str, ...]


ACCOUNT_PLAN_SECTIONS: tuple[PlanSection, ...] = (
    PlanSection(
        "tier",
        "关系层级",
        "四种类型的客户关系：卖主关系、被优先考虑的供应商、合作伙伴关系、战略联盟关系（课件第 13–17 页）",
        ("你自己的判断与数据一致吗？哪些指标的等级需要核实？",),
    ),
    PlanSection(
        "understand",
        "了解客户与竞争对手",
        "了解客户市场和他们的客户、客户所在行业的运作流程、你的产品或服务对客户的业务的作用；"
        "了解竞争对手的产品、他们如何与别人区别开来、他们的竞争优势在哪里（课件第 19 页）",
        (
            "客户的市场和他们的客户：",
            "客户所在行业的运作流程：",
            "我们的产品或服务对客户的业务起什么作用：",
            "主要竞争对手：产品、差异化方式、竞争优势：",
        ),
    ),
    PlanSection(
        "analyse",
        "分析",
        "从账面中检查自己的业绩，正确总结成败的原因，吸取经验教训；了解客户的需求，利用自己的长处，改进自己的不足（课件第 20 页）",
        ("成败的原因和经验教训：", "客户的需求；我们的长处与不足："),
    ),
    PlanSection(
        "prioritise",
        "确定优先顺序",
        "根据客户的大小、潜力及对你本人的及企业的相对重要性来决定对资源的最有效分配（课件第 20 页）",
        ("给这个客户投入多少资源（人的精力、时间、费用）：",),
    ),
    PlanSection(
        "direction",
        "明确方向",
        "知道自己要把客户引向何处；要有能够用具体的目标和目的描述出的远景目标（课件第 20 页）",
        ("远景目标（要把客户引向何处）：", "具体目标（可衡量、有期限）："),
    ),
    PlanSection(
        "proactive",
        "积极主动",
        "寻找和能够看到别人所看不到的机会；以积极的心态向前看，为共同的目标确立行动计划（课件第 21 页）",
        ("别人看不到的机会：",),
    ),
    PlanSection(
        "plan",
        "制定计划",
        "明确向客户提供或开发哪些产品和服务项目；制定发挥客户潜力的策略和行动步骤（课件第 21 页）",
        ("提供或开发哪些产品和服务项目：", "行动步骤 1（做什么、谁负责、何时完成）：", "行动步骤 2：", "行动步骤 3："),
    ),
    PlanSection(
        "team",
        "团队建设",
        "在企业里建立一个有共同远景目标的支持小组，采取一致的行动（课件第 21 页）；关系地图是本课程的做法",
        ("支持小组还需要谁？怎样让大家对远景目标有共同的理解：",),
    ),
    PlanSection(
        "next_steps",
        "下一步",
        "升到下一层级要提升的指标，以及关系地图上要补的缺口（本课程的做法）",
        ("与销售经理一起回顾这份计划的日期：",),
    ),
)
"""The plan's sections, in order; the capstone exercise uses the same structure."""


@dataclass
class AccountPlan:
    """A plan for one account: ``facts[key]`` are what the data says for each section."""

    account_id: str
    name: str
    source: str = ""  # which data the plan was made from, one Chinese sentence
    facts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"客户计划：{self.account_id} {self.name}"

    def _repr_html_(self) -> str:
        """Jupyter shows the printable page in a frame (its styles stay inside)."""
        return (
            f'<iframe srcdoc="{html.escape(plan_html(self), quote=True)}" title="{html.escape(self.title)}" '
            "style='width:100%;height:640px;border:1px solid #ccc;background:white'></iframe>"
        )


def ranked_accounts(accounts: pd.DataFrame) -> pd.DataFrame:
    """*accounts* with the tier columns of :func:`kamlib.tiers.classify_accounts`, and
    priority_score, rank and quadrant where growth_potential and strategic_importance are
    known (NA elsewhere); ordered by rank, accounts without a score last."""
    out = classify_accounts(accounts).reset_index(drop=True)
    complete = out[["annual_revenue", "growth_potential", "strategic_importance"]].notna().all(axis=1)
    out["priority_score"] = pd.Series(float("nan"), index=out.index)
    out["rank"] = pd.array([None] * len(out), dtype="Int64")
    out["quadrant"] = pd.Series([None] * len(out), index=out.index, dtype="str")
    if complete.any():
        scored = out[complete]
        out.loc[complete, "priority_score"] = priority_scores(scored).round(1).to_numpy()
        out.loc[complete, "quadrant"] = portfolio_quadrants(scored).to_numpy()
        order = out.loc[complete, "priority_score"].rank(ascending=False, method="first")
        out.loc[complete, "rank"] = order.astype("int64").to_numpy()
    return out.sort_values(
        ["rank", "annual_revenue"], ascending=[True, False], na_position="last", kind="stable"
    ).reset_index(drop=True)


def _amount(value: float) -> str:
    """An amount in 万元 as the plan prints it: thousands separators, at most two decimals."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _known(value: object) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and pd.isna(value))
        and value is not pd.NA
        and str(value).strip() != ""
    )


def account_plan(
    account_id: str,
    accounts: pd.DataFrame,
    contacts: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    competitors: pd.DataFrame | None = None,
    presence: pd.DataFrame | None = None,
    source: str = "",
) -> AccountPlan:
    """The plan of *account_id*, with the facts the data gives for each section.

    *orders*, *competitors* and *presence* (competitor presence) are optional: the case
    company has them, a trainee's own workbook does not. *source* says which data this
    is (printed on the plan). ValueError names an unknown account.
    """
    ranked = ranked_accounts(accounts)
    match = ranked[ranked["account_id"] == account_id]
    if match.empty:
        raise ValueError(f"客户表中没有客户编号“{account_id}”。")
    row = match.iloc[0]
    plan = AccountPlan(str(account_id), str(row["name"]), source)
    scores = {k: (None if pd.isna(row[k]) else int(row[k])) for k in INDICATORS if k in row.index}
    result = classify(scores)

    tier = (
        [f"当前关系类型：第 {int(result.tier)} 级“{result.tier.label_zh}”"]
        if result.tier is not None
        else ["已知指标不足，当前关系类型无法判定"]
    )
    known = "；".join(f"{INDICATORS[k].label_zh} {v} 级" for k, v in result.scores.items())
    plan.facts["tier"] = tier + ([f"六个指标：{known}"] if known else []) + result.reasons

    understand = []
    profile = "、".join(str(row[c]) for c in ("customer_type", "industry", "region") if _known(row.get(c)))
    if profile:
        understand.append(f"客户：{profile}")
    sales = f"我们对它的销售额：{_amount(row['annual_revenue'])} 万元"
    if _known(row.get("share_of_wallet")):
        sales += (
            f"；采购份额 {row['share_of_wallet']:.1%}（客户同类采购中其余 {1 - row['share_of_wallet']:.1%} 给了别人）"
        )
    understand.append(sales)
    people = contacts[contacts["account_id"] == account_id]
    if len(people):
        levels = people["level"].value_counts()
        understand.append(f"已知联系人 {len(people)} 位：" + "、".join(f"{lvl} {n} 位" for lvl, n in levels.items()))
    if presence is not None and competitors is not None:
        rivals = competitors[
            competitors["competitor_id"].isin(presence.loc[presence["account_id"] == account_id, "competitor_id"])
        ]
        understand += [
            f"竞争对手 {r['name']}：{r['differentiation']}；优势：{r['advantages']}" for r in rivals.to_dict("records")
        ]
    plan.facts["understand"] = understand

    analyse = []
    if orders is not None:
        review = performance_review(orders)
        mine = review[review["account_id"] == account_id]
        analyse += [
            f"{int(r['year'])} 年销售额 {_amount(r['revenue'])} 万元"
            + ("" if pd.isna(r["growth_pct"]) else f"，比上年{r['growth_pct']:+.1f}%（{r['trend']}）")
            for r in mine.to_dict("records")
        ]
    if result.tier is not None:
        low = [k for k, v in result.scores.items() if v < result.tier]
        if low:
            analyse.append(
                "低于当前层级的指标（短板）："
                + "、".join(f"{INDICATORS[k].label_zh}（{result.scores[k]} 级）" for k in low)
            )
    plan.facts["analyse"] = analyse

    if pd.isna(row["rank"]):
        plan.facts["prioritise"] = ["增长潜力或战略重要性还没有填写，无法计算优先得分。"]
    else:
        scored = int(ranked["rank"].notna().sum())
        if scored < 2:
            group = "客户组合分组要和其他客户比较，至少要有 2 个客户填了增长潜力和战略重要性，现在无法分组。"
        elif pd.isna(row["quadrant"]):
            group = f"客户组合分组：这 {scored} 个客户的销售额或增长潜力全都相同，分不出大小、高低，无法分组。"
        else:
            group = (
                f"客户组合分组：{row['quadrant']}——{QUADRANTS[row['quadrant']]}"
                f"（本课程的做法：大小、高低是与这 {scored} 个客户的销售额和增长潜力的中位数相比，不是绝对的标准）"
            )
        plan.facts["prioritise"] = [
            f"优先得分 {row['priority_score']:.1f}，在 {scored} 个客户中排第 {int(row['rank'])} 位（本课程的做法：大小 50%、潜力 30%、重要性 20%）",
            group,
        ]

    steps = steps_to_next_tier(scores) if result.tier is not None else []
    if result.tier is None:
        plan.facts["direction"] = ["先补齐关系指标，判定当前关系类型，再确定目标层级。"]
    elif result.tier == Tier.STRATEGIC_ALLIANCE:
        plan.facts["direction"] = ["已是最高层级“战略联盟关系”：方向是巩固并扩大联盟。"]
    else:
        nxt = Tier(int(result.tier) + 1)
        plan.facts["direction"] = [f"下一层级：第 {int(nxt)} 级“{nxt.label_zh}”"]
    plan.facts["proactive"] = (
        [f"增长潜力 {row['growth_potential']} 分（满分 5）"] if _known(row.get("growth_potential")) else []
    )

    products = []
    if orders is not None:
        mine = orders[orders["account_id"] == account_id]
        if len(mine):
            last = int(mine["year"].max())
            by_line = mine[mine["year"] == last].groupby("product_line")["amount"].sum().sort_values(ascending=False)
            products.append(f"{last} 年所购产品：" + "、".join(f"{k} {_amount(v)} 万元" for k, v in by_line.items()))
    plan.facts["plan"] = products

    team = [f"{SHORT_ROLE_ZH[key]}：{row[key] if _known(row.get(key)) else '（空缺）'}" for key in ROLES]
    gaps = stakeholder_gaps(account_id, accounts, contacts)
    team += [f"关系地图缺口——{g.label_zh}：{g.message}" for g in gaps]
    plan.facts["team"] = team

    plan.facts["next_steps"] = [
        f"把“{INDICATORS[s.indicator].label_zh}”从第 {s.current} 级提升到第 {s.target} 级" for s in steps
    ] + [f"补上关系地图的缺口：{g.label_zh}" for g in gaps]
    return plan


def _file_stem(plan: AccountPlan) -> str:
    """客户计划_<id>; characters a file name cannot hold become _, plus a short checksum of
    the id so that two ids (K/1, K:1) never share a file."""
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", plan.account_id)
    if safe != plan.account_id:
        safe += "-" + hashlib.sha1(plan.account_id.encode("utf-8")).hexdigest()[:6]
    return "客户计划_" + safe


def write_plan_xlsx(plan: AccountPlan, path: str | os.PathLike) -> None:
    """Write the plan as an editable one-page workbook (sheet 客户计划): per section its
    title, basis, the facts (grey) and a yellow cell to fill in after each prompt."""
    _plan_workbook(plan).save(os.fspath(path))


def _plan_workbook(plan: AccountPlan) -> Workbook:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "客户计划"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.append([plan.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        ["说明", f"{plan.source}灰色是根据数据整理的已知情况，黄色格子由你填写。客户资料只保存在你自己的电脑上。"]
    )
    for section in ACCOUNT_PLAN_SECTIONS:
        ws.append([section.title, section.basis])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True) if cell.column == 1 else Font(italic=True, color="555555")
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = wrap
        for fact in plan.facts.get(section.key, []):
            ws.append(["已知", fact])
            ws.cell(row=ws.max_row, column=2).fill = PatternFill("solid", fgColor="F2F2F2")
            ws.cell(row=ws.max_row, column=2).alignment = wrap
        for prompt in section.prompts:
            ws.append([prompt, ""])
            ws.cell(row=ws.max_row, column=1).alignment = wrap
            ws.cell(row=ws.max_row, column=2).fill = PatternFill("solid", fgColor="FFF2CC")
            ws.row_dimensions[ws.max_row].height = 30
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return wb


def _cells(source: str | os.PathLike | io.BytesIO) -> list[list]:
    """The values of every sheet of the workbook at *source*, as openpyxl reads them back."""
    from openpyxl import load_workbook

    return [[ws.title, *ws.iter_rows(values_only=True)] for ws in load_workbook(source)]


def _holds_other_cells(path: Path, wb: Workbook) -> bool:
    """Whether the workbook at *path* holds other values than *wb* (or cannot be read)."""
    written = io.BytesIO()
    wb.save(written)
    try:
        return _cells(path) != _cells(written)
    except Exception:  # not a workbook openpyxl can read: keep it as it is
        return True


_CSS = """
@page { size: A4; margin: 10mm; }
body { font-family: "KamSans", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
       "Microsoft YaHei", "PingFang SC", sans-serif; font-size: 8pt; line-height: 1.3; color: #222; margin: 0; }
h1 { font-size: 13pt; margin: 0 0 2px; }
.note { color: #555; margin: 0 0 4px; }
main { columns: 2; column-gap: 8mm; }
section { break-inside: avoid; border-top: 1px solid #9dc3e6; padding: 2px 0 4px; }
h2 { font-size: 9.5pt; margin: 0; }
.basis { color: #555; font-style: italic; margin: 0 0 1px; }
ul { margin: 0; padding-left: 14px; }
.fill { margin-top: 2px; }
.fill span { display: block; border-bottom: 1px solid #999; min-height: 1.4em; }
"""


def plan_html(plan: AccountPlan) -> str:
    """The plan as a printable one-page HTML document (A4), with lines to write on."""
    esc = html.escape
    parts = [
        f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{esc(plan.title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{esc(plan.title)}</h1>",
        f"<p class='note'>{esc(plan.source)}下划线处由你填写。客户资料只保存在你自己的电脑上。</p><main>",
    ]
    for section in ACCOUNT_PLAN_SECTIONS:
        facts = "".join(f"<li>{esc(f)}</li>" for f in plan.facts.get(section.key, []))
        fills = "".join(f"<div class='fill'>{esc(p)}<span></span></div>" for p in section.prompts)
        parts.append(
            f"<section><h2>{esc(section.title)}</h2><p class='basis'>{esc(section.basis)}</p>"
            f"{'<ul>' + facts + '</ul>' if facts else ''}{fills}</section>"
        )
    parts.append("</main></body></html>")
    return "".join(parts)


def export_account_plan(plan: AccountPlan, folder: str | os.PathLike, pdf: bool = True) -> dict[str, Path]:
    """Write the plan into *folder* (created if needed) as 客户计划_<编号>.xlsx and .html,
    and .pdf when *pdf* and Chromium is installed. Returns {"xlsx"|"html"|"pdf": path}.

    An existing 客户计划_<编号>.xlsx that holds anything else (what the trainee filled in,
    or the plan of older data) is never overwritten: the plan then goes to
    客户计划_<编号>（2）.xlsx, .html (or the next free number) and "kept" names the old file.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    wb = _plan_workbook(plan)
    stem = base = _file_stem(plan)
    number, kept = 1, None
    while (out / f"{stem}.xlsx").exists() and _holds_other_cells(out / f"{stem}.xlsx", wb):
        kept = kept or out / f"{stem}.xlsx"
        number += 1
        stem = f"{base}（{number}）"
    written = {"xlsx": out / f"{stem}.xlsx", "html": out / f"{stem}.html"}
    wb.save(written["xlsx"])
    written["html"].write_text(plan_html(plan), encoding="utf-8")
    if pdf:
        from kamlib.pdf import find_chromium, html_to_pdf

        chromium = find_chromium()
        if chromium is not None:
            html_to_pdf(written["html"], out / f"{stem}.pdf", chromium)
            written["pdf"] = out / f"{stem}.pdf"
    if kept is not None:
        written["kept"] = kept
    return written
