"""Own accounts in Excel: the template, filling it as a user would, and the bad workbooks
real users produce — each read correctly where the intent is plain, else a DataError in
Chinese naming the file, sheet, row, column and value (never a traceback)."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kamlib.data import (
    ACCOUNTS_SHEET,
    CONTACTS_SHEET,
    GUIDE_SHEET,
    OWN_WORKBOOK,
    SCHEMAS,
    DataError,
    account_template,
    load_accounts,
    load_contacts,
    load_own_or_case,
    zh_columns,
)
from kamlib.data._validation import _validated
from kamlib.data.workbook import header_names, read_sheet

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_TEMPLATE = ROOT / "course" / "客户表模板.xlsx"
INDICATORS = ["competition", "information_access", "pricing", "contact_level", "contract", "visibility"]


def template(tmp_path: Path) -> Path:
    path = tmp_path / "模板.xlsx"
    account_template(path)
    return path


def column_of(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def fill(path: Path, accounts: list[dict], contacts: list[dict], out: Path) -> Path:
    """Type rows into the template's two sheets below the examples, by Chinese header."""
    wb = openpyxl.load_workbook(path)
    for sheet, rows in ((ACCOUNTS_SHEET, accounts), (CONTACTS_SHEET, contacts)):
        ws = wb[sheet]
        for row in rows:
            r = ws.max_row + 1
            for header, value in row.items():
                ws.cell(row=r, column=column_of(ws, header), value=value)
    wb.save(out)
    return out


MY_ACCOUNTS = [
    {
        "客户编号": "K001",
        "名称": "甲虚构机械厂",
        "客户类型": "企业",
        "销售额（万元）": 1200.5,
        "增长潜力": 4,
        "战略重要性": 5,
        "采购份额": 0.35,
        "竞争状况": 2,
        "信息获取": 2,
        "价格": 1,
        "接触层级": 3,
        "合同与协议": 2,
        "知名度": 2,
        "客户经理": "张（虚构）",
        "销售经理": "李（虚构）",
    },
    {
        "客户编号": "K002",
        "名称": "乙虚构水务局",
        "客户类型": "政府",
        "销售额（万元）": "35",
        "增长潜力": 2,
        "战略重要性": 3,
        "竞争状况": 1,
        "信息获取": 1,
        "价格": 1,
        "接触层级": 1,
    },
]
MY_CONTACTS = [
    {
        "联系人编号": "P1",
        "客户编号": "K001",
        "姓名": "王（虚构）",
        "职务": "总经理",
        "层级": "高层",
        "采购角色": "决策者",
        "关系强度": 2,
        "我方维护角色": "客户经理",
    },
    {"联系人编号": "P2", "客户编号": "K001", "姓名": "赵（虚构）", "层级": "中层", "采购角色": "影响者", "关系强度": 4},
]


def test_template_has_the_sheets_headers_drop_downs_and_guide(tmp_path):
    wb = openpyxl.load_workbook(template(tmp_path))
    assert wb.sheetnames == [GUIDE_SHEET, ACCOUNTS_SHEET, CONTACTS_SHEET]
    for sheet, name in ((ACCOUNTS_SHEET, "accounts.csv"), (CONTACTS_SHEET, "contacts.csv")):
        headers = [c.value for c in wb[sheet][1]]
        columns = [f.name for f in SCHEMAS[name]]
        expected = list(zh_columns(pd.DataFrame(columns=columns)).columns)
        assert headers == expected
    lists = {}
    for sheet in (ACCOUNTS_SHEET, CONTACTS_SHEET):
        ws = wb[sheet]
        headers = [c.value for c in ws[1]]
        for rule in ws.data_validations.dataValidation:
            if rule.type == "list":
                column = openpyxl.utils.column_index_from_string(str(rule.sqref).split(":")[0].rstrip("0123456789"))
                lists[headers[column - 1]] = rule.formula1.strip('"').split(",")
    for label in ("竞争状况", "信息获取", "价格", "接触层级", "合同与协议", "知名度"):
        assert lists[label] == ["1", "2", "3", "4"]
    assert lists["采购角色"] == ["决策者", "影响者", "使用者", "采购把关者"]
    assert lists["我方维护角色"] == ["客户经理", "行政支持者", "销售经理"]
    guide = "\n".join(str(row[0]) for row in wb[GUIDE_SHEET].iter_rows(values_only=True) if row[0])
    assert "隐私" in guide and "示例" in guide and "卖主关系" in guide
    examples = [row[0] for row in wb[ACCOUNTS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert examples and all(str(v).startswith("示例") for v in examples)


def test_the_committed_template_is_what_account_template_writes(tmp_path):
    def content(path: Path) -> dict:
        wb = openpyxl.load_workbook(path)
        return {
            ws.title: (
                [list(r) for r in ws.iter_rows(values_only=True)],
                sorted((str(v.sqref), v.type, v.formula1) for v in ws.data_validations.dataValidation),
            )
            for ws in wb
        }

    assert COMMITTED_TEMPLATE.is_file(), "course/客户表模板.xlsx is missing"
    assert content(COMMITTED_TEMPLATE) == content(template(tmp_path)), (
        "regenerate it: account_template('course/客户表模板.xlsx')"
    )


def test_the_unfilled_template_says_it_holds_only_examples(tmp_path):
    with pytest.raises(DataError, match="只有示例行") as caught:
        load_accounts(template(tmp_path))
    assert caught.value.sheet == ACCOUNTS_SHEET and "工作表“客户”" in str(caught.value)


def test_template_fill_load_round_trip(tmp_path):
    path = fill(template(tmp_path), MY_ACCOUNTS, MY_CONTACTS, tmp_path / OWN_WORKBOOK)
    accounts = load_accounts(path)
    assert accounts["account_id"].tolist() == ["K001", "K002"]  # the example rows are skipped
    assert accounts["annual_revenue"].tolist() == [1200.5, 35.0]
    assert accounts["competition"].tolist() == [2, 1] and accounts["contract"].isna().tolist() == [False, True]
    assert accounts["executive_sponsor"].isna().all()
    assert accounts.columns.tolist()[:3] == ["account_id", "name", "customer_type"]
    contacts = load_contacts(path)
    assert contacts["contact_id"].tolist() == ["P1", "P2"]
    assert contacts["owner_role"].tolist()[0] == "account_manager" and pd.isna(contacts["owner_role"].iloc[1])
    assert contacts["relationship_strength"].dtype == "Int64"
    data = load_own_or_case(tmp_path)
    assert data.own and "2 个客户、2 位联系人" in data.source and data.orders is None


def test_own_or_case_falls_back_to_the_case_company(tmp_path):
    data = load_own_or_case(tmp_path)
    assert not data.own and "案例公司" in data.source
    pd.testing.assert_frame_equal(data.accounts, load_accounts())


def test_contacts_sheet_with_only_examples_means_no_contacts(tmp_path):
    fill(template(tmp_path), MY_ACCOUNTS, [], tmp_path / OWN_WORKBOOK)
    data = load_own_or_case(tmp_path)
    assert data.contacts.empty and list(data.contacts.columns) == [f.name for f in SCHEMAS["contacts.csv"]]


def test_a_contact_of_an_unknown_account_is_named(tmp_path):
    stray = dict(MY_CONTACTS[0], 联系人编号="P9", 客户编号="K404")
    fill(template(tmp_path), MY_ACCOUNTS, [stray], tmp_path / OWN_WORKBOOK)
    with pytest.raises(DataError, match="P9") as caught:
        load_own_or_case(tmp_path)
    assert caught.value.sheet == CONTACTS_SHEET and "“K404”" in str(caught.value)


# ---------------------------------------------------------------- plain workbooks
def workbook(tmp_path: Path, rows: list[list], title: str = ACCOUNTS_SHEET, name: str = "客户.xlsx", edit=None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    if edit:
        edit(wb, ws)
    path = tmp_path / name
    wb.save(path)
    return path


ENGLISH = ["account_id", "name", "annual_revenue", *INDICATORS]
GOOD = [["K1", "甲", 100, 1, 2, 1, 1, 2, 1], ["K2", "乙", 7.5, 3, 3, None, 4, 3, 3]]


def problem(caught, row, column, value=None):
    found = [p for p in caught.value.problems if p.row == row and p.column == column]
    assert found, caught.value.problems
    if value is not None:
        assert found[0].value == value
    return found[0]


def test_english_headers_and_any_sheet_name_when_there_is_only_one(tmp_path):
    frame = load_accounts(workbook(tmp_path, [ENGLISH, *GOOD], title="Sheet1"))
    assert frame["account_id"].tolist() == ["K1", "K2"] and frame["pricing"].isna().tolist() == [False, True]


def test_missing_sheet_lists_the_sheets(tmp_path):
    def more(wb, ws):
        wb.create_sheet("Sheet2")

    path = workbook(tmp_path, [ENGLISH, *GOOD], title="Sheet1", edit=more)
    with pytest.raises(DataError, match="没有名为“客户”的工作表") as caught:
        load_accounts(path)
    assert "“Sheet1”、“Sheet2”" in str(caught.value) and str(path) in str(caught.value)


def test_wrong_sheet_contacts_only(tmp_path):
    path = workbook(tmp_path, [ENGLISH, *GOOD], title=CONTACTS_SHEET)
    with pytest.raises(DataError, match="没有名为“客户”的工作表（现有的工作表：“联系人”）"):
        load_accounts(path)


def test_text_in_a_number_column_names_sheet_row_column_and_value(tmp_path):
    rows = [["客户编号", "名称", "销售额（万元）", "竞争状况"], ["K1", "甲", "一百万", 1], ["K2", "乙", 5, "高"]]
    with pytest.raises(DataError) as caught:
        load_accounts(workbook(tmp_path, rows))
    message = str(caught.value)
    assert "工作表“客户”" in message and "Excel 左侧的行号" in message
    assert problem(caught, 2, "销售额（万元）", "一百万").message.startswith("不是数字")
    problem(caught, 3, "竞争状况", "高")
    assert "第 2 行，列 销售额（万元），值“一百万”" in message


def test_numbers_stored_as_text_are_read(tmp_path):
    rows = [ENGLISH, ["K1", "甲", "1,200.5", "3", " 2 ", 1, 1, 1, 1]]
    frame = load_accounts(workbook(tmp_path, rows))
    assert frame["annual_revenue"].tolist() == [1200.5] and frame["competition"].tolist() == [3]


def test_header_below_a_title_is_found_and_rows_keep_their_numbers(tmp_path):
    rows = [["2025 年我的重点客户"], [], ENGLISH, GOOD[0], ["K2", "乙", -1, 1, 1, 1, 1, 1, 1]]
    with pytest.raises(DataError) as caught:
        load_accounts(workbook(tmp_path, rows))
    problem(caught, 5, "annual_revenue", "-1")
    frame = load_accounts(workbook(tmp_path, rows[:4]))
    assert frame["account_id"].tolist() == ["K1"]


def test_no_header_in_the_first_rows(tmp_path):
    with pytest.raises(DataError, match="没有找到表头"):
        load_accounts(workbook(tmp_path, [["客户清单"], ["甲", 1], ["乙", 2]]))


def test_merged_header_cells(tmp_path):
    def merge(wb, ws):
        ws.merge_cells("C1:D1")

    with pytest.raises(DataError, match="合并单元格") as caught:
        load_accounts(workbook(tmp_path, [ENGLISH, *GOOD], edit=merge))
    assert caught.value.problems[0].value == "C1:D1" and caught.value.problems[0].row == 1


def test_cells_merged_down_a_column_count_for_each_row_across_is_an_error(tmp_path):
    rows = [ENGLISH + ["region"], GOOD[0] + ["华东"], GOOD[1] + [None]]
    frame = load_accounts(workbook(tmp_path, rows, edit=lambda wb, ws: ws.merge_cells("J2:J3")))
    assert frame["region"].tolist() == ["华东", "华东"]
    with pytest.raises(DataError, match="跨列的合并单元格"):
        load_accounts(workbook(tmp_path, rows, edit=lambda wb, ws: ws.merge_cells("A3:B3")))


def test_empty_rows_between_data_are_skipped(tmp_path):
    rows = [ENGLISH, GOOD[0], [], [None] * 9, GOOD[1], [], ["K3", "丙", "x", 1, 1, 1, 1, 1, 1]]
    with pytest.raises(DataError) as caught:
        load_accounts(workbook(tmp_path, rows))
    assert [p.row for p in caught.value.problems] == [7]
    frame = load_accounts(workbook(tmp_path, rows[:5]))
    assert frame["account_id"].tolist() == ["K1", "K2"]


def test_hidden_columns_and_rows_are_read(tmp_path):
    def hide(wb, ws):
        ws.column_dimensions["D"].hidden = True
        ws.row_dimensions[3].hidden = True

    frame = load_accounts(workbook(tmp_path, [ENGLISH, *GOOD], edit=hide))
    assert frame["competition"].tolist() == [1, 3] and frame["account_id"].tolist() == ["K1", "K2"]


def with_cached_values(path: Path, values: dict[str, str]) -> None:
    """Add the value Excel would have saved with each formula (openpyxl saves none)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for cell, value in values.items():
        sheet, n = re.subn(rf'(<c r="{cell}"[^>]*><f>[^<]*</f>)<v */>', rf"\g<1><v>{value}</v>", sheet)
        assert n == 1, cell
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_formulas_are_read_as_their_saved_values(tmp_path):
    rows = [ENGLISH, ["K1", "甲", "=100*12", 1, 1, 1, 1, 1, "=D2+1"]]
    path = workbook(tmp_path, rows)
    with_cached_values(path, {"C2": "1200", "I2": "2"})
    frame = load_accounts(path)
    assert frame["annual_revenue"].tolist() == [1200.0] and frame["visibility"].tolist() == [2]


def test_a_formula_without_a_saved_value_is_named(tmp_path):
    rows = [ENGLISH, ["K1", "甲", 5, 1, 1, 1, 1, 1, "=D2+1"]]
    with pytest.raises(DataError, match="没有保存它的计算结果") as caught:
        load_accounts(workbook(tmp_path, rows))
    assert "=D2+1" in problem(caught, 2, "visibility").message


def test_a_formula_error_is_named(tmp_path):
    path = workbook(tmp_path, [ENGLISH, ["K1", "甲", "=1/0", 1, 1, 1, 1, 1, 1]])
    with_cached_values(path, {"C2": "#DIV/0!"})
    # openpyxl keeps an error value only with the cell type "e", as Excel writes it
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b'<c r="C2"', b'<c r="C2" t="e"')
    with zipfile.ZipFile(path, "w") as archive:
        for n, d in parts.items():
            archive.writestr(n, d)
    with pytest.raises(DataError, match="公式计算出错") as caught:
        load_accounts(path)
    problem(caught, 2, "annual_revenue", "#DIV/0!")


def test_a_date_in_a_number_column_is_named_with_its_number(tmp_path):
    def as_date(wb, ws):
        ws["D2"].number_format = "yyyy-mm-dd"

    with pytest.raises(DataError, match="日期格式") as caught:
        load_accounts(workbook(tmp_path, [ENGLISH, ["K1", "甲", 5, 3, 1, 1, 1, 1, 1]], edit=as_date))
    found = problem(caught, 2, "competition", "1900-01-03")
    assert "其中的数为 3" in found.message


def test_dates_stored_as_serial_numbers_are_read_as_dates(tmp_path):
    schema = SCHEMAS["orders.csv"]
    rows = [
        [f.name for f in schema],
        ["O1", "K1", 45658, 2025, "减速机", 10],
        ["O2", "K1", datetime(2024, 3, 5), 2024, "变频器", 2.5],
    ]
    path = workbook(tmp_path, rows, title="orders")
    raw, header, sheet, problems = read_sheet(
        path.read_bytes(), str(path), lambda sheets: sheets[0], schema, header_names(schema, {}), "order_id"
    )
    assert problems == [] and header == 1 and sheet == "orders"
    frame = _validated(raw, schema, str(path), sheet=sheet)
    assert [d.date().isoformat() for d in frame["order_date"]] == ["2025-01-01", "2024-03-05"]


def test_a_value_under_no_header_is_named(tmp_path):
    with pytest.raises(DataError, match="没有列名") as caught:
        load_accounts(workbook(tmp_path, [ENGLISH, GOOD[0] + [None, "备注写在这里"]]))
    problem(caught, 2, "K 列", "备注写在这里")


def test_an_empty_sheet(tmp_path):
    with pytest.raises(DataError, match="工作表是空的"):
        load_accounts(workbook(tmp_path, []))


def test_an_xls_file_renamed_to_xlsx(tmp_path):
    path = tmp_path / "旧表.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(DataError, match=r"旧版 Excel（\.xls）") as caught:
        load_accounts(path)
    assert "另存为" in str(caught.value) and "旧表.xlsx" in str(caught.value)


def test_a_csv_file_renamed_to_xlsx_is_read_as_csv(tmp_path):
    path = tmp_path / "导出.xlsx"
    path.write_bytes("客户编号,名称,销售额（万元）\r\nK1,甲,12.5\r\n".encode("gbk"))
    frame = load_accounts(path)
    assert frame["account_id"].tolist() == ["K1"] and frame["annual_revenue"].tolist() == [12.5]


@pytest.mark.parametrize(
    "content, words",
    [
        (b"PK\x03\x04" + bytes(60), "文件已损坏"),
        (b"", "文件是空的"),
    ],
)
def test_damaged_or_other_archives(tmp_path, content, words):
    path = tmp_path / "坏.xlsx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words):
        load_accounts(path)


def test_another_zip_archive(tmp_path):
    path = tmp_path / "压缩.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match="这是一个压缩文件"):
        load_accounts(path)


@pytest.mark.parametrize("cut", [0.5, 0.98])
def test_a_truncated_workbook_is_damaged(tmp_path, cut):
    good = workbook(tmp_path, [ENGLISH, *GOOD])
    path = tmp_path / "截断.xlsx"
    data = good.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(DataError, match="文件已损坏") as caught:
        load_accounts(path)
    assert "截断.xlsx" in str(caught.value) and "压缩文件" not in str(caught.value)


def test_owner_roles_in_chinese_and_a_bad_one(tmp_path):
    headers = ["contact_id", "account_id", "name", "level", "buying_role", "relationship_strength", "owner_role"]
    rows = [
        headers,
        ["P1", "K1", "王", "高层", "决策者", 4, "行政支持者"],
        ["P2", "K1", "赵", "中层", "影响者", 3, "老板"],
    ]
    with pytest.raises(DataError) as caught:
        load_contacts(workbook(tmp_path, rows, title=CONTACTS_SHEET))
    found = problem(caught, 3, "owner_role", "老板")
    assert "客户经理 / 客户经理或团队领导者 / 行政支持者 / 销售经理" in found.message
    frame = load_contacts(workbook(tmp_path, rows[:2], title=CONTACTS_SHEET))
    assert frame["owner_role"].tolist() == ["executive_sponsor"] and frame["title"].isna().all()


def test_the_case_contacts_stay_strict():
    """The case study's contacts need a title and a role on our side (a trainee's sheet may leave them blank)."""
    with pytest.raises(DataError) as caught:
        _validated(
            pd.DataFrame(
                {
                    "contact_id": ["P1"],
                    "account_id": ["A1"],
                    "name": ["王"],
                    "title": [""],
                    "level": ["高层"],
                    "buying_role": ["决策者"],
                    "relationship_strength": ["3"],
                    "owner_role": [""],
                },
                index=[2],
            ),
            SCHEMAS["contacts.csv"],
            "contacts.csv",
        )
    assert {p.column for p in caught.value.problems} == {"title", "owner_role"}


def test_a_missing_column_is_named_by_its_header_and_the_columns_as_written(tmp_path):
    with pytest.raises(DataError, match="缺少必需的列") as caught:
        load_accounts(workbook(tmp_path, [["客户编号", "客户名称", "竞争", "销售额（万元）"], ["K1", "甲", 1, 5]]))
    found = problem(caught, 1, "名称")
    assert "（表中的列：客户编号、客户名称、竞争、销售额（万元））" in found.message
    assert not re.search(r"[a-z]_[a-z]|\bname\b", str(found))
