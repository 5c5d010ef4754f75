"""kamlib.roles: positions and duties as data, faithful to the (corrected) deck."""

import re
from collections import Counter

import pandas as pd
import pytest

from kamlib.roles import (
    DUTIES,
    ROLES,
    TOWARDS_ZH,
    account_team,
    contact_coverage,
    duties,
    duty_role_matrix,
    staffing_gaps,
)
from tests.support.deck import CORRECTIONS, SCRAPE_ERRORS, corrected_deck, normalise

EXPECTED_IDS = (
    ["AM-main"]
    + [f"AM-{g}{i}" for g in "CET" for i in range(1, 5)]
    + ["ES-main"]
    + [f"ES-{i}" for i in range(1, 10)]
    + [f"SM-{i}" for i in range(1, 8)]
)
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the deck helper itself ---------------------------------------------------------------


def test_every_correction_applies_and_none_survives(deck_file):
    raw = deck_file.read_text(encoding="utf-8")
    assert all(wrong in raw for wrong in CORRECTIONS)
    fixed = corrected_deck(deck_file)
    assert not [e for e in SCRAPE_ERRORS if e in fixed]
    assert "掌握开展工作的技能" in fixed and "下载文档前" not in fixed


# --- roles --------------------------------------------------------------------------------


def test_three_roles_with_the_deck_names():
    assert list(ROLES) == ["account_manager", "executive_sponsor", "sales_manager"]
    assert [r.label_zh for r in ROLES.values()] == ["客户经理或团队领导者", "行政支持者", "销售经理"]
    assert all(r.key == key for key, r in ROLES.items())
    assert ROLES["executive_sponsor"].label_en == "executive sponsor"


def test_executive_sponsor_summary_explains_the_name():
    summary = ROLES["executive_sponsor"].summary_zh
    assert "executive sponsor" in summary and "行政支持" in summary
    assert "战略联盟关系" in summary and "监督客户经理或客户团队" in summary


def test_role_labels_are_in_the_deck(deck):
    for role in ROLES.values():
        assert normalise(role.label_zh) in deck


# --- duties ---------------------------------------------------------------------------------


def test_ids_are_the_agreed_ones_unique_and_in_order():
    ids = [d.id for d in DUTIES]
    assert ids == EXPECTED_IDS
    assert len(set(ids)) == len(ids)


def test_counts_per_role():
    per_role = Counter(d.role for d in DUTIES)
    assert per_role == {"account_manager": 1 + 4 + 4 + 4, "executive_sponsor": 1 + 9, "sales_manager": 7}
    assert [d.id for d in DUTIES if d.main] == ["AM-main", "ES-main"]
    assert Counter(d.id[:4] for d in DUTIES if d.role == "account_manager" and not d.main) == {
        "AM-C": 4,
        "AM-E": 4,
        "AM-T": 4,
    }


@pytest.mark.parametrize(
    ("prefix", "towards", "slide"),
    [("AM-C", "customer", 7), ("AM-E", "company", 8)],
)
def test_account_manager_groups_follow_the_deck_headings(prefix, towards, slide):
    group = [d for d in DUTIES if d.id.startswith(prefix)]
    assert {d.towards for d in group} == {towards} and {d.slide for d in group} == {slide}


def test_slides():
    slide = {d.id: d.slide for d in DUTIES}
    assert slide["AM-main"] == 7
    assert {slide[f"AM-T{i}"] for i in range(1, 5)} == {9}
    assert slide["ES-main"] == 10
    assert {slide[f"ES-{i}"] for i in range(1, 4)} == {10}
    assert {slide[f"ES-{i}"] for i in range(4, 10)} == {11}
    assert {slide[f"SM-{i}"] for i in range(1, 8)} == {12}


def test_fields_are_valid():
    prefix = {"account_manager": "AM-", "executive_sponsor": "ES-", "sales_manager": "SM-"}
    for d in DUTIES:
        assert d.role in ROLES and d.towards in TOWARDS_ZH
        assert d.id.startswith(prefix[d.role])
        assert CJK.search(d.text_zh) and d.text_zh.endswith("。")


@pytest.mark.parametrize("duty", DUTIES, ids=lambda d: d.id)
def test_duty_text_is_deck_wording(deck, duty):
    assert normalise(duty.text_zh) in deck


def test_no_scrape_errors_in_any_text():
    texts = [d.text_zh for d in DUTIES] + [r.summary_zh for r in ROLES.values()]
    texts += [r.label_zh for r in ROLES.values()]
    for text in texts:
        assert not [e for e in SCRAPE_ERRORS if e in text], text


def test_the_two_main_duties_are_the_deck_sentences():
    main = {d.id: d.text_zh for d in DUTIES if d.main}
    assert main["ES-main"] == "与客户企业中的相应人士建立起牢固的关系，并对客户负长期责任。"
    assert main["AM-main"].startswith("负责具体计划的制订和实施")


# --- duties() view --------------------------------------------------------------------------


def test_duties_table():
    table = duties()
    assert list(table.columns) == [
        "id",
        "role",
        "role_zh",
        "main",
        "towards",
        "towards_zh",
        "text_zh",
        "slide",
    ]
    assert table["id"].tolist() == EXPECTED_IDS
    row = table.set_index("id").loc["SM-6"]
    assert row["role_zh"] == "销售经理" and row["text_zh"].endswith("掌握开展工作的技能。")


def test_duties_filters():
    assert duties(role="sales_manager")["id"].tolist() == [f"SM-{i}" for i in range(1, 8)]
    to_customer = duties(role="account_manager", towards="customer")["id"].tolist()
    assert {f"AM-C{i}" for i in range(1, 5)} <= set(to_customer)
    assert set(duties(towards="team")["towards_zh"]) == {"对团队"}


@pytest.mark.parametrize(("kwargs", "bad"), [({"role": "manager"}, "manager"), ({"towards": "boss"}, "boss")])
def test_duties_rejects_unknown_filters(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        duties(**kwargs)


# --- duty_role_matrix ---------------------------------------------------------------------


def test_duty_role_matrix():
    m = duty_role_matrix()
    assert list(m.columns) == list(ROLES)
    assert m.index.names == ["id", "text_zh"]
    assert m.index.get_level_values("id").tolist() == EXPECTED_IDS
    assert m.index.get_level_values("text_zh").tolist() == [d.text_zh for d in DUTIES]
    assert set(m.to_numpy().ravel()) == {0, 1}
    assert (m.sum(axis=1) == 1).all()
    assert m.sum().to_dict() == {"account_manager": 13, "executive_sponsor": 10, "sales_manager": 7}
    assert m.loc["ES-4"]["executive_sponsor"].item() == 1


# --- staffing_gaps ------------------------------------------------------------------------


def accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A01", "A02", "A03", "A04"],
            "name": ["甲", "乙", "丙", "丁"],
            "account_manager": ["王", "李", None, "赵"],
            "executive_sponsor": ["陈", pd.NA, "  ", "周"],
            "sales_manager": ["刘", "刘", "", "刘"],
        }
    )


def test_staffing_gaps_lists_missing_positions_in_chinese():
    frame = accounts()
    before = frame.copy()
    gaps = staffing_gaps(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(gaps.columns) == ["account_id", "name", "missing"]
    assert gaps["account_id"].tolist() == ["A02", "A03"]
    assert gaps["missing"].tolist() == ["行政支持者", "客户经理或团队领导者、行政支持者、销售经理"]


def test_staffing_gaps_empty_when_fully_staffed():
    gaps = staffing_gaps(accounts().iloc[[0, 3]])
    assert gaps.empty and list(gaps.columns) == ["account_id", "name", "missing"]


@pytest.mark.parametrize("column", ["account_id", "name", "executive_sponsor"])
def test_staffing_gaps_names_a_missing_column(column):
    with pytest.raises(ValueError, match=column):
        staffing_gaps(accounts().drop(columns=column))


# --- account_team and contact_coverage ----------------------------------------------------


def contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_id": ["K1", "K2", "K3", "K4", "K5", "K6"],
            "account_id": ["A01", "A01", "A01", "A01", "A02", "A02"],
            "name": ["甲一", "甲二", "甲三", "甲四", "乙一", "乙二"],
            "title": ["维修班长", "项目经理", "董事长", "采购经理", "总经理", "工程师"],
            "level": ["操作层", "中层", "高层", "中层", "高层", "操作层"],
            "buying_role": ["使用者", "影响者", "决策者", "采购把关者", "决策者", "使用者"],
            "relationship_strength": [3, 4, 5, 2, 4, 3],
            "owner_role": [
                "account_manager",
                "sales_manager",
                "executive_sponsor",
                "account_manager",
                "executive_sponsor",
                "account_manager",
            ],
        }
    )


def test_account_team_lists_contacts_with_chinese_names_sorted_by_level():
    frame, people = accounts(), contacts()
    before = people.copy()
    team = account_team("A01", frame, people)
    pd.testing.assert_frame_equal(people, before)
    assert list(team.columns) == ["层级", "联系人", "职务", "采购角色", "关系强度", "我方维护角色", "我方负责人"]
    assert team["联系人"].tolist() == ["甲三", "甲四", "甲二", "甲一"]
    assert team["层级"].tolist() == ["高层", "中层", "中层", "操作层"]
    assert team["我方维护角色"].tolist() == ["行政支持者", "客户经理或团队领导者", "销售经理", "客户经理或团队领导者"]
    assert team["我方负责人"].tolist() == ["陈", "王", "刘", "王"]
    assert team.index.tolist() == [0, 1, 2, 3]


def test_account_team_marks_a_vacant_position():
    team = account_team("A02", accounts(), contacts())
    assert team["我方维护角色"].tolist() == ["行政支持者", "客户经理或团队领导者"]
    assert team["我方负责人"].tolist() == ["（空缺）", "李"]


def test_account_team_of_an_account_without_contacts_is_empty():
    team = account_team("A03", accounts(), contacts())
    assert team.empty and "我方维护角色" in team.columns


def test_account_team_names_an_unknown_account():
    with pytest.raises(ValueError, match="客户编号“A99”"):
        account_team("A99", accounts(), contacts())


def test_account_team_names_a_missing_column_and_a_bad_owner_role():
    with pytest.raises(ValueError, match="buying_role"):
        account_team("A01", accounts(), contacts().drop(columns="buying_role"))
    bad = contacts().assign(owner_role=lambda f: f["owner_role"].replace("sales_manager", "boss"))
    with pytest.raises(ValueError, match="boss"):
        account_team("A01", accounts(), bad)


def test_account_team_on_the_case_data():
    import kamlib.data as data

    case_accounts, case_contacts = data.load_accounts(), data.load_contacts()
    for account_id in ("A02", "A16"):
        team = account_team(account_id, case_accounts, case_contacts)
        assert len(team) == (case_contacts["account_id"] == account_id).sum()
        levels = team["层级"].map(["高层", "中层", "操作层"].index)
        assert levels.is_monotonic_increasing
        assert set(team["我方维护角色"]) <= {r.label_zh for r in ROLES.values()}


def test_contact_coverage_counts_every_level_and_position():
    table = contact_coverage(contacts())
    assert table.index.tolist() == ["高层", "中层", "操作层"]
    assert table.columns.tolist() == [r.label_zh for r in ROLES.values()]
    assert (table.index.name, table.columns.name) == ("层级", "我方维护角色")
    assert table.to_numpy().tolist() == [[0, 2, 0], [1, 0, 1], [2, 0, 0]]
    assert table.to_numpy().sum() == len(contacts())


def test_contact_coverage_keeps_all_rows_and_columns_when_empty():
    table = contact_coverage(contacts().iloc[:0])
    assert table.shape == (3, 3) and table.to_numpy().sum() == 0


def test_contact_coverage_names_an_unknown_level():
    with pytest.raises(ValueError, match="董事会"):
        contact_coverage(contacts().assign(level="董事会"))
