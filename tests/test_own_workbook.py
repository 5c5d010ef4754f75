"""A trainee's own workbook in lesson 5: the sheets, headers, ids and merges real users
produce, and the plan made from it — nothing they wrote is lost or silently left out."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kamlib.account_plan import account_plan, export_account_plan
from kamlib.data import (
    ACCOUNTS_SHEET,
    CONTACTS_SHEET,
    GUIDE_SHEET,
    OWN_WORKBOOK,
    DataError,
    load_accounts,
    load_contacts,
    load_own_or_case,
    zh_table,
)
from kamlib.priorities import portfolio_quadrants
from tests.test_workbook import ENGLISH, GOOD, MY_ACCOUNTS, MY_CONTACTS, fill, template, workbook

CODE_NAME = re.compile(r"[a-z]+_[a-z_]+")  # account_id, contact_id, annual_revenue …


def filled(tmp_path: Path, edit=None, accounts=MY_ACCOUNTS, contacts=MY_CONTACTS) -> Path:
    """我的客户.xlsx: the template with the examples removed and the rows typed in, then *edit*(wb)."""
    path = fill(template(tmp_path), accounts, contacts, tmp_path / OWN_WORKBOOK)
    wb = openpyxl.load_workbook(path)
    for sheet in (ACCOUNTS_SHEET, CONTACTS_SHEET):
        wb[sheet].delete_rows(2, 2)
    if edit:
        edit(wb)
    wb.save(path)
    return path


# ---------------------------------------------------------------- which sheet holds the contacts
def test_a_renamed_contacts_sheet_beside_another_sheet_is_an_error_listing_the_sheets(tmp_path):
    def rename(wb):
        wb[CONTACTS_SHEET].title = "联系人表"
        wb.create_sheet("Sheet2")

    filled(tmp_path, rename)
    with pytest.raises(DataError, match="没有名为“联系人”的工作表") as caught:
        load_own_or_case(tmp_path)
    assert "“联系人表”、“Sheet2”" in str(caught.value)


def test_a_renamed_contacts_sheet_alone_is_read(tmp_path):
    filled(tmp_path, lambda wb: setattr(wb[CONTACTS_SHEET], "title", "联系人表"))
    data = load_own_or_case(tmp_path)
    assert data.contacts["contact_id"].tolist() == ["P1", "P2"] and data.notices == ()


def test_a_one_sheet_workbook_has_no_contacts_and_says_so(tmp_path):
    def one_sheet(wb):
        del wb[GUIDE_SHEET], wb[CONTACTS_SHEET]
        wb[ACCOUNTS_SHEET].title = "Sheet1"

    path = filled(tmp_path, one_sheet)
    data = load_own_or_case(tmp_path)
    assert data.accounts["account_id"].tolist() == ["K001", "K002"] and data.contacts.empty
    assert "2 个客户、0 位联系人" in data.source and "没有“联系人”表" in data.notices[0]
    with pytest.raises(DataError, match="没有名为“联系人”的工作表"):
        load_contacts(path)


def test_a_csv_file_named_like_the_workbook_is_read_as_accounts_only(tmp_path):
    (tmp_path / OWN_WORKBOOK).write_text("客户编号,名称,销售额（万元）\nK001,甲,1200\n", encoding="utf-8-sig")
    data = load_own_or_case(tmp_path)
    assert data.accounts["account_id"].tolist() == ["K001"] and data.contacts.empty
    assert "CSV 文本文件" in data.notices[0]


def test_deleting_the_example_contacts_leaves_no_contacts(tmp_path):
    path = filled(tmp_path, contacts=[])
    data = load_own_or_case(tmp_path)
    assert data.contacts.empty and "0 位联系人" in data.source
    assert load_contacts(path).empty


def test_an_empty_accounts_sheet_is_still_an_error(tmp_path):
    filled(tmp_path, accounts=[])
    with pytest.raises(DataError, match="只有表头，没有数据行"):
        load_own_or_case(tmp_path)


# ---------------------------------------------------------------- headers, ids, merges
def test_an_unknown_header_is_named_with_the_headers_the_course_expects(tmp_path):
    def rename(wb):
        ws = wb[ACCOUNTS_SHEET]
        ws.cell(row=1, column=[c.value for c in ws[1]].index("增长潜力") + 1, value="增长潜力(1-5)")

    path = filled(tmp_path, rename)
    data = load_own_or_case(tmp_path)
    assert data.accounts["增长潜力(1-5)"].tolist() == ["4", "2"]  # kept, as the trainee wrote it
    [notice] = data.notices
    assert "“增长潜力(1-5)”" in notice and "还没有的是：增长潜力" in notice
    with pytest.warns(UserWarning, match="增长潜力"):
        load_accounts(path)


def test_a_contact_of_an_unknown_account_names_row_and_header(tmp_path):
    stray = dict(MY_CONTACTS[0], 联系人编号="P9", 客户编号="K404")
    filled(tmp_path, contacts=[MY_CONTACTS[0], stray])
    with pytest.raises(DataError) as caught:
        load_own_or_case(tmp_path)
    [found] = caught.value.problems
    assert (found.row, found.column, found.value) == (3, "客户编号", "K404")
    assert "第 3 行，列 客户编号，值“K404”" in str(caught.value) and not CODE_NAME.search(str(found))


def test_messages_use_the_headers_not_code_names(tmp_path):
    with pytest.raises(DataError, match="客户编号、名称、销售额（万元）") as caught:
        load_accounts(workbook(tmp_path, [["客户清单"], ["甲", 1]]))
    assert not CODE_NAME.search(str(caught.value.problems[0]))
    csv = tmp_path / "联系人.csv"
    csv.write_text("姓名,客户编号\n王,K1\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_contacts(csv)
    message = str(caught.value)
    assert "列 联系人编号：缺少必需的列（表中的列：姓名、客户编号）" in message
    assert not CODE_NAME.search("".join(str(p) for p in caught.value.problems))


def test_full_width_ids_are_the_same_ids(tmp_path):
    wide = dict(MY_ACCOUNTS[1], 客户编号="Ｋ００１")
    filled(tmp_path, accounts=[MY_ACCOUNTS[0], wide])
    with pytest.raises(DataError, match="与第 2 行重复") as caught:
        load_own_or_case(tmp_path)
    assert caught.value.problems[0].value == "Ｋ００１"
    contact = dict(MY_CONTACTS[0], 客户编号="Ｋ００１")
    filled(tmp_path, contacts=[contact])
    data = load_own_or_case(tmp_path)
    assert data.contacts["account_id"].tolist() == ["K001"]


def test_a_number_merged_down_rows_is_an_error_text_is_filled_down(tmp_path):
    rows = [ENGLISH + ["region"], GOOD[0] + ["华东"], GOOD[1] + [None], ["K3", "丙", None, 1, 1, 1, 1, 1, 1]]
    with pytest.raises(DataError, match="不能跨行合并") as caught:
        load_accounts(workbook(tmp_path, rows, edit=lambda wb, ws: ws.merge_cells("C2:C4")))
    assert caught.value.problems[0].value == "C2:C4" and caught.value.problems[0].column == "annual_revenue"
    with pytest.raises(DataError, match="不能跨行合并"):
        load_accounts(workbook(tmp_path, rows, edit=lambda wb, ws: ws.merge_cells("A3:A4")))
    rows[3][2] = 5
    frame = load_accounts(workbook(tmp_path, rows, edit=lambda wb, ws: ws.merge_cells("J2:J4")))
    assert frame["region"].tolist() == ["华东"] * 3


# ---------------------------------------------------------------- the lesson's tables and plan
def test_tables_show_a_dash_for_what_is_unknown(tmp_path):
    frame = pd.DataFrame({"account_id": ["K1"], "rank": pd.array([None], dtype="Int64"), "share": [float("nan")]})
    page = zh_table(frame).to_html()
    assert "<NA>" not in page and "nan" not in page.lower() and "—" in page and "客户编号" in page


def plan_facts(accounts: list[dict], which: str = "K001") -> dict[str, list[str]]:
    frame = pd.DataFrame(accounts).astype({"growth_potential": "Int64", "strategic_importance": "Int64"})
    contacts = load_contacts().iloc[0:0]
    return account_plan(which, frame, contacts).facts


def account(aid: str, revenue: float, potential: int = 3, share: float | None = None) -> dict:
    return {
        "account_id": aid,
        "name": f"客户{aid}",
        "annual_revenue": revenue,
        "growth_potential": potential,
        "strategic_importance": 3,
        "share_of_wallet": share,
        "account_manager": None,
        "executive_sponsor": None,
        "sales_manager": None,
    }


def test_the_plan_prints_amounts_and_shares_readably():
    facts = plan_facts([account("K001", 1234567, share=0.004), account("K002", 12345.67)])
    assert "我们对它的销售额：1,234,567 万元；采购份额 0.4%（客户同类采购中其余 99.6% 给了别人）" in facts["understand"]
    assert "我们对它的销售额：12,345.67 万元" in plan_facts([account("K001", 12345.67), account("K2", 1)])["understand"]


def test_the_portfolio_group_needs_two_accounts_that_differ():
    [alone] = plan_facts([account("K001", 1200, 5)])["prioritise"][1:]
    assert "至少要有 2 个客户" in alone and "潜力低" not in alone
    [same] = plan_facts([account("K001", 1200, 5), account("K002", 300, 5)])["prioritise"][1:]
    assert "潜力低" not in same and "无法分组" in same
    [group] = plan_facts([account("K001", 1200, 5), account("K002", 300, 5), account("K003", 50, 3)])["prioritise"][1:]
    assert "重点发展" in group and "（本课程的做法" in group and "3 个客户" in group and "中位数" in group


@pytest.mark.parametrize(
    "potentials, expected",
    [
        ([5], [None]),
        ([5, 5], [None, None]),
        ([5, 5, 3], ["重点发展", "选择培育", "维持观察"]),  # the 5s are high although on the median
        ([1, 1, 3], ["重点维护", "维持观察", "选择培育"]),
        ([1, 3, 3, 5], ["重点维护", "重点维护", "维持观察", "选择培育"]),  # as even as ties allow: 3s low
    ],
)
def test_quadrant_ties_and_single_accounts(potentials, expected):
    revenue = [1000, 500, 100, 50][: len(potentials)]
    if len(potentials) == 4:
        revenue = [1000, 500, 100, 50]
    accounts = pd.DataFrame(
        {
            "account_id": [f"K{i}" for i in range(len(potentials))],
            "annual_revenue": revenue,
            "growth_potential": potentials,
        }
    )
    got = portfolio_quadrants(accounts).tolist()
    assert [None if pd.isna(g) else g for g in got] == expected


def test_re_exporting_never_overwrites_a_filled_in_plan(tmp_path):
    facts_plan = account_plan(
        "K001",
        pd.DataFrame([account("K001", 100)]).astype({"growth_potential": "Int64"}),
        load_contacts().iloc[0:0],
    )
    first = export_account_plan(facts_plan, tmp_path, pdf=False)
    again = export_account_plan(facts_plan, tmp_path, pdf=False)  # unchanged: the same file, rewritten
    assert again == first and "kept" not in again
    wb = openpyxl.load_workbook(first["xlsx"])
    ws = wb.active
    row = next(c.row for c in ws["A"] if c.value == "远景目标（要把客户引向何处）：")
    ws.cell(row, 2).value = "三年内成为战略联盟"
    wb.save(first["xlsx"])
    third = export_account_plan(facts_plan, tmp_path, pdf=False)
    assert third["kept"] == first["xlsx"] and third["xlsx"].name == "客户计划_K001（2）.xlsx"
    assert openpyxl.load_workbook(first["xlsx"]).active.cell(row, 2).value == "三年内成为战略联盟"
    assert third["html"].name == "客户计划_K001（2）.html"


def test_ids_that_differ_only_in_unsafe_characters_get_their_own_files(tmp_path):
    accounts = pd.DataFrame([account("K/1", 100), account("K:1", 50)]).astype({"growth_potential": "Int64"})
    contacts = load_contacts().iloc[0:0]
    names = {
        export_account_plan(account_plan(a, accounts, contacts), tmp_path, pdf=False)["xlsx"].name
        for a in ("K/1", "K:1")
    }
    assert len(names) == 2 and all(n.startswith("客户计划_K_1-") for n in names)


# ---------------------------------------------------------------- a misnamed workbook
@pytest.mark.parametrize(
    "name, advice",
    [
        ("我的客户.xlsx.xlsx", "改名为“我的客户.xlsx”"),
        ("我的客户.xls", "另存为 Excel 工作簿"),
        ("我的客户.csv", "另存为"),
    ],
)
def test_a_misnamed_workbook_is_named(tmp_path, name, advice):
    (tmp_path / name).write_bytes(b"x")
    data = load_own_or_case(tmp_path)
    assert not data.own and f"“{name}”" in data.source and advice in data.source and "案例公司" in data.source
