"""Interactive widgets of the lessons: learn by moving sliders and picking answers.

Every class here is an ipywidgets widget (a ``VBox`` subclass): create one last in a
cell, or pass it to ``display()``; each ends with a note to re-run the cell when a
notebook reopened later no longer answers. Its controls are public
attributes, so a test (or a curious trainee) can set them from code and read what the
widget shows. The widgets only wire controls to :mod:`kamlib.tiers`,
:mod:`kamlib.roles`, :mod:`kamlib.priorities`, :mod:`kamlib.stakeholders` and :mod:`kamlib.plots`; the logic lives
there. Charts are drawn to PNG and put in an ``Output`` widget (``.chart``; read the
image with :func:`chart_png`), so no matplotlib figure stays open and the same code
works in JupyterLab, Binder and headless tests.
"""

from __future__ import annotations

import base64
import html
import random
from collections.abc import Callable, Iterable, Mapping

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from kamlib import plots
from kamlib.priorities import (
    DEFAULT_WEIGHTS,
    SERVICE_LEVELS,
    pareto,
    service_plan,
    smallest_set_for_share,
)
from kamlib.quizzes import WithRerunNote
from kamlib.roles import DUTIES, ROLES, Duty
from kamlib.tiers import INDICATORS, TIER_RULE_ZH, Tier, TierResult, classify, steps_to_next_tier

__all__ = [
    "TierExplorer",
    "DutyMatching",
    "ParetoExplorer",
    "AllocationPlanner",
    "GoalPlanner",
    "StakeholderExplorer",
    "chart_png",
]

WEIGHT_LABELS = {
    "size": "大小（年销售额）",
    "potential": "潜力（增长潜力）",
    "importance": "重要性（战略重要性）",
}

_GREY = "color:#666;font-size:0.9em"
_WARN = "color:#b35900"


def _esc(value: object) -> str:
    return html.escape(str(value))


def _ul(items: Iterable[str]) -> str:
    return "<ul style='margin:2px 0'>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes; the figure is cleared so nothing holds on to it."""
    data = plots.figure_png(fig, dpi=90)
    fig.clear()
    return data


def _chart() -> widgets.Output:
    return widgets.Output(layout=widgets.Layout(max_width="100%"))


def _draw(chart: widgets.Output, fig: Figure) -> None:
    """Replace what ``chart`` shows with ``fig`` as a PNG image (works with or without a
    kernel, and the front end renders it like any image output)."""
    data = base64.b64encode(_png(fig)).decode("ascii")
    chart.outputs = (
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": data, "text/plain": "<图表>"}},
    )


def chart_png(chart: widgets.Output) -> bytes:
    """The PNG bytes a widget's ``chart`` currently shows (b"" when none)."""
    for output in chart.outputs:
        if "image/png" in output.get("data", {}):
            return base64.b64decode(output["data"]["image/png"])
    return b""


def _error_html(err: Exception) -> str:
    return f"<div style='{_WARN}'>⚠ {_esc(err)}</div>"


def _guarded(
    refresh: Callable[[], None], error: widgets.HTML, stale: Iterable[widgets.HTML] = ()
) -> Callable[[object], None]:
    """An observer that refreshes; a kamlib ValueError is shown in ``error`` (and the
    ``stale`` outputs are emptied) instead of being lost in the browser console."""

    def observer(_change: object = None) -> None:
        try:
            refresh()
            error.value = ""
        except ValueError as err:
            error.value = _error_html(err)
            for output in stale:
                output.value = ""

    return observer


def _single_row(row: Mapping[str, object] | pd.Series | pd.DataFrame) -> Mapping[str, object] | pd.Series:
    """Accept a one-row DataFrame (``accounts[accounts.account_id == "A30"]``) as its row."""
    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise ValueError(f"请只传入一个客户（一行数据），现在有 {len(row)} 行；例如 accounts.iloc[0]。")
        return row.iloc[0]
    return row


def _row_scores(row: Mapping[str, object] | pd.Series) -> dict[str, object]:
    row = _single_row(row)
    keys = row.index if isinstance(row, pd.Series) else row.keys()
    return {k: (None if pd.isna(row[k]) else row[k]) for k in INDICATORS if k in keys}


# ---------------------------------------------------------------- tiers


class TierExplorer(WithRerunNote, widgets.VBox):
    """Six indicator sliders (1-4) and the relationship tier they add up to.

    ``initial``: indicator scores (a dict, or one row of the accounts table); missing or
    empty indicators start as 未知. Default: every indicator at level 1.

    Controls: ``sliders[key]`` (IntSlider), ``unknown[key]`` (Checkbox "未知").
    Shown: ``level_texts[key]`` (the deck's words for the level; a level the course derived
    where the deck is silent is marked 本课程推断), ``tier_html``
    (tier, mixed warning), ``reasons_html`` and ``steps_html`` (the fewest raises to
    the next tier). ``result`` is the current :class:`kamlib.tiers.TierResult`.
    """

    def __init__(self, initial: Mapping[str, int | None] | pd.Series | None = None) -> None:
        if isinstance(initial, Mapping):
            classify(initial)  # unknown indicator or bad level: Chinese ValueError
        scores = {k: 1 for k in INDICATORS} if initial is None else _row_scores(initial)
        if isinstance(initial, pd.Series):
            classify(scores)
        self.sliders: dict[str, widgets.IntSlider] = {}
        self.unknown: dict[str, widgets.Checkbox] = {}
        self.level_texts: dict[str, widgets.HTML] = {}
        rows = []
        for key, indicator in INDICATORS.items():
            level = scores.get(key)
            slider = widgets.IntSlider(
                value=1 if level is None else int(level),
                min=1,
                max=4,
                step=1,
                layout=widgets.Layout(width="260px"),
            )
            box = widgets.Checkbox(
                value=level is None, description="未知", indent=False, layout=widgets.Layout(width="70px")
            )
            text = widgets.HTML()
            slider.observe(self._changed, names="value")
            box.observe(self._changed, names="value")
            self.sliders[key], self.unknown[key], self.level_texts[key] = slider, box, text
            label = widgets.HTML(f"<b>{_esc(indicator.label_zh)}</b>", layout=widgets.Layout(width="90px"))
            rows.append(widgets.VBox([widgets.HBox([label, slider, box]), text]))
        self.tier_html = widgets.HTML()
        self.reasons_html = widgets.HTML()
        self.steps_html = widgets.HTML()
        self.result: TierResult = classify({})
        self._hold = False
        self._refresh()
        rule = widgets.HTML(f"<div style='{_GREY}'>{_esc(TIER_RULE_ZH)}</div>")
        super().__init__(
            [
                widgets.HTML("<h4>客户关系类型探索器：移动滑块，看关系类型如何变化</h4>"),
                *rows,
                self.tier_html,
                self.reasons_html,
                self.steps_html,
                rule,
            ]
        )

    @property
    def scores(self) -> dict[str, int | None]:
        """The current scores, ``None`` for indicators marked 未知."""
        return {k: None if self.unknown[k].value else self.sliders[k].value for k in INDICATORS}

    @property
    def tier(self) -> Tier | None:
        return self.result.tier

    def set_scores(self, scores: Mapping[str, int | None]) -> None:
        """Set several indicators at once (``None`` = 未知); others keep their value."""
        classify(scores)  # validates keys and levels
        self._hold = True
        try:
            for key, level in scores.items():
                self.unknown[key].value = level is None
                if level is not None:
                    self.sliders[key].value = int(level)
        finally:
            self._hold = False
        self._refresh()

    def _changed(self, _change: object) -> None:
        if not self._hold:
            self._refresh()

    def _refresh(self) -> None:
        scores = self.scores
        for key, indicator in INDICATORS.items():
            self.sliders[key].disabled = scores[key] is None
            text = "（未知，不计入判定）" if scores[key] is None else indicator.level_zh(scores[key])
            self.level_texts[key].value = f"<div style='{_GREY};margin-left:94px'>{_esc(text)}</div>"
        self.result = result = classify(scores)
        if result.tier is None:
            head = "<b>关系类型：</b>指标不足，无法判定（已知指标少于 4 个）"
        else:
            head = (
                f"<b>关系类型：</b><span style='font-size:1.2em'>{_esc(result.tier.label_zh)}</span>"
                f"（第 {int(result.tier)} 级，{_esc(result.tier.label_en)}）"
            )
        if result.mixed:
            head += f"<div style='{_WARN}'>⚠ 关系不均衡：最高与最低的指标相差 2 级或以上。</div>"
        self.tier_html.value = head
        self.reasons_html.value = "<b>判定理由：</b>" + _ul(result.reasons)
        if result.tier is None:
            self.steps_html.value = "<b>升级路径：</b>请先补充指标（取消“未知”），才能给出升级步骤。"
        elif result.tier is Tier.STRATEGIC_ALLIANCE:
            self.steps_html.value = "<b>升级路径：</b>已经是最高层级“战略联盟关系”，重点是保持和深化。"
        else:
            target = Tier(int(result.tier) + 1)
            steps = [
                f"{INDICATORS[s.indicator].label_zh}：第 {s.current} 级 → 第 {s.target} 级"
                f"——{INDICATORS[s.indicator].level_zh(s.target)}"
                for s in steps_to_next_tier(scores)
            ]
            self.steps_html.value = f"<b>升到“{_esc(target.label_zh)}”最少需要提升 {len(steps)} 个指标：</b>" + _ul(
                steps
            )


# ---------------------------------------------------------------- roles


def _default_duties(rng: random.Random, n: int) -> list[Duty]:
    """``n`` duties spread over the three roles (round robin), in random order."""
    pools = {key: [d for d in DUTIES if d.role == key] for key in ROLES}
    for pool in pools.values():
        rng.shuffle(pool)
    chosen: list[Duty] = []
    while len(chosen) < min(n, len(DUTIES)):
        for pool in pools.values():
            if pool and len(chosen) < n:
                chosen.append(pool.pop())
    rng.shuffle(chosen)
    return chosen


class DutyMatching(WithRerunNote, widgets.VBox):
    """Pick the position that holds each duty; 检查 scores and marks every row.

    ``duty_ids``: which duties (default: ``n`` duties drawn with ``seed``, spread over the
    three positions); the rows are shuffled by ``seed``.

    Controls: ``dropdowns[duty_id]`` (value: a ROLES key, "" = 请选择…), ``button`` (检查).
    Shown: ``marks[duty_id]`` (✔, or ✘ with the right position), ``score_html``
    (progress while answering, the score after 检查).
    """

    def __init__(self, duty_ids: Iterable[str] | None = None, seed: int = 0, n: int = 8) -> None:
        rng = random.Random(seed)
        if type(n) is not int or n < 1:
            raise ValueError(f"题目数 n 为 {n!r}，应为不小于 1 的整数。")
        if duty_ids is None:
            self.duties = _default_duties(rng, n)
        else:
            by_id = {d.id: d for d in DUTIES}
            ids = list(duty_ids)
            unknown = [i for i in ids if i not in by_id]
            if unknown or not ids:
                raise ValueError(
                    f"未知的职责编号：{'、'.join(map(str, unknown)) or '（空）'}；"
                    "编号见 kamlib.roles.duties() 的 id 列。"
                )
            self.duties = [by_id[i] for i in dict.fromkeys(ids)]
            rng.shuffle(self.duties)
        options = [("请选择…", "")] + [(role.label_zh, key) for key, role in ROLES.items()]
        self.dropdowns: dict[str, widgets.Dropdown] = {}
        self.marks: dict[str, widgets.HTML] = {}
        rows = []
        for number, duty in enumerate(self.duties, start=1):
            dropdown = widgets.Dropdown(options=options, value="", layout=widgets.Layout(width="200px"))
            mark = widgets.HTML(layout=widgets.Layout(width="220px"))
            dropdown.observe(lambda _change, m=mark: self._answered(m), names="value")
            self.dropdowns[duty.id], self.marks[duty.id] = dropdown, mark
            text = widgets.HTML(f"{number}. {_esc(duty.text_zh)}", layout=widgets.Layout(width="480px"))
            rows.append(widgets.HBox([text, dropdown, mark]))
        self.button = widgets.Button(description="检查", button_style="primary", icon="check")
        self.button.on_click(lambda _button: self.check())
        self.score_html = widgets.HTML()
        self.score: int | None = None
        self._answered(None)
        super().__init__(
            [
                widgets.HTML("<h4>职责配对：这项职责属于哪个职位？</h4>"),
                *rows,
                widgets.HBox([self.button, self.score_html]),
            ]
        )

    def _answered(self, mark: widgets.HTML | None) -> None:
        """A choice changed: drop that row's old mark and show the progress."""
        if mark is not None:
            mark.value = ""
        done = sum(bool(d.value) for d in self.dropdowns.values())
        self.score_html.value = f"已作答 {done} / {len(self.duties)} 项，选完后点“检查”。"

    def choose(self, duty_id: str, role: str | None) -> None:
        """Pick ``role`` (a ROLES key, or None) for the duty ``duty_id``."""
        self.dropdowns[duty_id].value = role or ""

    def check(self) -> int:
        """Mark every row and show the score; returns the number right."""
        right = 0
        for duty in self.duties:
            chosen = self.dropdowns[duty.id].value
            if chosen == duty.role:
                right += 1
                self.marks[duty.id].value = "<span style='color:#1a7f37'>✔ 正确</span>"
            else:
                lead = "✘ 不对" if chosen else "未作答"
                self.marks[
                    duty.id
                ].value = f"<span style='{_WARN}'>{lead}，应为：{_esc(ROLES[duty.role].label_zh)}</span>"
        self.score = right
        total = len(self.duties)
        tail = "全部正确！" if right == total else "对照标出的正确职位，再读一遍这几项职责。"
        self.score_html.value = f"<b>答对 {right} / {total} 项。</b>{tail}"
        return right


# ---------------------------------------------------------------- priorities


class ParetoExplorer(WithRerunNote, widgets.VBox):
    """A revenue-share threshold slider → how few accounts bring that share, and the chart.

    Control: ``slider`` (FloatSlider, percent 50-95). Shown: ``summary_html``
    ("前 N 家客户（占客户数 X%）贡献了 Y% 的销售额"), ``accounts_html`` and ``chart``.
    ``top`` is the current :func:`kamlib.priorities.smallest_set_for_share` table.
    """

    def __init__(self, accounts: pd.DataFrame, threshold: float = 80) -> None:
        if not 50 <= threshold <= 95:
            raise ValueError(f"销售额占比目标 threshold 为 {threshold!r}，应在 50 到 95 之间（单位：%）。")
        self._accounts = accounts
        self._ranked = pareto(accounts)
        self.slider = widgets.FloatSlider(
            value=threshold,
            min=50,
            max=95,
            step=1,
            readout_format=".0f",
            continuous_update=False,
            description="销售额占比目标（%）",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="480px"),
        )
        self.summary_html = widgets.HTML()
        self.accounts_html = widgets.HTML()
        self.error_html = widgets.HTML()
        self.chart = _chart()
        self._refresh()
        self.slider.observe(_guarded(self._refresh, self.error_html), names="value")
        super().__init__(
            [
                widgets.HTML("<h4>二八法则探索器：多少客户贡献了大部分销售额？</h4>"),
                self.slider,
                self.summary_html,
                self.accounts_html,
                self.error_html,
                self.chart,
            ]
        )

    @property
    def count(self) -> int:
        return len(self.top)

    def _refresh(self) -> None:
        share = self.slider.value / 100
        self.top = top = smallest_set_for_share(self._accounts, share)
        last = top.iloc[-1]
        self.summary_html.value = (
            f"<b style='font-size:1.1em'>前 {len(top)} 家客户（占客户数 {last['cum_account_share']:.0%}）"
            f"贡献了 {last['cum_share']:.1%} 的销售额</b>（目标 {self.slider.value:.0f}%）"
        )
        names = top["name"] if "name" in top.columns else top["account_id"]
        self.accounts_html.value = f"<div style='{_GREY}'>这些客户：{_esc('、'.join(map(str, names)))}</div>"
        _draw(self.chart, plots.pareto_chart(self._ranked, threshold=share))


class AllocationPlanner(WithRerunNote, widgets.VBox):
    """Weights and a budget of hours → priority scores, service levels and whole hours.

    Controls: ``weight_sliders`` ("size", "potential", "importance"), ``budget_slider``
    (hours), ``top_slider`` (how many accounts to list). Shown: ``total_html`` (the sum
    equals the budget), ``levels_html`` (accounts, hours and sales per service level),
    ``table_html``, ``chart``, ``error_html``. ``plan`` is the current
    :func:`kamlib.priorities.service_plan`; ``scores``, ``levels`` and ``allocation`` are
    its columns (index account_id).
    """

    def __init__(self, accounts: pd.DataFrame, budget: int = 400, top: int = 10) -> None:
        if type(budget) is not int or budget < 0:
            raise ValueError(f"工时预算 budget 为 {budget!r}，应为不小于 0 的整数（小时）。")
        self._accounts = accounts
        ids = accounts["account_id"] if "account_id" in accounts.columns else accounts.index
        names = accounts["name"] if "name" in accounts.columns else ids
        self._names = dict(zip(ids, names))
        self.weight_sliders = {
            key: widgets.FloatSlider(
                value=DEFAULT_WEIGHTS[key],
                min=0,
                max=1,
                step=0.05,
                readout_format=".2f",
                continuous_update=False,
                description=WEIGHT_LABELS[key],
                style={"description_width": "150px"},
                layout=widgets.Layout(width="460px"),
            )
            for key in DEFAULT_WEIGHTS
        }
        self.budget_slider = widgets.IntSlider(
            value=budget,
            min=0,
            max=max(2000, 2 * budget),
            step=10,
            continuous_update=False,
            description="可投入工时（小时）",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="460px"),
        )
        self.top_slider = widgets.IntSlider(
            value=min(top, len(accounts)),
            min=1,
            max=len(accounts),
            continuous_update=False,
            description="列出前几家客户",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="460px"),
        )
        self.total_html = widgets.HTML()
        self.levels_html = widgets.HTML()
        self.table_html = widgets.HTML()
        self.error_html = widgets.HTML()
        self.chart_caption = widgets.HTML()
        self.chart = _chart()
        self._refresh()
        observer = _guarded(
            self._refresh, self.error_html, [self.total_html, self.levels_html, self.table_html, self.chart_caption]
        )
        for control in [*self.weight_sliders.values(), self.budget_slider, self.top_slider]:
            control.observe(observer, names="value")
        super().__init__(
            [
                widgets.HTML(
                    "<h4>资源分配规划器：按大小、潜力和重要性定服务等级、分工时</h4>"
                    f"<div style='{_GREY}'>本课程的做法：优先得分前六分之一的客户为 A 级，"
                    "其后三分之一为 B 级，其余为 C 级；工时按 A、B、C 级每家 12∶4∶1 的比例分配（取整到小时）。"
                    "权重只看相对大小（会按比例换算成合计 100%）。</div>"
                ),
                *self.weight_sliders.values(),
                self.budget_slider,
                self.top_slider,
                self.error_html,
                self.total_html,
                self.levels_html,
                self.table_html,
                self.chart_caption,
                self.chart,
            ]
        )

    @property
    def weights(self) -> dict[str, float]:
        return {key: slider.value for key, slider in self.weight_sliders.items()}

    def _refresh(self) -> None:
        budget = self.budget_slider.value
        self.plan = service_plan(self._accounts, budget, self.weights)
        self.scores = self.plan["priority_score"]
        self.levels = self.plan["service_level"]
        self.allocation = self.plan["hours"]
        total = int(self.allocation.sum())
        ok = "✔" if total == budget else "✘"
        self.total_html.value = (
            f"<b>合计分配 {total} 小时，预算 {budget} 小时 {ok}</b>"
            f"<span style='{_GREY}'>（整数分配，合计总是等于预算）</span>"
        )
        self.levels_html.value = self._levels_table()
        order = self.plan.index[: self.top_slider.value]
        rows = "".join(
            f"<tr><td>{rank}</td><td>{_esc(key)}</td><td>{_esc(self._names.get(key, ''))}</td>"
            f"<td style='text-align:right'>{self.scores[key]:.1f}</td><td>{_esc(self.levels[key])}</td>"
            f"<td style='text-align:right'>{self.allocation[key]}</td></tr>"
            for rank, key in enumerate(order, start=1)
        )
        self.table_html.value = (
            "<table><thead><tr><th>排名</th><th>客户编号</th><th>客户名称</th><th>优先得分</th>"
            f"<th>服务等级</th><th>分配工时</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        shown = self.allocation[order]
        self.chart_caption.value = (
            f"<div style='{_GREY}'>图中只画出表中的 {len(shown)} 家客户（共 {int(shown.sum())} 小时）。</div>"
        )
        _draw(self.chart, plots.allocation_chart(shown, labels=self._names))

    def _levels_table(self) -> str:
        """Accounts, hours and share of sales per service level."""
        revenue = pd.Series(dict(zip(self._names, self._accounts["annual_revenue"])), dtype="float64")
        total_hours = max(int(self.allocation.sum()), 1)
        total_revenue = float(revenue.sum()) or 1.0
        rows = []
        for level in SERVICE_LEVELS:
            ids = self.levels.index[self.levels == level.name]
            if len(ids) == 0:
                continue
            hours = int(self.allocation[ids].sum())
            rows.append(
                f"<tr><td>{_esc(level.name)}</td><td style='text-align:right'>{len(ids)}</td>"
                f"<td style='text-align:right'>{hours}（{hours / total_hours:.0%}）</td>"
                f"<td style='text-align:right'>{revenue[ids].sum() / total_revenue:.0%}</td>"
                f"<td>{_esc(level.meaning_zh)}</td></tr>"
            )
        return (
            "<table><thead><tr><th>服务等级</th><th>客户数</th><th>工时（占比）</th>"
            f"<th>销售额占比</th><th>服务方式</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )


# ---------------------------------------------------------------- direction and planning


class GoalPlanner(WithRerunNote, widgets.VBox):
    """A one-account plan: where to take the relationship, goals and action steps.

    Controls: ``target`` (Dropdown of tiers), ``vision``, ``goals``, ``actions``
    (Textarea; one goal / step per line), ``button`` (生成计划). Shown: ``summary_html``.
    ``plan`` is the last generated plan as a dict (None until 生成计划).
    """

    def __init__(self, account: pd.Series | pd.DataFrame) -> None:
        account = _single_row(account)
        self.account = account
        self.current = classify(_row_scores(account))
        # A row of load_accounts(), or of accounts.set_index("account_id") (id = row name).
        self.account_id = account.get("account_id", account.name)
        label = f"{self.account_id or ''} {account.get('name', '')}".strip()
        now = self.current.tier
        floor = 1 if now is None else int(now)
        choices = [(f"{t.label_zh}（第 {int(t)} 级）", t) for t in Tier if int(t) >= floor]
        self.target = widgets.Dropdown(
            options=choices,
            value=Tier(min(floor + 1, 4)) if now is not None else Tier.PREFERRED_SUPPLIER,
            description="目标关系",
            style={"description_width": "80px"},
        )
        area = {"layout": widgets.Layout(width="600px", height="80px"), "style": {"description_width": "80px"}}
        self.vision = widgets.Textarea(description="远景目标", placeholder="要把这个客户引向何处？", **area)
        self.goals = widgets.Textarea(description="具体目标", placeholder="每行一个可衡量的目标", **area)
        self.actions = widgets.Textarea(
            description="行动步骤", placeholder="每行一步：做什么、谁负责、何时完成", **area
        )
        self.button = widgets.Button(description="生成计划", button_style="primary", icon="list")
        self.button.on_click(lambda _button: self.make_plan())
        self.summary_html = widgets.HTML()
        self.plan: dict[str, object] | None = None
        if now is None:
            status = "已知指标不足，当前关系类型无法判定"
            hint = ""
        else:
            status = f"当前关系：{now.label_zh}（第 {int(now)} 级）"
            steps = steps_to_next_tier(self.current.scores)
            hint = (
                (
                    "升到下一层级可以先从这些指标入手："
                    + "、".join(f"{INDICATORS[s.indicator].label_zh}（{s.current}→{s.target}）" for s in steps)
                )
                if steps
                else ""
            )
        super().__init__(
            [
                widgets.HTML(
                    f"<h4>客户计划：{_esc(label)}</h4><div>{_esc(status)}</div><div style='{_GREY}'>{_esc(hint)}</div>"
                ),
                self.target,
                self.vision,
                self.goals,
                self.actions,
                self.button,
                self.summary_html,
            ]
        )

    def make_plan(self) -> dict[str, object] | None:
        """Build the plan from the inputs and show it; None (with a hint) when incomplete."""
        goals = [line.strip() for line in self.goals.value.splitlines() if line.strip()]
        actions = [line.strip() for line in self.actions.value.splitlines() if line.strip()]
        missing = [
            name
            for name, value in [("远景目标", self.vision.value.strip()), ("具体目标", goals), ("行动步骤", actions)]
            if not value
        ]
        if missing:
            self.plan = None
            self.summary_html.value = f"<div style='{_WARN}'>请先填写：{'、'.join(missing)}。</div>"
            return None
        target: Tier = self.target.value
        self.plan = {
            "account_id": self.account_id,
            "current_tier": self.current.tier,
            "target_tier": target,
            "vision": self.vision.value.strip(),
            "goals": goals,
            "actions": actions,
        }
        now = "无法判定" if self.current.tier is None else self.current.tier.label_zh
        numbered = "".join(f"<li>{_esc(a)}</li>" for a in actions)
        self.summary_html.value = (
            f"<div style='border:1px solid #ddd;padding:8px'><b>方向：</b>{_esc(now)} → {_esc(target.label_zh)}"
            f"<br><b>远景目标：</b>{_esc(self.plan['vision'])}<br><b>具体目标：</b>{_ul(goals)}"
            f"<b>行动步骤：</b><ol style='margin:2px 0'>{numbered}</ol></div>"
        )
        return self.plan


# ---------------------------------------------------------------- stakeholder map


class StakeholderExplorer(WithRerunNote, widgets.VBox):
    """The stakeholder map of one account at a time (the course's own addition).

    Control: ``account`` (Dropdown of account ids). Shown: ``chart`` (the map, see
    :func:`chart_png`), ``gaps_html`` (the gaps, or that none were found) and
    ``table_html`` (the people and who covers them). ``gaps`` holds the current
    :class:`kamlib.stakeholders.Gap` list.
    """

    def __init__(self, accounts: pd.DataFrame, contacts: pd.DataFrame, account_id: str | None = None) -> None:
        from kamlib.stakeholders import stakeholder_gaps, stakeholder_map

        self._map, self._gaps = stakeholder_map, stakeholder_gaps
        self.accounts, self.contacts = accounts, contacts
        names = dict(zip(accounts["account_id"], accounts["name"]))
        options = [(f"{aid} {plots._short_name(str(name), 14)}", aid) for aid, name in names.items()]
        if not options:
            raise ValueError("客户表是空的，没有可以画关系地图的客户。")
        self.account = widgets.Dropdown(
            options=options,
            value=account_id if account_id in names else options[0][1],
            description="客户",
            style={"description_width": "50px"},
            layout=widgets.Layout(width="360px"),
        )
        self.chart = _chart()
        self.gaps_html, self.table_html, self.error = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.gaps: list = []
        self.account.observe(_guarded(self.refresh, self.error, [self.gaps_html, self.table_html]), names="value")
        super().__init__(
            [
                widgets.HTML(
                    "<b>关系地图（本课程的做法，课件之外的补充）</b>"
                    f"<div style='{_GREY}'>选一个客户：谁决策、谁影响、谁使用、谁把关采购，我方由谁负责，缺口在哪里。</div>"
                ),
                self.account,
                self.error,
                self.chart,
                self.gaps_html,
                self.table_html,
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        """Redraw the map of the chosen account."""
        aid = self.account.value
        people = self._map(aid, self.accounts, self.contacts)
        self.gaps = self._gaps(aid, self.accounts, self.contacts)
        name = self.accounts.loc[self.accounts["account_id"] == aid, "name"].iloc[0]
        _draw(
            self.chart,
            plots.stakeholder_chart(people, self.gaps, f"{aid} {plots._short_name(str(name), 16)}：关系地图"),
        )
        self.gaps_html.value = (
            f"<b style='{_WARN}'>缺口</b>" + _ul(f"{g.label_zh}：{g.message}" for g in self.gaps)
            if self.gaps
            else "<b>没有发现缺口</b>（按本课程的规则）。"
        )
        shown = people.assign(owner_name=people["owner_name"].fillna("—"))[
            ["name", "title", "level", "buying_role", "relationship_strength", "owner_zh", "owner_name"]
        ]
        shown.columns = ["姓名", "职务", "层级", "采购角色", "关系强度", "我方维护角色", "我方负责人"]
        self.table_html.value = shown.to_html(index=False, na_rep="", border=0)
