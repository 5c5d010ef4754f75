"""kamlib.data: the case-study tables, their consistency, the generator and the loaders."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamlib.data import (
    INDICATOR_COLUMNS,
    PRODUCT_LINES,
    SCHEMAS,
    DataError,
    load_accounts,
    load_competitor_presence,
    load_competitors,
    load_contacts,
    load_orders,
    zh_columns,
)
from kamlib.data._validation import _validated, read_table
from tools.generate_data import SEED, build_tables, csv_bytes, main

INDICATORS = ["competition", "information_access", "pricing", "contact_level", "contract", "visibility"]
COLUMNS = {  # as agreed in the API spec, written out so that schema drift is caught
    "accounts.csv": [
        "account_id",
        "name",
        "customer_type",
        "industry",
        "region",
        "annual_revenue",
        "growth_potential",
        "strategic_importance",
        "share_of_wallet",
        *INDICATORS,
        "account_manager",
        "executive_sponsor",
        "sales_manager",
    ],
    "orders.csv": ["order_id", "account_id", "order_date", "year", "product_line", "amount"],
    "contacts.csv": [
        "contact_id",
        "account_id",
        "name",
        "title",
        "level",
        "buying_role",
        "relationship_strength",
        "owner_role",
    ],
    "competitors.csv": ["competitor_id", "name", "products", "differentiation", "advantages"],
    "competitor_presence.csv": ["account_id", "competitor_id"],
}
INT_COLUMNS = {"growth_potential", "strategic_importance", *INDICATORS, "year", "relationship_strength"}
FLOAT_COLUMNS = {"annual_revenue", "share_of_wallet", "amount"}
LOADERS = {
    "accounts.csv": load_accounts,
    "orders.csv": load_orders,
    "contacts.csv": load_contacts,
    "competitors.csv": load_competitors,
    "competitor_presence.csv": load_competitor_presence,
}
ENCODINGS = ["utf-8", "utf-8-sig", "gbk"]


def majority_tier(levels: list[int]) -> int:
    """The tier rule, written independently: highest k with more than half of levels >= k."""
    for k in (4, 3, 2, 1):
        if 2 * sum(v >= k for v in levels) > len(levels):
            return k
    raise AssertionError(levels)


@pytest.fixture(scope="module")
def case() -> dict[str, pd.DataFrame]:
    return {name: load() for name, load in LOADERS.items()}


def typed(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Generator output as the loaders return it (written to CSV, read back, validated)."""
    return {name: _validated(read_table(csv_bytes(df), name), SCHEMAS[name], name) for name, df in tables.items()}


def with_tiers(accounts: pd.DataFrame) -> pd.DataFrame:
    levels = accounts[INDICATORS].astype(int)
    return accounts.assign(
        tier=[majority_tier(list(r)) for r in levels.itertuples(index=False)],
        spread=levels.max(axis=1) - levels.min(axis=1),
    )


# ---------------------------------------------------------------- the consistency rules
def check_design_targets(t: dict[str, pd.DataFrame]) -> None:
    accounts = with_tiers(t["accounts.csv"])
    assert accounts["account_id"].tolist() == [f"A{i:02d}" for i in range(1, 49)]
    counts = accounts["tier"].value_counts()
    assert 16 <= counts.get(1, 0) <= 20 and 13 <= counts.get(2, 0) <= 17
    assert 8 <= counts.get(3, 0) <= 12 and 4 <= counts.get(4, 0) <= 6
    assert 5 <= (accounts["spread"] >= 2).sum() <= 8
    assert 3 <= accounts["executive_sponsor"].isna().sum() <= 5
    revenue = accounts["annual_revenue"].sort_values(ascending=False)
    assert 0.65 <= revenue.iloc[:10].sum() / revenue.sum() <= 0.80
    assert (accounts["annual_revenue"] > 0).all()
    assert accounts["name"].is_unique


def check_presence(t: dict[str, pd.DataFrame]) -> None:
    presence = t["competitor_presence.csv"]
    per_account = presence.groupby("account_id").size()
    allowed = {1: (3, 4), 2: (2, 3), 3: (0, 1), 4: (0, 0)}
    for account_id, level in zip(t["accounts.csv"]["account_id"], t["accounts.csv"]["competition"], strict=True):
        low, high = allowed[int(level)]
        assert low <= per_account.get(account_id, 0) <= high, (account_id, level)


def check_contacts(t: dict[str, pd.DataFrame]) -> None:
    contacts, accounts = t["contacts.csv"], t["accounts.csv"]
    groups = dict(tuple(contacts.groupby("account_id")))
    es, am = "executive_sponsor", "account_manager"
    for account in accounts.itertuples(index=False):
        g = groups[account.account_id]
        strength = g["relationship_strength"]
        top = g[g["level"] == "高层"]
        assert 2 <= len(g) <= 6, account.account_id
        level = int(account.contact_level)
        if level == 1:
            assert top.empty and (strength <= 2).all(), account.account_id
        elif level == 2:
            assert ((g["level"] == "中层") & (strength >= 3)).sum() >= 2, account.account_id
            assert not (top["relationship_strength"] >= 4).any(), account.account_id
        elif level == 3:
            assert ((top["relationship_strength"] >= 4) & top["owner_role"].isin([es, am])).any()
            assert not (top["relationship_strength"] == 5).any(), account.account_id
        else:  # 双方总经理一同领导这一战略联盟: only at an alliance, with the customer's 总经理
            assert majority_tier(levels_of(account)) == 4, account.account_id
            leader = top[(top["title"] == "总经理") & (top["relationship_strength"] == 5)]
            assert (leader["owner_role"] == es).any(), account.account_id
        if pd.isna(account.executive_sponsor):
            assert not (g["owner_role"] == es).any(), account.account_id
    assert (contacts.loc[contacts["level"] == "高层", "buying_role"] == "决策者").all()
    assert contacts["name"].is_unique


def levels_of(account) -> list[int]:
    return [int(getattr(account, k)) for k in INDICATORS]


ALLIANCE_ONLY = ["competition", "information_access", "pricing", "contact_level", "contract"]


def check_level_four_means_alliance(t: dict[str, pd.DataFrame]) -> None:
    """Level 4 of these indicators quotes the alliance (joint venture, both general managers)."""
    accounts = with_tiers(t["accounts.csv"])
    below = accounts[accounts["tier"] < 4]
    assert not (below[ALLIANCE_ONLY] == 4).any().any(), below[ALLIANCE_ONLY]


def check_government_buys_through_procurement(t: dict[str, pd.DataFrame]) -> None:
    """政府采购法 / 招标投标法: no alliance with a government buyer, no order outside procurement."""
    accounts = with_tiers(t["accounts.csv"])
    government = accounts[accounts["customer_type"] == "政府"]
    assert not government.empty
    assert (government["tier"] < 4).all() and (government["contract"] <= 2).all(), government


def check_orders(t: dict[str, pd.DataFrame]) -> None:
    orders, accounts = t["orders.csv"], t["accounts.csv"]
    assert (orders["order_date"].dt.year == orders["year"]).all()
    per_year = orders.groupby(["account_id", "year"]).size().unstack()
    assert per_year.columns.tolist() == [2023, 2024, 2025]
    assert per_year.notna().all().all() and (per_year >= 2).all().all()
    revenue = orders.groupby(["account_id", "year"])["amount"].sum().unstack()
    latest = revenue[2025].reindex(accounts["account_id"]).round(1)
    assert np.abs(latest.to_numpy() - accounts["annual_revenue"].to_numpy()).max() < 0.05
    assert (revenue[2025] > revenue[2024]).sum() >= 5  # growing accounts
    assert (revenue[2025] < revenue[2024]).sum() >= 5  # shrinking accounts


def check_references(t: dict[str, pd.DataFrame]) -> None:
    ids = set(t["accounts.csv"]["account_id"])
    assert set(t["orders.csv"]["account_id"]) == ids
    assert set(t["contacts.csv"]["account_id"]) == ids
    presence = t["competitor_presence.csv"]
    assert set(presence["account_id"]) <= ids
    assert set(presence["competitor_id"]) <= set(t["competitors.csv"]["competitor_id"])
    assert not presence.duplicated().any()


CHECKS = [
    check_design_targets,
    check_presence,
    check_contacts,
    check_orders,
    check_references,
    check_level_four_means_alliance,
    check_government_buys_through_procurement,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_case_data_is_consistent(case, check):
    check(case)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_seed_meets_the_rules(seed):
    tables = typed(build_tables(seed))
    for check in CHECKS:
        check(tables)


def test_the_checks_catch_broken_data(case):
    """Each consistency check fails on data broken in its own way."""

    def broken(name: str, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {**case, name: frame}

    accounts = case["accounts.csv"]
    with pytest.raises(AssertionError):  # an alliance-level competition at a crowded account
        check_presence(broken("accounts.csv", accounts.assign(competition=4)))
    with pytest.raises(AssertionError):  # everybody claims top-level contact
        check_contacts(broken("accounts.csv", accounts.assign(contact_level=4)))
    with pytest.raises(AssertionError):
        check_orders(broken("accounts.csv", accounts.assign(annual_revenue=accounts["annual_revenue"] + 0.1)))
    with pytest.raises(AssertionError):
        orders = case["orders.csv"]
        check_references(broken("orders.csv", orders.assign(account_id=orders["account_id"].replace("A01", "A99"))))
    with pytest.raises(AssertionError):
        check_design_targets(broken("accounts.csv", accounts.assign(executive_sponsor="周建华")))
    a30 = accounts["account_id"] == "A30"  # a preferred supplier scored as an alliance
    with pytest.raises(AssertionError):
        check_level_four_means_alliance(
            broken("accounts.csv", accounts.assign(contact_level=accounts["contact_level"].mask(a30, 4)))
        )
    alliance = accounts["account_id"] == "A02"  # an alliance turned into a city authority
    with pytest.raises(AssertionError):
        check_government_buys_through_procurement(
            broken("accounts.csv", accounts.assign(customer_type=accounts["customer_type"].mask(alliance, "政府")))
        )


# ---------------------------------------------------------------- the case data itself
@pytest.mark.parametrize("name", list(LOADERS))
def test_columns_and_dtypes(case, name):
    frame = case[name]
    assert frame.columns.tolist() == COLUMNS[name]
    assert [f.name for f in SCHEMAS[name]] == COLUMNS[name]
    assert list(INDICATOR_COLUMNS) == INDICATORS
    for column in frame.columns:
        dtype = frame[column].dtype
        if column in INT_COLUMNS:
            assert dtype == "Int64", column
        elif column in FLOAT_COLUMNS:
            assert dtype == "float64", column
        elif column == "order_date":
            assert pd.api.types.is_datetime64_dtype(dtype)
        else:
            assert dtype == "str", column
    assert isinstance(frame.index, pd.RangeIndex) and len(frame) > 0


def test_no_missing_values_except_executive_sponsor(case):
    for name, frame in case.items():
        missing = frame.columns[frame.isna().any()].tolist()
        assert missing == (["executive_sponsor"] if name == "accounts.csv" else []), name


def test_accounts_cover_the_intended_variety(case):
    accounts = case["accounts.csv"]
    assert set(accounts["customer_type"]) == {"政府", "企业"}
    assert set(accounts["region"]) == {"华东", "华南", "华北", "华中", "西南"}
    assert accounts["industry"].nunique() >= 6
    assert accounts["growth_potential"].between(1, 5).all()
    assert accounts["strategic_importance"].between(1, 5).all()
    assert accounts["share_of_wallet"].between(0, 1).all()
    size = accounts["annual_revenue"] > accounts["annual_revenue"].median()
    potential = accounts["growth_potential"] > accounts["growth_potential"].median()
    assert pd.crosstab(size, potential).to_numpy().min() > 0  # every portfolio quadrant is used


def test_account_team(case):
    accounts = case["accounts.csv"]
    assert accounts["account_manager"].nunique() == 6
    assert accounts["executive_sponsor"].nunique() == 4
    assert accounts["sales_manager"].nunique() == 2
    assert (accounts.groupby("account_manager")["sales_manager"].nunique() == 1).all()
    people = [set(accounts[c].dropna()) for c in ("account_manager", "executive_sponsor", "sales_manager")]
    assert not (people[0] & people[1] or people[0] & people[2] or people[1] & people[2])


def test_mixed_accounts_have_indicators_two_levels_apart(case):
    accounts = with_tiers(case["accounts.csv"])
    mixed = accounts[accounts["spread"] >= 2]
    assert set(mixed["tier"]) >= {1, 2}  # the lesson shows mixed accounts at different tiers


def test_orders_and_competitors_values(case):
    orders = case["orders.csv"]
    assert set(orders["product_line"]) == set(PRODUCT_LINES)
    assert orders["order_id"].str.fullmatch(r"O20\d\d-\d{4}").all()
    assert orders["order_id"].str[1:5].astype(int).tolist() == orders["year"].tolist()
    competitors = case["competitors.csv"]
    assert competitors["competitor_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert competitors["name"].is_unique
    assert not set(competitors["name"]) & set(case["accounts.csv"]["name"])


def test_tier_rule_agrees_with_kamlib_tiers(case):
    import kamlib.tiers as tiers

    accounts = with_tiers(case["accounts.csv"])
    classified = tiers.classify_accounts(case["accounts.csv"])
    assert classified["tier"].astype(int).tolist() == accounts["tier"].tolist()
    assert classified["mixed"].tolist() == (accounts["spread"] >= 2).tolist()


def test_chinese_headers_cover_every_column(case):
    for name, frame in case.items():
        shown = zh_columns(frame)
        assert shown.columns.is_unique and not set(shown.columns) & set(COLUMNS[name]), name
        pd.testing.assert_frame_equal(shown.set_axis(frame.columns, axis=1), frame)
    assert zh_columns(case["contacts.csv"]).columns[2] == "姓名"
    assert zh_columns(case["accounts.csv"]).columns[1] == "名称"
    assert zh_columns(pd.DataFrame({"x": [1]})).columns.tolist() == ["x"]


def test_chinese_headers_of_added_columns():
    import kamlib.roles as roles

    shown = zh_columns(roles.duties()[["id", "role_zh", "towards_zh", "text_zh", "main", "slide"]])
    assert shown.columns.tolist() == ["编号", "职位", "对象", "职责", "主要职责", "课件页码"]
    assert zh_columns(pd.DataFrame(columns=["mixed"])).columns.tolist() == ["关系不均衡"]


def test_chinese_indicator_headers_match_kamlib_tiers():
    import kamlib.tiers as tiers

    shown = zh_columns(pd.DataFrame(columns=INDICATORS)).columns.tolist()
    assert shown == [tiers.INDICATORS[k].label_zh for k in INDICATORS]


# ---------------------------------------------------------------- generator and files
def test_committed_files_are_what_the_generator_makes():
    tables = build_tables()
    data = files("kamlib") / "data"
    on_disk = sorted(p.name for p in data.iterdir() if p.name.endswith(".csv"))
    assert on_disk == sorted(tables)
    for name, frame in tables.items():
        assert (data / name).read_bytes() == csv_bytes(frame), f"{name}: 请运行 python -m tools.generate_data"


def test_generator_is_deterministic_and_seeded():
    first = {n: csv_bytes(f) for n, f in build_tables(7).items()}
    assert first == {n: csv_bytes(f) for n, f in build_tables(7).items()}
    other = {n: csv_bytes(f) for n, f in build_tables(8).items()}
    assert first["accounts.csv"] != other["accounts.csv"]
    assert first["competitors.csv"] == other["competitors.csv"]  # hand-written, not random


def test_main_writes_the_committed_files(tmp_path, capsys):
    main(["--out", str(tmp_path), "--seed", str(SEED)])
    data = files("kamlib") / "data"
    for name in SCHEMAS:
        assert (tmp_path / name).read_bytes() == (data / name).read_bytes()
    assert "accounts.csv" in capsys.readouterr().out


def test_csv_files_are_utf8_lf_with_fixed_decimals():
    data = files("kamlib") / "data"
    for name in SCHEMAS:
        raw = (data / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and raw.endswith(b"\n")
        raw.decode("utf-8")
    accounts = pd.read_csv(data / "accounts.csv", dtype=str)
    assert accounts["annual_revenue"].str.fullmatch(r"\d+\.\d").all()
    assert accounts["share_of_wallet"].str.fullmatch(r"[01]\.\d\d").all()
    orders = pd.read_csv(data / "orders.csv", dtype=str)
    assert orders["amount"].str.fullmatch(r"\d+\.\d").all()


def test_each_csv_has_a_data_card_saying_figures_are_invented():
    data = files("kamlib") / "data"
    cards = {
        "accounts.csv": "accounts.md",
        "orders.csv": "orders.md",
        "contacts.csv": "contacts.md",
        "competitors.csv": "competitors.md",
        "competitor_presence.csv": "competitors.md",
    }
    for name, card in cards.items():
        text = (data / card).read_text(encoding="utf-8")
        assert "数字均为虚构" in text and "figures are invented" in text
        for column in COLUMNS[name]:
            assert f"`{column}`" in text, (card, column)


def test_the_generator_is_not_part_of_the_package_and_import_stays_light():
    code = (
        "import importlib.util, sys, kamlib.data; "
        "print(importlib.util.find_spec('kamlib.data.generate') is not None, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- a trainee's own file
HEADER = "account_id,name,annual_revenue," + ",".join(INDICATORS)
GOOD = ["K001,甲虚构机械厂,1200.5,1,2,1,1,2,1", "K002,乙虚构水务局,35,3,3,,4,3,3"]


def write(tmp_path: Path, lines: list[str], encoding: str = "utf-8", name: str = "客户.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_good_file_loads_with_the_spec_dtypes(tmp_path):
    frame = load_accounts(write(tmp_path, [HEADER, *GOOD]))
    assert frame.columns.tolist() == COLUMNS["accounts.csv"]
    assert frame["account_id"].tolist() == ["K001", "K002"]
    assert frame["annual_revenue"].tolist() == [1200.5, 35.0]
    assert frame["pricing"].dtype == "Int64" and frame["pricing"].isna().tolist() == [False, True]
    assert frame["region"].isna().all() and frame["region"].dtype == "str"
    assert frame["growth_potential"].isna().all() and frame["growth_potential"].dtype == "Int64"


def test_optional_columns_may_be_missing(tmp_path):
    frame = load_accounts(write(tmp_path, ["account_id,name,annual_revenue", "K1,甲,1"]))
    for column in INDICATORS:
        assert frame[column].dtype == "Int64" and frame[column].isna().all()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encodings_are_detected(tmp_path, encoding):
    frame = load_accounts(write(tmp_path, [HEADER, *GOOD], encoding))
    assert frame["name"].tolist() == ["甲虚构机械厂", "乙虚构水务局"]
    assert frame.columns[0] == "account_id"  # no BOM left in the first column name


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("name\n0\n械\n", "gbk"),  # the GBK bytes of 械 are also the UTF-8 bytes of a Cyrillic е (hypothesis found it)
        ("阿卜杜拉·买买提,Café", "utf-8"),  # UTF-8 with Latin-1 letters and the middle dot stays UTF-8
        ("华东精工,甲", "utf-8"),
    ],
)
def test_a_file_both_utf8_and_gbk_could_read_is_read_as_written(text, encoding):
    from kamlib.data._validation import decode

    assert decode(text.encode(encoding), "客户.csv") == text


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_case_accounts_round_trip_through_excel_encodings(tmp_path, case, encoding):
    text = (files("kamlib") / "data" / "accounts.csv").read_text(encoding="utf-8")
    path = tmp_path / "accounts.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))  # as Excel saves it
    pd.testing.assert_frame_equal(load_accounts(path), case["accounts.csv"])


def test_accepted_spellings(tmp_path):
    lines = [HEADER + ",备注,,", 'K1 , 甲 ,"1,200.5",3.0,2,2,2,2,2,老客户,,', ",,,,,,,,,,,", "K2,乙,7,1,1,1,1,1,1,,,"]
    with pytest.warns(UserWarning, match="“备注”"):  # kept, and named as a column the course does not use
        frame = load_accounts(write(tmp_path, lines))
    assert frame["account_id"].tolist() == ["K1", "K2"] and frame["name"].tolist() == ["甲", "乙"]
    assert frame["annual_revenue"].tolist() == [1200.5, 7.0]
    assert frame["competition"].tolist() == [3, 1]
    assert frame["备注"].tolist()[0] == "老客户" and frame["备注"].dtype == "str"


def test_package_accounts_accept_path_objects_and_strings(tmp_path):
    path = write(tmp_path, [HEADER, *GOOD])
    pd.testing.assert_frame_equal(load_accounts(path), load_accounts(str(path)))


BAD_CASES = {  # id: (lines, row, column, value, words in the message)
    "revenue_not_a_number": ([HEADER, "K1,甲,一千,1,1,1,1,1,1"], 2, "annual_revenue", "一千", "不是数字"),
    "revenue_with_unit": ([HEADER, "K1,甲,12万,1,1,1,1,1,1"], 2, "annual_revenue", "12万", "不是数字"),
    "revenue_negative": ([HEADER, *GOOD, "K3,丙,-5,1,1,1,1,1,1"], 4, "annual_revenue", "-5", "不能为负数"),
    "revenue_bad_grouping": ([HEADER, 'K1,甲,"12,00",1,1,1,1,1,1'], 2, "annual_revenue", "12,00", "不是数字"),
    "revenue_infinite": ([HEADER, "K1,甲,1e400,1,1,1,1,1,1"], 2, "annual_revenue", "1e400", "数值过大"),
    "revenue_nan": ([HEADER, "K1,甲,nan,1,1,1,1,1,1"], 2, "annual_revenue", "nan", "不是数字"),
    "revenue_blank": ([HEADER, "K1,甲,,1,1,1,1,1,1"], 2, "annual_revenue", None, "不能为空"),
    "indicator_too_high": ([HEADER, "K1,甲,1,5,1,1,1,1,1"], 2, "competition", "5", "1–4"),
    "indicator_zero": ([HEADER, "K1,甲,1,1,0,1,1,1,1"], 2, "information_access", "0", "1–4"),
    "indicator_negative": ([HEADER, "K1,甲,1,1,1,-1,1,1,1"], 2, "pricing", "-1", "1–4"),
    "indicator_fraction": ([HEADER, "K1,甲,1,1,1,1,1.5,1,1"], 2, "contact_level", "1.5", "不是整数"),
    "indicator_grouped": ([HEADER, 'K1,甲,1,1,1,1,1,"12,000",1'], 2, "contract", "12,000", "不是整数"),
    "indicator_word": ([HEADER, "K1,甲,1,1,1,1,1,1,高"], 2, "visibility", "高", "不是数字"),
    "duplicate_id": ([HEADER, *GOOD, "K001,丙,3,1,1,1,1,1,1"], 4, "account_id", "K001", "与第 2 行重复"),
    "empty_id": ([HEADER, GOOD[0], ",丙,3,1,1,1,1,1,1"], 3, "account_id", None, "不能为空"),
    "empty_name": ([HEADER, "K1,,3,1,1,1,1,1,1"], 2, "name", None, "不能为空"),
    "missing_account_id": (["name,annual_revenue", "甲,1"], 1, "客户编号", None, "缺少必需的列"),
    "missing_name": (["account_id,annual_revenue", "K1,1"], 1, "名称", None, "缺少必需的列"),
    "missing_revenue": (["account_id,name,competition", "K1,甲,1"], 1, "销售额（万元）", None, "缺少必需的列"),
    "duplicate_header": (["account_id,name,annual_revenue,name", "K1,甲,1,乙"], 1, "name", None, "列名重复"),
    "bad_customer_type": (
        ["account_id,name,annual_revenue,customer_type", "K1,甲,1,个人"],
        2,
        "customer_type",
        "个人",
        "政府",
    ),
    "share_above_one": (
        ["account_id,name,annual_revenue,share_of_wallet", "K1,甲,1,35"],
        2,
        "share_of_wallet",
        "35",
        "0–1",
    ),
    "potential_out_of_range": (
        ["account_id,name,annual_revenue,growth_potential", "K1,甲,1,6"],
        2,
        "growth_potential",
        "6",
        "1–5",
    ),
    "too_many_fields": ([HEADER, "K1,甲,1,200.5,1,1,1,1,1,1"], 2, None, None, "比表头"),
    "row_after_blank_row": ([HEADER, GOOD[0], ",,,,,,,,", "K3,丙,x,1,1,1,1,1,1"], 4, "annual_revenue", "x", "不是数字"),
    "row_after_multiline_cell": (
        [HEADER, 'K1,"甲\n分厂",1,1,1,1,1,1,1', "K2,乙,1,9,1,1,1,1,1"],
        3,
        "competition",
        "9",
        "1–4",
    ),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("case_id", list(BAD_CASES))
def test_bad_input_is_reported_precisely(tmp_path, case_id, encoding):
    lines, row, column, value, words = BAD_CASES[case_id]
    path = write(tmp_path, lines, encoding)
    with pytest.raises(DataError) as caught:
        load_accounts(path)
    err = caught.value
    message = str(err)
    assert isinstance(err, ValueError)
    assert str(path) in message and f"第 {row} 行" in message and words in message
    assert any(p.row == row and p.column == column and p.value == value for p in err.problems), err.problems
    if column is not None:
        assert column in message
    if value is not None:
        assert f"“{value}”" in message


def test_all_problems_are_reported_at_once(tmp_path):
    rows = [f"K{i},甲{i},-{i},{i + 4},1,1,1,1,1" for i in range(1, 7)]  # 2 problems per row
    with pytest.raises(DataError) as caught:
        load_accounts(write(tmp_path, [HEADER, *rows]))
    err = caught.value
    assert len(err.problems) == 12
    message = str(err)
    assert message.count("\n  ") == 11  # 10 problems listed + the "另有" line
    assert "另有 2 处问题" in message and "第 7 行" not in message
    assert [p.row for p in err.problems] == sorted(p.row for p in err.problems)


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "文件是空的"),
        (b"  \n\n", "文件是空的"),
        (HEADER.encode() + b"\n", "只有表头"),
        ("\ufeff".encode() + HEADER.encode() + b"\r\n,,,\r\n", "只有表头"),
        (b"account_id,name,annual_revenue\nK1,\xff\xfe\xfa,1\n", "无法识别文件编码"),
        ("account_id,name\n".encode("utf-16"), "无法识别文件编码"),
        ("account_id,name,annual_revenue\nK1,a,1\n".encode("utf-16-le"), "UTF-16"),
    ],
)
def test_unusable_files(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words) as caught:
        load_accounts(path)
    assert "bad.csv" in str(caught.value)


def test_undecodable_bytes_name_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("account_id,name,annual_revenue\nK1,甲,1\nK2,".encode("gbk") + b"\xff\xff,2\n")
    with pytest.raises(DataError) as caught:
        load_accounts(path)
    (problem,) = caught.value.problems
    assert problem.row == 3 and problem.value.startswith("ff ff")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="找不到") as caught:
        load_accounts(tmp_path / "没有这个文件.csv")
    assert "没有这个文件.csv" in str(caught.value)
    with pytest.raises(DataError, match="文件夹"):
        load_accounts(tmp_path)


# ---------------------------------------------------------------- properties
NAME_CHARS = "华东精工客户机械水务局甲乙丙丁ABCxyz0123 ,\"'；、（）"
account_rows = st.lists(
    st.tuples(
        st.text(NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool),
        st.integers(0, 10**7).map(lambda tenths: tenths / 10),
        st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=6, max_size=6),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=account_rows, encoding=st.sampled_from(ENCODINGS))
def test_round_trip_any_valid_accounts(rows, encoding):
    frame = pd.DataFrame(
        {
            "account_id": [f"K{i:03d}" for i in range(len(rows))],
            "name": [name for name, _, _ in rows],
            "annual_revenue": [revenue for _, revenue, _ in rows],
            **{col: pd.array([levels[j] for _, _, levels in rows], dtype="Int64") for j, col in enumerate(INDICATORS)},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        frame.to_csv(path, index=False, encoding=encoding)
        loaded = load_accounts(path)
    assert loaded["name"].tolist() == frame["name"].tolist()
    assert loaded["annual_revenue"].tolist() == frame["annual_revenue"].tolist()
    for column in INDICATORS:
        assert (
            loaded[column].astype(object).where(loaded[column].notna(), None).tolist()
            == frame[column].astype(object).where(frame[column].notna(), None).tolist()
        )


not_an_indicator = st.one_of(
    st.integers().filter(lambda v: not 1 <= v <= 4).map(str),
    st.decimals(min_value=-10, max_value=10, places=2).filter(lambda d: d != d.to_integral_value()).map(str),
    st.text("abc高中低%万", min_size=1, max_size=4),
)


@settings(max_examples=60, deadline=None)
@given(value=not_an_indicator, column=st.sampled_from(INDICATORS))
def test_any_invalid_indicator_is_rejected(value, column):
    row = {"account_id": "K1", "name": "甲", "annual_revenue": "1", **{c: "2" for c in INDICATORS}, column: value}
    text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    with pytest.raises(DataError) as caught:
        _validated(read_table(text.encode(), "x.csv"), SCHEMAS["accounts.csv"], "x.csv")
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (2, column, value)


@settings(max_examples=150, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=200), st.text('account_id,nme"\n\r1-.5甲 ', max_size=120).map(lambda s: s.encode("utf-8"))
    )
)
def test_arbitrary_bytes_give_a_frame_or_a_data_error(data):
    try:
        frame = _validated(read_table(data, "x.csv"), SCHEMAS["accounts.csv"], "x.csv")
    except DataError as err:
        assert err.problems and "x.csv" in str(err)
    else:
        assert len(frame) > 0 and frame["account_id"].notna().all() and frame["account_id"].is_unique
        assert (frame["annual_revenue"] >= 0).all()


def test_problem_text_is_chinese_and_names_everything():
    assert issubclass(DataError, ValueError)
    pattern = re.compile(r"第 2 行，列 competition，值“7”")
    with pytest.raises(DataError, match=pattern):
        _validated(read_table(f"{HEADER}\nK1,甲,1,7,1,1,1,1,1\n".encode(), "a.csv"), SCHEMAS["accounts.csv"], "a.csv")
