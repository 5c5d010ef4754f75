"""kamlib.priorities: Pareto, priority scores, quadrants, allocation, performance review."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamlib.data import load_accounts, load_orders
from kamlib.priorities import (
    DEFAULT_WEIGHTS,
    QUADRANTS,
    SERVICE_LEVELS,
    allocate,
    pareto,
    performance_review,
    portfolio_quadrants,
    priority_scores,
    service_levels,
    service_plan,
    smallest_set_for_share,
)


@pytest.fixture
def accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A01", "A02", "A03", "A04", "A05"],
            "name": ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司"],
            "annual_revenue": [500.0, 120.0, 80.0, 300.0, 0.0],
            "growth_potential": [2, 5, 3, 4, 1],
            "strategic_importance": [5, 3, 1, 4, 1],
        }
    )


# ---------------------------------------------------------------- pareto
def test_pareto_sorts_and_accumulates(accounts):
    p = pareto(accounts)
    assert p["account_id"].tolist() == ["A01", "A04", "A02", "A03", "A05"]
    assert p["rank"].tolist() == [1, 2, 3, 4, 5]
    assert p["share"].tolist() == pytest.approx([0.5, 0.3, 0.12, 0.08, 0.0])
    assert p["cum_share"].tolist() == pytest.approx([0.5, 0.8, 0.92, 1.0, 1.0])
    assert p["cum_account_share"].tolist() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert "name" in p.columns  # original columns are kept


def test_pareto_ties_keep_input_order():
    df = pd.DataFrame({"account_id": ["X", "Y", "Z"], "annual_revenue": [5.0, 9.0, 5.0]})
    assert pareto(df)["account_id"].tolist() == ["Y", "X", "Z"]


def test_smallest_set_for_share(accounts):
    assert smallest_set_for_share(accounts, 0.8)["account_id"].tolist() == ["A01", "A04"]
    assert smallest_set_for_share(accounts, 0.5)["account_id"].tolist() == ["A01"]
    assert len(smallest_set_for_share(accounts, 1.0)) == 4  # the 0-revenue account is not needed


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(0, 1e4, allow_subnormal=False), min_size=1, max_size=30).filter(lambda xs: sum(xs) > 0),
    st.floats(0.01, 1.0),
)
def test_smallest_set_is_smallest(revenues, share):
    df = pd.DataFrame({"annual_revenue": revenues})
    chosen = smallest_set_for_share(df, share)
    total = sum(revenues)
    assert chosen["annual_revenue"].sum() >= share * total - 1e-9 * total
    # no smaller set reaches the share: the k-1 largest fall short
    largest = sorted(revenues, reverse=True)[: len(chosen) - 1]
    assert sum(largest) < share * total


@pytest.mark.parametrize("share", [0, -0.1, 1.5, "80%"])
def test_smallest_set_rejects_bad_share(accounts, share):
    with pytest.raises(ValueError, match="share"):
        smallest_set_for_share(accounts, share)


def test_pareto_errors_name_column_and_account(accounts):
    with pytest.raises(ValueError, match="缺少列：annual_revenue"):
        pareto(accounts.drop(columns="annual_revenue"))
    bad = accounts.assign(annual_revenue=[500.0, -3.0, 80.0, 300.0, 0.0])
    with pytest.raises(ValueError, match="客户 A02 的 annual_revenue 为 -3.0"):
        pareto(bad)
    with pytest.raises(ValueError, match="合计"):
        pareto(accounts.assign(annual_revenue=0.0))


# ---------------------------------------------------------------- priority scores
def test_priority_scores_example(accounts):
    s = priority_scores(accounts)
    assert s.index.tolist() == accounts["account_id"].tolist()
    assert s.name == "priority_score"
    # A01: size rank 4/4 -> 1, potential (2-1)/4, importance (5-1)/4
    assert s["A01"] == pytest.approx(100 * (0.5 * 1 + 0.3 * 0.25 + 0.2 * 1))
    assert s["A05"] == pytest.approx(0.0)  # smallest, lowest potential and importance


def test_priority_scores_weights_are_normalised(accounts):
    doubled = {k: 2 * w for k, w in DEFAULT_WEIGHTS.items()}
    pd.testing.assert_series_equal(priority_scores(accounts, doubled), priority_scores(accounts))
    only_size = priority_scores(accounts, {"size": 3})
    assert only_size.tolist() == pytest.approx([100, 50, 25, 75, 0])


def test_priority_scores_minmax(accounts):
    s = priority_scores(accounts, {"size": 1}, size_scale="minmax")
    assert s.tolist() == pytest.approx([100, 24, 16, 60, 0])


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"siz": 1}, "未知的权重：'siz'"),
        ({"size": -1, "potential": 1}, "权重 size 为 -1"),
        ({"size": 0, "potential": 0}, "权重之和为 0"),
        ({"size": float("nan")}, "权重 size 为 nan"),
    ],
)
def test_priority_scores_bad_weights(accounts, weights, message):
    with pytest.raises(ValueError, match=message):
        priority_scores(accounts, weights)


def test_priority_scores_bad_data(accounts):
    with pytest.raises(ValueError, match="缺少列：strategic_importance"):
        priority_scores(accounts.drop(columns="strategic_importance"))
    with pytest.raises(ValueError, match="客户 A03 的 growth_potential 为 7"):
        priority_scores(accounts.assign(growth_potential=[2, 5, 7, 4, 1]))
    with pytest.raises(ValueError, match="客户 A02 的 strategic_importance 为空"):
        priority_scores(accounts.assign(strategic_importance=[5, None, 1, 4, 1]))


def test_priority_scores_constant_revenue(accounts):
    s = priority_scores(accounts.assign(annual_revenue=100.0), {"size": 1})
    assert s.tolist() == pytest.approx([50] * 5)


account_rows = st.lists(
    st.tuples(st.floats(0, 1e4, allow_nan=False), st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=25
)


@settings(max_examples=150, deadline=None)
@given(
    account_rows,
    st.fixed_dictionaries(
        {
            "size": st.floats(0, 10),
            "potential": st.floats(0, 10),
            "importance": st.floats(0, 10),
        }
    ).filter(lambda w: sum(w.values()) > 0),
    st.sampled_from(["rank", "minmax"]),
)
def test_priority_scores_range_and_monotone(rows, weights, scale):
    df = pd.DataFrame(rows, columns=["annual_revenue", "growth_potential", "strategic_importance"])
    s = priority_scores(df, weights, size_scale=scale)
    assert ((s >= 0) & (s <= 100)).all()
    # an account at least as good on all three factors never scores lower
    v = df.to_numpy()
    for i in range(len(df)):
        for j in range(len(df)):
            if (v[i] >= v[j]).all():
                assert s.iloc[i] >= s.iloc[j] - 1e-9


# ---------------------------------------------------------------- quadrants
def test_portfolio_quadrants(accounts):
    q = portfolio_quadrants(accounts)
    # revenue median 120: large = A01, A04; potential median 3: high = A02, A04
    assert q.to_dict() == {
        "A01": "重点维护",
        "A02": "选择培育",
        "A03": "维持观察",
        "A04": "重点发展",
        "A05": "维持观察",
    }
    assert set(q) <= set(QUADRANTS)
    assert list(QUADRANTS) == ["重点发展", "重点维护", "选择培育", "维持观察"]


def test_portfolio_quadrants_missing_column(accounts):
    with pytest.raises(ValueError, match="缺少列：growth_potential"):
        portfolio_quadrants(accounts.drop(columns="growth_potential"))


# ---------------------------------------------------------------- allocation
def test_allocate_example():
    scores = pd.Series({"A": 50.0, "B": 30.0, "C": 20.0})
    assert allocate(10, scores).to_dict() == {"A": 5, "B": 3, "C": 2}
    # 7 * (.5, .3, .2) = 3.5, 2.1, 1.4 -> floors 3, 2, 1; one left -> largest remainder A
    assert allocate(7, scores).to_dict() == {"A": 4, "B": 2, "C": 1}
    # cap A at 2: B and C share the other 8 in ratio 3:2
    capped = allocate(10, scores, caps=pd.Series({"A": 2, "B": 9, "C": 9}))
    assert capped.to_dict() == {"A": 2, "B": 5, "C": 3}
    assert capped.dtype == "int64"


def test_allocate_all_zero_scores_split_evenly():
    out = allocate(10, pd.Series([0.0, 0.0, 0.0], index=["x", "y", "z"]))
    assert out.tolist() == [4, 3, 3]


def test_allocate_zero_scores_get_rest_only_after_caps():
    scores = pd.Series({"a": 1.0, "b": 0.0, "c": 0.0})
    assert allocate(3, scores, caps=5).tolist() == [3, 0, 0]
    assert allocate(10, scores, caps=pd.Series({"a": 5, "b": 9, "c": 9})).tolist() == [5, 3, 2]


@pytest.mark.parametrize(
    "budget, caps, scores, message",
    [
        (-5, None, {"a": 1.0}, "预算 budget 为 -5"),
        (10.5, None, {"a": 1.0}, "预算 budget 为 10.5"),
        (400.0, None, {"a": 1.0}, "预算 budget 为 400.0"),
        ("10", None, {"a": 1.0}, "预算 budget 为 '10'"),
        (10, None, {"a": -1.0}, "客户 a 的得分为 -1.0"),
        (10, None, {"a": float("nan")}, "客户 a 的得分为 nan"),
        (10, 3, {"a": 1.0, "b": 1.0}, "上限之和为 6，小于预算 10"),
        (10, -1, {"a": 1.0}, "上限 caps 为 -1"),
        (10, {"a": 20}, {"a": 1.0, "b": 1.0}, r"缺少这些客户的上限：\['b'\]"),
    ],
)
def test_allocate_rejects_bad_input(budget, caps, scores, message):
    caps = pd.Series(caps) if isinstance(caps, dict) else caps
    with pytest.raises(ValueError, match=message):
        allocate(budget, pd.Series(scores), caps)


score_values = st.one_of(st.sampled_from([0.0, 1.0, 2.5, 10.0, 60.0]), st.floats(0, 100, allow_nan=False))


@st.composite
def allocation_problems(draw):
    scores = draw(st.lists(score_values, min_size=1, max_size=20))
    n = len(scores)
    kind = draw(st.sampled_from(["none", "int", "series"]))
    if kind == "none":
        caps, budget = None, draw(st.integers(0, 1000))
    elif kind == "int":
        caps = draw(st.integers(0, 60))
        budget = draw(st.integers(0, caps * n))
    else:
        cap_list = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
        caps = pd.Series(cap_list, index=[f"K{i:02d}" for i in range(n)])
        budget = draw(st.integers(0, sum(cap_list)))
    return budget, pd.Series(scores, index=[f"K{i:02d}" for i in range(n)]), caps


def _cap_list(caps, n):
    if caps is None:
        return [math.inf] * n
    if isinstance(caps, int):
        return [caps] * n
    return caps.tolist()


PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(allocation_problems())
def test_allocate_whole_numbers(problem):
    out = allocate(*problem)
    assert out.dtype == np.int64
    assert all(isinstance(v, int) for v in out.tolist())


@PROPERTY
@given(allocation_problems())
def test_allocate_sums_to_budget(problem):
    budget, scores, caps = problem
    assert int(allocate(budget, scores, caps).sum()) == budget


@PROPERTY
@given(allocation_problems())
def test_allocate_never_negative(problem):
    assert (allocate(*problem) >= 0).all()


@PROPERTY
@given(allocation_problems())
def test_allocate_respects_caps(problem):
    budget, scores, caps = problem
    out = allocate(budget, scores, caps)
    assert all(a <= c for a, c in zip(out, _cap_list(caps, len(scores)), strict=True))


@PROPERTY
@given(allocation_problems())
def test_allocate_deterministic_and_ties_by_index_order(problem):
    budget, scores, caps = problem
    out = allocate(budget, scores, caps)
    pd.testing.assert_series_equal(out, allocate(budget, scores.copy(), caps))
    assert out.index.equals(scores.index)
    cap_list = _cap_list(caps, len(scores))
    for i in range(len(scores)):
        for j in range(i + 1, len(scores)):
            if scores.iloc[i] == scores.iloc[j] and cap_list[i] == cap_list[j]:
                # equal claims: the earlier account gets the extra unit, never the later
                assert 0 <= out.iloc[i] - out.iloc[j] <= 1


@PROPERTY
@given(allocation_problems())
def test_allocate_monotone_in_score(problem):
    budget, scores, caps = problem
    out = allocate(budget, scores, caps)
    cap_list = _cap_list(caps, len(scores))
    for i in range(len(scores)):
        for j in range(len(scores)):
            if scores.iloc[i] > scores.iloc[j] and out.iloc[i] < cap_list[i]:
                assert out.iloc[i] >= out.iloc[j]


@PROPERTY
@given(st.lists(score_values, min_size=1, max_size=20).filter(lambda s: sum(s) > 0), st.integers(0, 1000))
def test_allocate_without_caps_within_one_of_exact_share(scores, budget):
    s = pd.Series(scores)
    out = allocate(budget, s)
    exact = budget * s / s.sum()
    assert ((out - exact).abs() < 1 + 1e-9).all()


@PROPERTY
@given(st.lists(st.just(0.0), min_size=1, max_size=20), st.integers(0, 500))
def test_allocate_all_zero_is_even(scores, budget):
    out = allocate(budget, pd.Series(scores))
    assert out.max() - out.min() <= 1


@PROPERTY
@given(allocation_problems())
def test_allocate_caps_below_budget_is_an_error(problem):
    budget, scores, caps = problem
    cap_total = sum(_cap_list(caps, len(scores)))
    if math.isfinite(cap_total):
        with pytest.raises(ValueError, match="上限之和"):
            allocate(cap_total + 1, scores, caps)


# ---------------------------------------------------------------- performance review
@pytest.fixture
def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": range(1, 9),
            "account_id": ["A01", "A01", "A01", "A01", "A02", "A02", "A03", "A03"],
            "year": [2023, 2024, 2024, 2025, 2023, 2025, 2024, 2025],
            "amount": [100.0, 60.0, 50.0, 90.0, 50.0, 51.0, 30.0, 30.0],
        }
    )


def test_performance_review(orders):
    r = performance_review(orders)
    assert list(r.columns) == ["account_id", "year", "revenue", "growth_pct", "trend"]
    a01 = r[r["account_id"] == "A01"]
    assert a01["year"].tolist() == [2023, 2024, 2025]
    assert a01["revenue"].tolist() == pytest.approx([100, 110, 90])
    assert a01["growth_pct"].tolist()[1:] == pytest.approx([10, -100 * 20 / 110])
    assert a01["trend"].tolist()[1:] == ["增长", "下降"]
    assert pd.isna(a01["trend"].iloc[0])
    a02 = r[r["account_id"] == "A02"]
    assert a02["revenue"].tolist() == pytest.approx([50, 0, 51])  # no orders in 2024 -> 0
    assert a02["trend"].tolist()[1:] == ["下降", "增长"]  # from 0 to 51 is growth
    assert pd.isna(a02["growth_pct"].iloc[2])
    a03 = r[r["account_id"] == "A03"]
    assert a03["trend"].tolist()[2] == "持平"


def test_performance_review_flat_band(orders):
    r = performance_review(orders, flat_band=20)
    assert r[r["account_id"] == "A01"]["trend"].tolist()[1:] == ["持平", "持平"]


def test_performance_review_errors(orders):
    with pytest.raises(ValueError, match="缺少列：year、amount"):
        performance_review(orders.drop(columns=["amount", "year"]).assign(x=1))
    bad = orders.assign(amount=[100.0, -60.0, 50.0, 90.0, 50.0, 51.0, 30.0, 30.0])
    with pytest.raises(ValueError, match="amount 为 -60.0"):
        performance_review(bad)


# ---------------------------------------------------------------- with the case data
def test_case_data_priorities():
    accounts = load_accounts()
    scores = priority_scores(accounts)
    assert scores.index.tolist() == accounts["account_id"].tolist()
    assert scores.between(0, 100).all()
    quadrants = portfolio_quadrants(accounts)
    assert set(quadrants) == set(QUADRANTS)  # the case has accounts in every group
    top = smallest_set_for_share(accounts, 0.8)
    assert len(top) < len(accounts) / 2  # revenue is concentrated, as the lesson says
    out = allocate(400, scores, caps=40)
    assert out.sum() == 400 and out.max() <= 40


def test_case_data_review_matches_annual_revenue():
    review = performance_review(load_orders())
    latest = review[review["year"] == 2025].set_index("account_id")["revenue"]
    revenue = load_accounts().set_index("account_id")["annual_revenue"]
    assert latest.reindex(revenue.index).to_numpy() == pytest.approx(revenue.to_numpy(), abs=0.11)
    assert set(review["trend"].dropna()) <= {"增长", "持平", "下降"}


# ---------------------------------------------------------------- service levels
def test_service_levels_follow_priority_rank():
    scores = pd.Series([10.0, 90.0, 50.0, 70.0, 30.0, 80.0], index=list("abcdef"))
    levels = service_levels(scores)
    a, b, c = (level.name for level in SERVICE_LEVELS)
    assert levels.to_dict() == {"b": a, "f": b, "d": b, "c": c, "e": c, "a": c}


def test_service_plan_hours_sum_to_budget_and_step_down_by_level():
    plan = service_plan(load_accounts(), 400)
    assert int(plan["hours"].sum()) == 400
    by_level = plan.groupby("service_level", sort=False)["hours"]
    assert [name for name, _ in by_level] == [level.name for level in SERVICE_LEVELS]
    lows = by_level.min().tolist()
    highs = by_level.max().tolist()
    assert all(high - low <= 1 for low, high in zip(lows, highs, strict=True))  # one level, one share
    assert lows[0] > highs[1] and lows[1] > highs[2]


def test_service_plan_puts_effort_where_the_sales_are():
    """Issue: proportional scores gave the accounts making 80 % of sales under half of the
    hours and A02 (a quarter of sales) 4 %. The service levels must not argue against lesson 1."""
    accounts = load_accounts()
    plan = service_plan(accounts, 400)
    top = smallest_set_for_share(accounts, 0.8)["account_id"]
    assert plan.loc[top, "hours"].sum() > 0.6 * 400
    assert plan.loc["A02", "service_level"] == SERVICE_LEVELS[0].name
    assert plan.loc["A02", "hours"] == plan["hours"].max()
    assert not plan.loc[top, "service_level"].eq(SERVICE_LEVELS[-1].name).any()
