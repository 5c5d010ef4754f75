"""Case-study data of the invented supplier 华东精工 and loaders for it (figures are invented).

Each loader returns a validated DataFrame (ids and texts as ``str``, whole numbers as
``Int64``, money as ``float64`` in 万元). ``load_accounts(path)`` and ``load_contacts(path)``
also read a trainee's own accounts and contacts: an Excel workbook (.xlsx, sheets 客户 and
联系人, as :func:`account_template` writes it) or a CSV file (UTF-8, UTF-8 with BOM or GBK),
with English column names or the Chinese headers of :func:`zh_columns`. Anything wrong
raises :class:`DataError` (a ValueError) whose Chinese message names the file, the sheet,
the spreadsheet row, the column and the value. The data cards beside the CSVs describe each
field; ``python -m tools.generate_data`` rebuilds the CSVs from a fixed seed.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kamlib.data._validation import DataError, Field, Problem, Schema, _validated, read_table

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = [
    "DataError",
    "Problem",
    "INDICATOR_COLUMNS",
    "PRODUCT_LINES",
    "SCHEMAS",
    "COLUMN_LABELS_ZH",
    "ACCOUNTS_SHEET",
    "CONTACTS_SHEET",
    "GUIDE_SHEET",
    "EXAMPLE_PREFIX",
    "OWN_CONTACTS_SCHEMA",
    "zh_columns",
    "zh_table",
    "load_accounts",
    "load_orders",
    "load_contacts",
    "load_competitors",
    "load_competitor_presence",
    "account_template",
    "OWN_WORKBOOK",
    "AccountsData",
    "load_own_or_case",
]

INDICATOR_COLUMNS = ("competition", "information_access", "pricing", "contact_level", "contract", "visibility")
PRODUCT_LINES = ("减速机", "伺服电机", "变频器", "工业传感器", "维保服务")
CONTACT_LEVELS = ("高层", "中层", "操作层")
BUYING_ROLES = ("决策者", "影响者", "使用者", "采购把关者")
OWNER_ROLES = ("account_manager", "executive_sponsor", "sales_manager")
OWNER_ROLE_ALIASES = (
    ("客户经理", "account_manager"),
    ("客户经理或团队领导者", "account_manager"),
    ("行政支持者", "executive_sponsor"),
    ("销售经理", "sales_manager"),
)

ACCOUNTS_SHEET, CONTACTS_SHEET, GUIDE_SHEET = "客户", "联系人", "说明"
_SHEET_NAMES = {ACCOUNTS_SHEET: (ACCOUNTS_SHEET, "accounts"), CONTACTS_SHEET: (CONTACTS_SHEET, "contacts")}
EXAMPLE_PREFIX = "示例"  # an id starting with this marks an example row of the template (skipped)
ONLY_EXAMPLES = "只有示例行（{}以“示例”开头），还没有你自己的数据；请在示例行下面填写，或直接覆盖示例行。"
OWN_WORKBOOK = "我的客户.xlsx"  # lesson 5 reads this file beside it when it is there


def _optional(name: str, kind: str = "text", **limits: object) -> Field:
    return Field(name, kind, required=False, nullable=True, **limits)


# A trainee's export needs only account_id, name and annual_revenue; blank optional cells
# and absent optional columns are unknown (NA).
ACCOUNTS_SCHEMA: Schema = (
    Field("account_id", unique=True, fold=True),
    Field("name"),
    _optional("customer_type", choices=("政府", "企业")),
    _optional("industry"),
    _optional("region"),
    Field("annual_revenue", "float", low=0),
    _optional("growth_potential", "int", low=1, high=5),
    _optional("strategic_importance", "int", low=1, high=5),
    _optional("share_of_wallet", "float", low=0, high=1),
    *(_optional(name, "int", low=1, high=4) for name in INDICATOR_COLUMNS),
    _optional("account_manager"),
    _optional("executive_sponsor"),
    _optional("sales_manager"),
)
ORDERS_SCHEMA: Schema = (
    Field("order_id", unique=True, fold=True),
    Field("account_id", fold=True),
    Field("order_date", "date"),
    Field("year", "int", low=2023, high=2025),
    Field("product_line", choices=PRODUCT_LINES),
    Field("amount", "float", low=0, low_open=True),
)
CONTACTS_SCHEMA: Schema = (
    Field("contact_id", unique=True, fold=True),
    Field("account_id", fold=True),
    Field("name"),
    Field("title"),
    Field("level", choices=CONTACT_LEVELS),
    Field("buying_role", choices=BUYING_ROLES),
    Field("relationship_strength", "int", low=1, high=5),
    Field("owner_role", choices=OWNER_ROLES),
)
COMPETITORS_SCHEMA: Schema = (
    Field("competitor_id", unique=True, fold=True),
    Field("name"),
    Field("products"),
    Field("differentiation"),
    Field("advantages"),
)
PRESENCE_SCHEMA: Schema = (Field("account_id", fold=True), Field("competitor_id", fold=True))
# A trainee's own contacts: title may be blank, and owner_role too (nobody on our side
# looks after this person yet); our positions may be written in Chinese.
OWN_CONTACTS_SCHEMA: Schema = tuple(
    _optional(f.name)
    if f.name == "title"
    else _optional(f.name, choices=OWNER_ROLES, aliases=OWNER_ROLE_ALIASES)
    if f.name == "owner_role"
    else f
    for f in CONTACTS_SCHEMA
)

SCHEMAS: dict[str, Schema] = {
    "accounts.csv": ACCOUNTS_SCHEMA,
    "orders.csv": ORDERS_SCHEMA,
    "contacts.csv": CONTACTS_SCHEMA,
    "competitors.csv": COMPETITORS_SCHEMA,
    "competitor_presence.csv": PRESENCE_SCHEMA,
}


# Short Chinese headers for showing tables to trainees (the five files, then columns that
# kamlib.tiers, kamlib.priorities and kamlib.roles add). Indicator labels match kamlib.tiers.
COLUMN_LABELS_ZH: dict[str, str] = {
    "account_id": "客户编号",
    "name": "名称",
    "customer_type": "客户类型",
    "industry": "行业",
    "region": "大区",
    "annual_revenue": "销售额（万元）",
    "growth_potential": "增长潜力",
    "strategic_importance": "战略重要性",
    "share_of_wallet": "采购份额",
    "competition": "竞争状况",
    "information_access": "信息获取",
    "pricing": "价格",
    "contact_level": "接触层级",
    "contract": "合同与协议",
    "visibility": "知名度",
    "account_manager": "客户经理",
    "executive_sponsor": "行政支持者",
    "sales_manager": "销售经理",
    "order_id": "订单编号",
    "order_date": "下单日期",
    "year": "年份",
    "product_line": "产品线",
    "amount": "金额（万元）",
    "contact_id": "联系人编号",
    "title": "职务",
    "level": "层级",
    "buying_role": "采购角色",
    "relationship_strength": "关系强度",
    "owner_role": "我方维护角色",
    "competitor_id": "竞争对手编号",
    "products": "主要产品",
    "differentiation": "差异化方式",
    "advantages": "竞争优势",
    "tier": "关系层级",
    "tier_label": "关系类型",
    "mixed": "关系不均衡",
    "known": "已知指标数",
    "rank": "排名",
    "share": "占比",
    "cum_share": "累计占比",
    "cum_account_share": "累计客户占比",
    "revenue": "销售额（万元）",
    "growth_pct": "增长率（%）",
    "trend": "走势",
    "missing": "缺少的职位",
    "id": "编号",
    "role_zh": "职位",
    "towards_zh": "对象",
    "text_zh": "职责",
    "main": "主要职责",
    "slide": "课件页码",
}


def zh_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of *frame* with Chinese column headers for display (unknown columns unchanged).

    ``name`` reads 姓名 in a table of people (one with contact_id), else 名称.
    """
    labels = dict(COLUMN_LABELS_ZH)
    if "contact_id" in frame.columns:
        labels["name"] = "姓名"
    return frame.rename(columns=labels)


def zh_table(frame: pd.DataFrame, precision: int = 1) -> Styler:
    """*frame* as a trainee sees it: Chinese headers (:func:`zh_columns`), no index, numbers
    to *precision* decimals and a missing value shown as —."""
    return zh_columns(frame).style.hide(axis="index").format(precision=precision, na_rep="—")


def _load_package_file(name: str) -> pd.DataFrame:
    data = (files("kamlib") / "data" / name).read_bytes()
    return _validated(read_table(data, name), SCHEMAS[name], source=name)


def _read_bytes(path: str | os.PathLike, source: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        reason = "找不到这个文件，请检查路径和文件名。"
    except IsADirectoryError:
        reason = "这是一个文件夹，不是 CSV 文件。"
    except PermissionError:
        reason = "没有读取这个文件的权限。"
    except OSError as err:
        reason = f"读取失败（{err.strerror or err}）。"
    raise DataError(source, [Problem(None, None, None, reason)])


@dataclass(frozen=True)
class _OwnTable:
    """One table of a trainee's file, read and checked."""

    frame: pd.DataFrame
    rows: tuple[int, ...]  # the spreadsheet row of each row of frame
    sheet: str | None  # None for a CSV file
    headers: dict[str, str]  # field name -> its header as written (its Chinese label when absent)
    kind: str  # what the file is, by content (kamlib.data.workbook.file_kind)
    notices: tuple[str, ...]  # what the trainee should know although nothing is wrong


def _pick_sheet(sheets: list[str], table: str, source: str) -> str:
    """The sheet of *table* (客户 or 联系人); the contacts never get the accounts' sheet."""
    from kamlib.data.workbook import pick_sheet

    reserved = [n for names in _SHEET_NAMES.values() for n in names] + [GUIDE_SHEET]
    if table == CONTACTS_SHEET:
        try:
            reserved.append(_pick_sheet(sheets, ACCOUNTS_SHEET, source))
        except DataError:
            pass  # no sheet is the accounts' for sure: reading the accounts says why
    return pick_sheet(sheets, _SHEET_NAMES[table], reserved, source)


def _read_own(path: str | os.PathLike, schema: Schema, table: str, *, empty_ok: bool = False) -> _OwnTable:
    """A trainee's table at *path* (.xlsx sheet *table*, or CSV — told by content, not by
    name) checked against *schema*. Example rows (id starting with 示例) are skipped; with
    *empty_ok* a table without rows, or with only examples, is empty rather than an error."""
    from kamlib.data import workbook

    source = os.fsdecode(os.fspath(path))
    data = _read_bytes(path, source)
    kind = workbook.file_kind(data)
    reason = workbook.unusable_reason(kind)
    if reason:
        raise DataError(source, [Problem(None, None, None, reason)])
    labels = _labels_for(schema)
    names = workbook.header_names(schema, labels)
    if kind == "xlsx":
        required = "、".join(labels[f.name] for f in schema if f.required)
        pick = partial(_pick_sheet, table=table, source=source)
        raw, header_row, sheet, problems = workbook.read_sheet(data, source, pick, schema, names, required)
        if raw.columns.empty and not empty_ok:
            raise DataError(source, [Problem(None, None, None, "工作表是空的，没有表头也没有数据。")], sheet)
    else:
        raw, header_row, sheet, problems = read_table(data, source), 1, None, []
    written = [str(c) for c in raw.columns]
    raw.columns = [workbook.field_of(c, names) or c for c in written]
    headers = {f.name: labels[f.name] for f in schema} | dict(zip(raw.columns, written))
    key = schema[0].name
    if key in raw.columns:
        example = raw[key].str.startswith(EXAMPLE_PREFIX)
        if example.all() and len(raw) and not empty_ok:
            raise DataError(source, [Problem(None, None, None, ONLY_EXAMPLES.format(headers[key]))], sheet)
        problems = [p for p in problems if p.row not in set(raw.index[example])]
        raw = raw[~example]
    if raw.empty and empty_ok:
        return _OwnTable(_validated_empty(schema), (), sheet, headers, kind, ())
    try:
        frame = _validated(raw, schema, source, header_row=header_row, sheet=sheet, headers=headers)
        found: list[Problem] = []
    except DataError as err:
        frame, found = None, list(err.problems)
    cells = {(p.row, p.column) for p in problems}
    found = [p for p in found if (p.row, p.column) not in cells] + problems
    if found:
        raise DataError(source, found, sheet)
    known = {f.name for f in schema}
    unknown = [text for name, text in zip(raw.columns, written) if name not in known]
    notices = ()
    if unknown:
        absent = "、".join(labels[f.name] for f in schema if f.name not in raw.columns)
        notices = (
            (f"工作表“{sheet}”" if sheet else f"文件 {source} ")
            + "中有课程不认识的列名："
            + "、".join(f"“{t}”" for t in unknown)
            + "。这些列的内容原样保留，但课程不会用到。"
            + (
                f"课程的列中，表里还没有的是：{absent}；如果上面哪一列就是其中之一，请把列名改成这里的写法，再从头运行。"
                if absent
                else ""
            ),
        )
    return _OwnTable(frame, tuple(int(r) for r in raw.index), sheet, headers, kind, notices)


def _frame(table: _OwnTable) -> pd.DataFrame:
    """The table's frame; its notices become warnings."""
    for notice in table.notices:
        warnings.warn(notice, UserWarning, stacklevel=3)
    return table.frame


def _labels_for(schema: Schema) -> dict[str, str]:
    labels = {f.name: COLUMN_LABELS_ZH[f.name] for f in schema if f.name in COLUMN_LABELS_ZH}
    if any(f.name == "contact_id" for f in schema):
        labels["name"] = "姓名"
    return labels


def load_accounts(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The 48 key accounts of 华东精工 (see accounts.md), or a trainee's accounts at *path*.

    *path* is an Excel workbook (.xlsx; the sheet 客户, or its only sheet) or a CSV file
    (UTF-8, UTF-8 with BOM or GBK). It needs the columns account_id, name and
    annual_revenue (English names or the Chinese headers of :func:`zh_columns`); the other
    columns of accounts.md are optional (absent column or blank cell = unknown, NA) and
    further columns are kept as text, with a UserWarning naming them. Rows whose id starts
    with 示例 are skipped; ids are width-folded (Ｋ００１ is K001).
    Raises DataError listing every problem (file, sheet, row, column, value).
    """
    if path is None:
        return _load_package_file("accounts.csv")
    return _frame(_read_own(path, ACCOUNTS_SCHEMA, ACCOUNTS_SHEET))


def load_orders() -> pd.DataFrame:
    """Orders of 2023–2025 per account, amount in 万元 (see orders.md; invented figures)."""
    return _load_package_file("orders.csv")


def load_contacts(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """People at the accounts and who on our side holds each relationship (contacts.md),
    or a trainee's contacts at *path* (the sheet 联系人 of a workbook, or a CSV file).

    Read like :func:`load_accounts`; in a trainee's file title and owner_role may be blank
    (blank owner_role: nobody on our side looks after this person), and owner_role may be
    written 客户经理 / 行政支持者 / 销售经理. A sheet without rows, or with only the
    template's examples, gives no contacts. The contacts never come from the sheet the
    accounts are read from.
    """
    if path is None:
        return _load_package_file("contacts.csv")
    return _frame(_read_own(path, OWN_CONTACTS_SCHEMA, CONTACTS_SHEET, empty_ok=True))


def load_competitors() -> pd.DataFrame:
    """The four (invented) competitors: products, differentiation, advantages (competitors.md)."""
    return _load_package_file("competitors.csv")


def load_competitor_presence() -> pd.DataFrame:
    """Which competitor is active at which account (see competitors.md)."""
    return _load_package_file("competitor_presence.csv")


def account_template(path: str | os.PathLike) -> None:
    """Write the Excel template for a trainee's own accounts to *path* (.xlsx): sheets
    说明 (how to fill it in), 客户 and 联系人 with Chinese headers, drop-down lists and
    example rows (ids starting with 示例, skipped by the loaders)."""
    from kamlib.data.template import write_template

    write_template(path)


@dataclass(frozen=True)
class AccountsData:
    """The accounts a lesson works on: a trainee's own, or the case company's."""

    accounts: pd.DataFrame
    contacts: pd.DataFrame
    own: bool  # True: read from the trainee's workbook
    source: str  # one Chinese sentence saying which data this is
    orders: pd.DataFrame | None = None  # the case company's only, as are the two below
    competitors: pd.DataFrame | None = None
    presence: pd.DataFrame | None = None
    notices: tuple[str, ...] = ()  # Chinese sentences the trainee should read (unused columns, no contacts)


def load_own_or_case(folder: str | os.PathLike = ".") -> AccountsData:
    """The trainee's ``我的客户.xlsx`` in *folder* when it is there, else the case company
    (then ``source`` names any file in *folder* that looks like a misnamed workbook).

    There are no contacts when no sheet can be the contacts' (``notices`` says so), when
    the 联系人 sheet is empty or holds only the template's examples, and when the file is
    CSV text. Raises DataError for a bad workbook, and for contacts whose account id is
    not in the 客户 sheet.
    """
    from kamlib.data.workbook import NoSuchSheet

    path = Path(folder) / OWN_WORKBOOK
    if not path.is_file():
        return AccountsData(
            load_accounts(),
            load_contacts(),
            False,
            _case_source(Path(folder)),
            load_orders(),
            load_competitors(),
            load_competitor_presence(),
        )
    accounts = _read_own(path, ACCOUNTS_SCHEMA, ACCOUNTS_SHEET)
    notices = list(accounts.notices)
    contacts = None
    if accounts.kind == "text":
        notices.append(
            f"“{OWN_WORKBOOK}”其实是 CSV 文本文件（扩展名改成了 .xlsx），只能存一张表，所以按“{ACCOUNTS_SHEET}”表读取，"
            f"没有联系人。要加上联系人，请在 Excel 或 WPS 中打开它，另存为 Excel 工作簿（*.xlsx），"
            f"再从客户表模板复制“{CONTACTS_SHEET}”表过来填写。"
        )
    else:
        try:
            contacts = _read_own(path, OWN_CONTACTS_SCHEMA, CONTACTS_SHEET, empty_ok=True)
        except NoSuchSheet:
            notices.append(
                f"工作簿中没有“{CONTACTS_SHEET}”表，所以没有联系人。关系地图要用到联系人，"
                f"可以从客户表模板复制“{CONTACTS_SHEET}”表过来填写。"
            )
        else:
            notices += contacts.notices
    people = contacts.frame if contacts is not None else _validated_empty(OWN_CONTACTS_SCHEMA)
    stray = ~people["account_id"].isin(accounts.frame["account_id"])
    if contacts is not None and stray.any():
        raise DataError(
            str(path),
            [
                Problem(
                    row, contacts.headers["account_id"], aid, f"联系人 {cid} 的客户编号在“{accounts.sheet}”表中找不到"
                )
                for row, cid, aid, out in zip(contacts.rows, people["contact_id"], people["account_id"], stray)
                if out
            ],
            contacts.sheet,
        )
    return AccountsData(
        accounts.frame,
        people,
        True,
        f"读取了你自己的“{OWN_WORKBOOK}”：{len(accounts.frame)} 个客户、{len(people)} 位联系人。",
        notices=tuple(notices),
    )


def _case_source(folder: Path) -> str:
    """The sentence saying the case company is used, naming files that look like a misnamed workbook."""
    from kamlib.data.workbook import normalise_header

    case = "下面用的是案例公司华东精工的数据（虚构）。"
    stem = normalise_header(Path(OWN_WORKBOOK).stem)
    similar = sorted(p.name for p in folder.glob("*") if p.is_file() and normalise_header(p.name).startswith(stem))
    if not similar:
        return f"没有找到“{OWN_WORKBOOK}”，{case}"
    suffix = Path(similar[0]).suffix.lower()
    if suffix in (".xls", ".csv"):
        advice = f"请在 Excel 或 WPS 中打开它，另存为 Excel 工作簿（*.xlsx），文件名为“{OWN_WORKBOOK}”"
    else:
        advice = (
            f"如果这就是你的客户表，请把它改名为“{OWN_WORKBOOK}”"
            "（Windows 常常隐藏扩展名，看看是不是多了一个“.xlsx”或少了扩展名）"
        )
    found = "、".join(f"“{name}”" for name in similar)
    return f"没有找到“{OWN_WORKBOOK}”，但这个文件夹里有{found}：{advice}，然后从头运行本课。现在{case}"


def _validated_empty(schema: Schema) -> pd.DataFrame:
    """A frame with the columns and dtypes *schema* gives, and no rows."""
    from kamlib.data._validation import _DTYPES

    return pd.DataFrame({f.name: pd.Series([], dtype=_DTYPES[f.kind]) for f in schema})
