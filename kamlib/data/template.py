"""The Excel template a trainee fills with their own accounts (written with openpyxl).

Sheets: 说明 (how to fill it in, in Chinese), 客户 and 联系人 (Chinese headers as
:func:`kamlib.data.zh_columns` shows them, drop-down lists for every coded column, two
example rows each whose ids start with 示例 so the loaders skip them).
"""

from __future__ import annotations

import os

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kamlib.data import (
    ACCOUNTS_SCHEMA,
    ACCOUNTS_SHEET,
    BUYING_ROLES,
    CONTACT_LEVELS,
    CONTACTS_SHEET,
    EXAMPLE_PREFIX,
    GUIDE_SHEET,
    OWN_CONTACTS_SCHEMA,
    OWNER_ROLE_ALIASES,
    _labels_for,
)
from kamlib.data._validation import Field, Schema
from kamlib.tiers import INDICATORS, Tier

ROWS = 500  # drop-down lists cover this many data rows
OWNER_CHOICES = ("客户经理", "行政支持者", "销售经理")

ACCOUNT_EXAMPLES = (
    (
        "示例1",
        "某某市自来水公司（示例）",
        "企业",
        "水务",
        "华东",
        320.5,
        4,
        3,
        0.3,
        2,
        2,
        1,
        2,
        2,
        2,
        "张三（示例）",
        "",
        "李四（示例）",
    ),
    (
        "示例2",
        "某某汽车零部件有限公司（示例）",
        "企业",
        "汽车制造",
        "华南",
        1250,
        3,
        5,
        0.6,
        3,
        3,
        3,
        4,
        2,
        3,
        "张三（示例）",
        "王五（示例）",
        "李四（示例）",
    ),
)
CONTACT_EXAMPLES = (
    ("示例1", "示例2", "赵六（示例）", "总经理", "高层", "决策者", 3, "行政支持者"),
    ("示例2", "示例2", "钱七（示例）", "采购部经理", "中层", "采购把关者", 4, "客户经理"),
)

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="BDD7EE")
_EXAMPLE_FONT = Font(italic=True, color="808080")


def _choices(f: Field) -> tuple[str, ...] | None:
    """The drop-down list of a column, or None for free input."""
    if f.name == "owner_role":
        return OWNER_CHOICES
    if f.choices:
        return f.choices
    if f.kind == "int" and f.low is not None and f.high is not None:
        return tuple(str(v) for v in range(int(f.low), int(f.high) + 1))
    return None


def _table_sheet(ws: Worksheet, schema: Schema, examples: tuple[tuple, ...]) -> None:
    labels = _labels_for(schema)
    ws.append([labels.get(f.name, f.name) for f in schema])
    for column, f in enumerate(schema, start=1):
        cell = ws.cell(row=1, column=column)
        cell.font = Font(bold=True)
        cell.fill = _REQUIRED_FILL if f.required else _HEADER_FILL
        ws.column_dimensions[get_column_letter(column)].width = max(10, 2.2 * len(cell.value) + 2)
        choices = _choices(f)
        if choices:
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="无效的取值",
                error="请从下拉列表中选择：" + "、".join(choices),
            )
        elif f.kind == "float":
            rule = DataValidation(
                type="decimal",
                operator="between",
                formula1=str(f.low or 0),
                formula2=str(f.high if f.high is not None else 10**9),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="无效的数",
                error=f"{f.expected()}。",
            )
        else:
            continue
        ws.add_data_validation(rule)
        rule.add(f"{get_column_letter(column)}2:{get_column_letter(column)}{ROWS + 1}")
    for row in examples:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            cell.font = _EXAMPLE_FONT
    ws.freeze_panes = "B2"


def _guide(ws: Worksheet) -> None:
    owner = "、".join(alias for alias, _ in OWNER_ROLE_ALIASES if alias in OWNER_CHOICES)
    lines = [
        ("我的客户：填写说明", None),
        (
            "这份工作簿用来把课程用到你自己的客户上。填好后另存为“我的客户.xlsx”，放在第 5 课笔记本所在的文件夹里，"
            "第 5 课就会读取它，而不是案例公司的数据。",
            None,
        ),
        (
            "隐私：客户资料只保存在你自己的电脑上。不要上传到公共网站（包括 Binder），也不要放进练习或提交的作业中。",
            None,
        ),
        ("", None),
        ("怎么填", "bold"),
        (
            f"1. 在“{ACCOUNTS_SHEET}”表中一行填一个客户；深蓝色表头的列必须填写，其余列不知道可以留空（表示未知）。",
            None,
        ),
        (f"2. 在“{CONTACTS_SHEET}”表中一行填一位客户方的联系人；“客户编号”要与“{ACCOUNTS_SHEET}”表中的一致。", None),
        (f"3. 灰色斜体的是示例行：编号以“{EXAMPLE_PREFIX}”开头的行读取时会跳过。可以直接覆盖或删除。", None),
        ("4. 带下拉箭头的列请从列表中选择；数字列只填数字，不要带单位（销售额以万元计）。", None),
        ("5. 不要合并单元格；第一行是表头，不要改动列名（英文列名也可以）。", None),
        ("", None),
        (f"“{ACCOUNTS_SHEET}”表的各列", "bold"),
        (
            "客户编号：你自己定的编号，不重复，例如 K001。名称：客户全称。销售额（万元）：最近一年我们对该客户的销售额。",
            None,
        ),
        ("增长潜力、战略重要性：1（很低）– 5（很高），由你和销售团队评估；确定优先顺序时要用到。", None),
        ("采购份额：我们在客户同类采购中所占的比例，0 – 1 之间的小数，例如 0.3。", None),
        ("客户经理、行政支持者、销售经理：我方担任这三个职位的人；还没有指派的留空。", None),
        ("", None),
        (
            "六个关系指标（1–4 级，第 k 级大多就是课件中第 k 种客户关系对这一方面的描述，课件没写到的几格由本课程推断）",
            "bold",
        ),
    ]
    for key, indicator in INDICATORS.items():
        lines.append((f"{indicator.label_zh}（{key}）", "bold"))
        lines += [(f"{level} 级（{Tier(level).label_zh}）：{text}", None) for level, text in indicator.levels.items()]
    lines += [
        ("", None),
        (f"“{CONTACTS_SHEET}”表的各列", "bold"),
        ("联系人编号：不重复，例如 P001。层级：" + "、".join(CONTACT_LEVELS) + "。", None),
        ("采购角色：" + "、".join(BUYING_ROLES) + "（本课程的做法：谁拍板、谁影响、谁使用、谁把关采购流程）。", None),
        ("关系强度：1（很弱）– 5（很强）。", None),
        (f"我方维护角色：{owner}之一；还没有人负责这位联系人时留空——关系地图会把他标成缺口。", None),
    ]
    ws.column_dimensions["A"].width = 120
    for text, style in lines:
        ws.append([text])
        cell = ws.cell(row=ws.max_row, column=1)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style == "bold":
            cell.font = Font(bold=True)
    ws["A1"].font = Font(bold=True, size=14)


def write_template(path: str | os.PathLike) -> None:
    """Write the template workbook to *path*."""
    wb = Workbook()
    guide = wb.active
    guide.title = GUIDE_SHEET
    _guide(guide)
    _table_sheet(wb.create_sheet(ACCOUNTS_SHEET), ACCOUNTS_SCHEMA, ACCOUNT_EXAMPLES)
    _table_sheet(wb.create_sheet(CONTACTS_SHEET), OWN_CONTACTS_SCHEMA, CONTACT_EXAMPLES)
    wb.save(os.fspath(path))
