"""Tests of kamlib.widgets: set the controls from code, read what the widget shows."""

from __future__ import annotations

import re

import ipywidgets
import matplotlib.pyplot as plt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamlib.data import load_accounts
from kamlib.priorities import SERVICE_LEVELS, priority_scores, service_plan, smallest_set_for_share
from kamlib.quizzes import RERUN_NOTE
from kamlib.roles import DUTIES, ROLES
from kamlib.tiers import INDICATORS, Tier, classify, steps_to_next_tier
from kamlib.widgets import (
    AllocationPlanner,
    DutyMatching,
    GoalPlanner,
    ParetoExplorer,
    TierExplorer,
    chart_png,
)
from tests.support.notebook_display import displayed_html

KEYS = list(INDICATORS)
PNG = b"\x89PNG\r\n\x1a\n"


def text(widget: ipywidgets.HTML) -> str:
    """The visible text of an HTML widget."""
    return re.sub(r"<[^>]+>", "", widget.value).replace("&#x27;", "'")


@pytest.fixture(scope="module")
def accounts():
    return load_accounts()


@pytest.fixture(autouse=True)
def no_leaked_figures():
    yield
    assert plt.get_fignums() == [], "a widget left a pyplot figure open"


def test_widgets_have_a_chinese_title_and_the_rerun_note(accounts):
    """The note is an output of its own below the widget: it stays where a reopened notebook cannot draw the widget."""
    made = [
        TierExplorer(),
        DutyMatching(),
        ParetoExplorer(accounts),
        AllocationPlanner(accounts),
        GoalPlanner(accounts.iloc[0]),
    ]
    for widget in made:
        assert isinstance(widget, ipywidgets.VBox)
        assert re.search(r"[\u4e00-\u9fff]", widget.children[0].value), "Chinese title"
        assert [RERUN_NOTE in html for html in displayed_html(widget)] == [False, True]


# ---------------------------------------------------------------- tier explorer


def test_tier_explorer_defaults_to_vendor():
    te = TierExplorer()
    assert te.scores == {k: 1 for k in KEYS}
    assert te.tier is Tier.VENDOR and "卖主关系" in text(te.tier_html)
    assert [INDICATORS[k].label_zh in text(te.children[i + 1].children[0].children[0]) for i, k in enumerate(KEYS)] == [
        True
    ] * 6


def test_tier_explorer_all_three_is_partnership():
    te = TierExplorer()
    for slider in te.sliders.values():
        slider.value = 3
    assert te.tier is Tier.PARTNERSHIP
    assert "合作伙伴关系" in text(te.tier_html)
    assert "关系不均衡" not in text(te.tier_html)
    for key in KEYS:
        assert INDICATORS[key].levels[3] in text(te.level_texts[key])
    for reason in classify(te.scores).reasons:
        assert reason in text(te.reasons_html)
    assert "战略联盟关系" in text(te.steps_html)


def test_tier_explorer_level_text_follows_slider():
    te = TierExplorer()
    key = "pricing"
    for level in (2, 4, 1):
        te.sliders[key].value = level
        assert text(te.level_texts[key]) == INDICATORS[key].level_zh(level)


# (indicator, level) texts the course derived where the deck is silent (as in test_tiers.py).
DERIVED = {("competition", 2), ("pricing", 4), ("contact_level", 1), ("contract", 1), ("contract", 2)}


def test_tier_explorer_marks_the_levels_the_course_derived():
    assert {(key, k) for key, ind in INDICATORS.items() for k in ind.derived} == DERIVED
    te = TierExplorer()
    for key in KEYS:
        for level in (1, 2, 3, 4):
            te.sliders[key].value = level
            shown = text(te.level_texts[key])
            assert shown.startswith(INDICATORS[key].levels[level])
            assert ("（本课程推断）" in shown) is ((key, level) in DERIVED), (key, level, shown)
    # the steps to the next tier mark a derived target level too
    te.set_scores({k: 1 for k in KEYS})
    assert "（本课程推断）" in text(te.steps_html)  # 卖主关系 → 被优先考虑的供应商: competition 2 is derived


def test_tier_explorer_shows_the_steps_to_next_tier():
    scores = {
        "competition": 2,
        "information_access": 3,
        "pricing": 1,
        "contact_level": 2,
        "contract": 2,
        "visibility": 1,
    }
    te = TierExplorer(scores)
    assert te.tier is Tier.PREFERRED_SUPPLIER
    steps = steps_to_next_tier(scores)
    assert f"最少需要提升 {len(steps)} 个指标" in text(te.steps_html)
    for step in steps:
        advice = f"{INDICATORS[step.indicator].label_zh}：第 {step.current} 级 → 第 {step.target} 级"
        assert advice in text(te.steps_html)
    # following the advice lifts the tier by one
    te.set_scores({s.indicator: s.target for s in steps})
    assert te.tier is Tier.PARTNERSHIP


def test_tier_explorer_top_and_mixed():
    te = TierExplorer({k: 4 for k in KEYS})
    assert te.tier is Tier.STRATEGIC_ALLIANCE and "最高层级" in text(te.steps_html)
    te.set_scores({"pricing": 1, "contract": 2})
    assert te.result.mixed and "关系不均衡" in text(te.tier_html)


def test_tier_explorer_unknown_indicators():
    te = TierExplorer({k: 3 for k in KEYS})
    for key in KEYS[:3]:
        te.unknown[key].value = True
    assert te.scores[KEYS[0]] is None and te.sliders[KEYS[0]].disabled
    assert te.tier is None
    assert "指标不足" in text(te.tier_html) and "补充" in text(te.steps_html)
    assert "未知" in text(te.level_texts[KEYS[0]])
    te.unknown[KEYS[0]].value = False
    assert te.tier is Tier.PARTNERSHIP and not te.sliders[KEYS[0]].disabled


def test_tier_explorer_from_an_account_row(accounts):
    row = accounts.iloc[1]
    te = TierExplorer(row)
    assert te.scores == {k: int(row[k]) for k in KEYS}
    assert te.tier is classify({k: row[k] for k in KEYS}).tier


def test_tier_explorer_partial_initial_marks_the_rest_unknown():
    te = TierExplorer({"competition": 2, "pricing": None})
    assert te.scores["competition"] == 2
    assert all(te.unknown[k].value for k in KEYS if k != "competition")


@pytest.mark.parametrize("bad", [{"competition": 5}, {"price": 2}])
def test_tier_explorer_rejects_bad_initial(bad):
    with pytest.raises(ValueError):
        TierExplorer(bad)


_SHARED_EXPLORER = TierExplorer()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=6, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.integers(0, 5),
)
def test_tier_explorer_raising_a_slider_never_lowers_the_tier(levels, unknown, which):
    te = _SHARED_EXPLORER
    te.set_scores({k: (None if u else v) for k, v, u in zip(KEYS, levels, unknown, strict=True)})
    assert te.tier == classify(te.scores).tier
    before = te.tier
    key = KEYS[which]
    if te.sliders[key].value < 4 and not te.unknown[key].value:
        te.sliders[key].value += 1
    after = te.tier
    if before is not None:
        assert after is not None and after >= before
    label = "指标不足" if after is None else after.label_zh
    assert label in text(te.tier_html)


# ---------------------------------------------------------------- duty matching


def test_duty_matching_default_covers_every_role_and_is_seeded():
    dm = DutyMatching(seed=3)
    assert len(dm.duties) == 8 and {d.role for d in dm.duties} == set(ROLES)
    assert [d.id for d in DutyMatching(seed=3).duties] == [d.id for d in dm.duties]
    assert any([d.id for d in DutyMatching(seed=s).duties] != [d.id for d in dm.duties] for s in range(4, 8))
    for duty in dm.duties:
        options = dict((v, k) for k, v in dm.dropdowns[duty.id].options)
        assert options[""] == "请选择…" and dm.dropdowns[duty.id].value == ""
        assert {options[k] for k in ROLES} == {r.label_zh for r in ROLES.values()}


def test_duty_matching_scores_and_marks():
    dm = DutyMatching()
    first, second, *rest = dm.duties
    dm.choose(first.id, first.role)
    wrong = next(k for k in ROLES if k != second.role)
    dm.choose(second.id, wrong)
    assert all(m.value == "" for m in dm.marks.values()), "nothing shown before 检查"
    assert f"已作答 2 / {len(dm.duties)} 项" in text(dm.score_html)
    dm.button.click()
    assert dm.score == 1 and f"答对 1 / {len(dm.duties)} 项" in text(dm.score_html)
    assert "✔" in text(dm.marks[first.id])
    assert "✘" in text(dm.marks[second.id]) and ROLES[second.role].label_zh in text(dm.marks[second.id])
    assert "未作答" in text(dm.marks[rest[0].id])
    dm.choose(second.id, second.role)
    assert dm.marks[second.id].value == "", "a changed answer loses its old mark"
    for duty in rest:
        dm.choose(duty.id, duty.role)
    assert dm.check() == len(dm.duties) and "全部正确" in text(dm.score_html)
    dm.choose(first.id, None)
    assert dm.dropdowns[first.id].value == "" and f"已作答 {len(dm.duties) - 1} /" in text(dm.score_html)


def test_duty_matching_given_ids():
    ids = ["AM-C1", "ES-4", "SM-2"]
    dm = DutyMatching(ids, seed=1)
    assert sorted(d.id for d in dm.duties) == sorted(ids)
    texts = " ".join(text(row.children[0]) for row in dm.children[1:-1])
    for duty in DUTIES:
        assert (duty.text_zh in texts) == (duty.id in ids)
    with pytest.raises(ValueError, match="XX-1"):
        DutyMatching(["AM-C1", "XX-1"])
    with pytest.raises(ValueError):
        DutyMatching(n=0)


# ---------------------------------------------------------------- pareto explorer


def test_pareto_explorer_count_matches_smallest_set(accounts):
    pe = ParetoExplorer(accounts, threshold=80)
    for threshold in (80, 50, 95, 67):
        pe.slider.value = threshold
        expected = smallest_set_for_share(accounts, threshold / 100)
        assert pe.count == len(expected)
        share = expected["cum_share"].iloc[-1]
        assert (
            f"前 {len(expected)} 家客户（占客户数 {len(expected) / len(accounts):.0%}）贡献了 {share:.1%} 的销售额"
        ) in text(pe.summary_html)
        assert share >= threshold / 100
        assert all(name in text(pe.accounts_html) for name in expected["name"])
        assert not any(name in text(pe.accounts_html) for name in accounts["name"] if name not in set(expected["name"]))


def test_pareto_explorer_slider_redraws(accounts):
    pe = ParetoExplorer(accounts)
    chart, count = chart_png(pe.chart), pe.count
    assert bytes(chart).startswith(PNG)
    pe.slider.value = 60
    assert pe.count < count and chart_png(pe.chart).startswith(PNG) and chart_png(pe.chart) != chart
    assert f"前 {pe.count} 家客户" in text(pe.summary_html)


def test_pareto_explorer_rejects_threshold_out_of_range(accounts):
    with pytest.raises(ValueError, match="50 到 95"):
        ParetoExplorer(accounts, threshold=0.8)


# ---------------------------------------------------------------- allocation planner


def test_allocation_planner_default(accounts):
    ap = AllocationPlanner(accounts)
    assert ap.weights == pytest.approx({"size": 0.5, "potential": 0.3, "importance": 0.2})
    assert int(ap.allocation.sum()) == 400
    assert "合计分配 400 小时，预算 400 小时 ✔" in text(ap.total_html)
    assert ap.plan.equals(service_plan(accounts, 400))
    rows = re.findall(r"<tr><td>(\d+)</td><td>(A\d\d)</td>", ap.table_html.value)
    assert len(rows) == 10
    top_id = priority_scores(accounts).idxmax()
    assert rows[0] == ("1", top_id)
    assert chart_png(ap.chart).startswith(PNG) and len(ap.chart.outputs) == 1


def test_allocation_planner_sum_equals_budget(accounts):
    ap = AllocationPlanner(accounts, budget=400, top=5)
    for budget in (0, 10, 1230, 2000, 400):
        ap.budget_slider.value = budget
        assert int(ap.allocation.sum()) == budget and (ap.allocation >= 0).all()
        assert f"合计分配 {budget} 小时，预算 {budget} 小时 ✔" in text(ap.total_html)
    assert AllocationPlanner(accounts, budget=4321).budget_slider.max >= 4321


def test_allocation_planner_weights_change_the_ranking(accounts):
    ap = AllocationPlanner(accounts, top=3)
    before = ap.table_html.value
    for key, value in {"size": 0.0, "potential": 0.0, "importance": 1.0}.items():
        ap.weight_sliders[key].value = value
    expected = priority_scores(accounts, {"size": 0, "potential": 0, "importance": 1})
    assert ap.scores.reindex(expected.index).equals(expected)
    assert ap.table_html.value != before
    first = re.search(r"<tr><td>1</td><td>(A\d\d)</td>", ap.table_html.value).group(1)
    assert expected[first] == expected.max()
    ap.top_slider.value = 7
    assert len(re.findall(r"<tr><td>\d+</td>", ap.table_html.value)) == 7
    assert "7 家客户" in text(ap.chart_caption)


def test_allocation_planner_all_zero_weights_shows_the_message(accounts):
    ap = AllocationPlanner(accounts)
    for slider in ap.weight_sliders.values():
        slider.value = 0
    assert "权重" in text(ap.error_html) and "⚠" in text(ap.error_html)
    assert ap.total_html.value == "" and ap.table_html.value == ""
    ap.weight_sliders["size"].value = 1
    assert ap.error_html.value == "" and "✔" in text(ap.total_html)


def test_allocation_planner_shows_each_service_level(accounts):
    """The level table: every level with its accounts, hours and share of sales."""
    ap = AllocationPlanner(accounts)
    rows = re.findall(r"<tr><td>([^<]+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)（", ap.levels_html.value)
    expected = [
        (level.name, str(int((ap.levels == level.name).sum())), str(int(ap.allocation[ap.levels == level.name].sum())))
        for level in SERVICE_LEVELS
    ]
    assert rows == expected
    assert sum(int(hours) for _, _, hours in rows) == 400
    for level in SERVICE_LEVELS:
        assert level.meaning_zh in text(ap.levels_html)
    assert "服务等级" in text(ap.table_html)


@pytest.mark.parametrize("budget", [-10, 12.5, True])
def test_allocation_planner_rejects_bad_budget(accounts, budget):
    with pytest.raises(ValueError, match="budget"):
        AllocationPlanner(accounts, budget=budget)


# ---------------------------------------------------------------- goal planner


def test_goal_planner_builds_a_plan(accounts):
    row = accounts.iloc[0]
    gp = GoalPlanner(row)
    now = classify({k: row[k] for k in KEYS}).tier
    assert now is not None and now.label_zh in text(gp.children[0])
    assert gp.target.value == Tier(min(int(now) + 1, 4))
    assert all(t >= now for _label, t in gp.target.options)
    assert gp.make_plan() is None and "远景目标" in text(gp.summary_html)
    gp.vision.value = "成为客户的首选供应商"
    gp.goals.value = "明年营收增长 20%\n\n进入供应商短名单\n"
    gp.actions.value = "拜访设备部负责人\n组织技术交流会"
    gp.button.click()
    assert gp.plan["goals"] == ["明年营收增长 20%", "进入供应商短名单"]
    assert gp.plan["actions"] == ["拜访设备部负责人", "组织技术交流会"]
    assert gp.plan["account_id"] == row["account_id"]
    shown = text(gp.summary_html)
    assert f"{now.label_zh} → {gp.target.value.label_zh}" in shown
    assert "组织技术交流会" in shown and "进入供应商短名单" in shown


def test_goal_planner_takes_an_indexed_row(accounts):
    row = accounts.set_index("account_id").loc["A24"]
    gp = GoalPlanner(row)
    assert "A24" in text(gp.children[0]) and row["name"] in text(gp.children[0])
    gp.vision.value, gp.goals.value, gp.actions.value = "v", "g", "a"
    assert gp.make_plan()["account_id"] == "A24"


def test_goal_planner_escapes_input(accounts):
    gp = GoalPlanner(accounts.iloc[0])
    gp.vision.value, gp.goals.value, gp.actions.value = "<b>x</b>", "g", "a"
    gp.make_plan()
    assert "<b>x</b>" not in gp.summary_html.value


def test_goal_planner_takes_a_one_row_table_and_refuses_several_rows(accounts):
    one = accounts[accounts["account_id"] == "A30"]
    assert GoalPlanner(one).account_id == "A30"
    with pytest.raises(ValueError, match="只传入一个客户.*2 行"):
        GoalPlanner(accounts.head(2))
