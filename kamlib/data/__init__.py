"""Case-study data of the invented supplier 华东精工 and loaders for it (figures are invented).

Each loader returns a validated DataFrame (ids and texts as ``str``, whole numbers as
``Int64``, money as ``float64`` in 万元). ``load_accounts(path)`` also reads a trainee's own
CRM export of the same schema, in UTF-8, UTF-8 with BOM or GBK. Anything wrong raises
:class:`DataError` (a ValueError) whose Chinese message names the file, the spreadsheet row
(header = row 1), the column and the value. The data cards beside the CSVs describe each
field; ``python -m kamlib.data.generate`` rebuilds the CSVs from a fixed seed.
"""

from __future__ import annotations

import os
from importlib.resources import files

import pandas as pd

from kamlib.data._validation import DataError, Field, Problem, Schema, _validated, read_table

__all__ = [
    "DataError", "Problem", "INDICATOR_COLUMNS", "PRODUCT_LINES", "SCHEMAS", "COLUMN_LABELS_ZH",
    "zh_columns", "load_accounts", "load_orders", "load_contacts", "load_competitors",
    "load_competitor_presence",
]

INDICATOR_COLUMNS = ("competition", "information_access", "pricing",
                     "contact_level", "contract", "visibility")
PRODUCT_LINES = ("减速机", "伺服电机", "变频器", "工业传感器", "维保服务")
CONTACT_LEVELS = ("高层", "中层", "操作层")
BUYING_ROLES = ("决策者", "影响者", "使用者", "采购把关者")
OWNER_ROLES = ("account_manager", "executive_sponsor", "sales_manager")


def _optional(name: str, kind: str = "text", **limits: object) -> Field:
    return Field(name, kind, required=False, nullable=True, **limits)


# A trainee's export needs only account_id, name and annual_revenue; blank optional cells
# and absent optional columns are unknown (NA).
ACCOUNTS_SCHEMA: Schema = (
    Field("account_id", unique=True),
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
    Field("order_id", unique=True),
    Field("account_id"),
    Field("order_date", "date"),
    Field("year", "int", low=2023, high=2025),
    Field("product_line", choices=PRODUCT_LINES),
    Field("amount", "float", low=0, low_open=True),
)
CONTACTS_SCHEMA: Schema = (
    Field("contact_id", unique=True),
    Field("account_id"),
    Field("name"),
    Field("title"),
    Field("level", choices=CONTACT_LEVELS),
    Field("buying_role", choices=BUYING_ROLES),
    Field("relationship_strength", "int", low=1, high=5),
    Field("owner_role", choices=OWNER_ROLES),
)
COMPETITORS_SCHEMA: Schema = (
    Field("competitor_id", unique=True),
    Field("name"),
    Field("products"),
    Field("differentiation"),
    Field("advantages"),
)
PRESENCE_SCHEMA: Schema = (Field("account_id"), Field("competitor_id"))

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
    "account_id": "客户编号", "name": "名称", "customer_type": "客户类型", "industry": "行业",
    "region": "大区", "annual_revenue": "销售额（万元）", "growth_potential": "增长潜力",
    "strategic_importance": "战略重要性", "share_of_wallet": "钱包份额",
    "competition": "竞争状况", "information_access": "信息获取", "pricing": "价格",
    "contact_level": "接触层级", "contract": "合同与协议", "visibility": "知名度",
    "account_manager": "客户经理", "executive_sponsor": "行政支持者", "sales_manager": "销售经理",
    "order_id": "订单编号", "order_date": "下单日期", "year": "年份", "product_line": "产品线",
    "amount": "金额（万元）",
    "contact_id": "联系人编号", "title": "职务", "level": "层级", "buying_role": "采购角色",
    "relationship_strength": "关系强度", "owner_role": "我方维护角色",
    "competitor_id": "竞争对手编号", "products": "主要产品", "differentiation": "差异化方式",
    "advantages": "竞争优势",
    "tier": "关系层级", "tier_label": "关系类型", "mixed": "关系不均衡", "known": "已知指标数",
    "rank": "排名", "share": "占比", "cum_share": "累计占比", "cum_account_share": "累计客户占比",
    "revenue": "销售额（万元）", "growth_pct": "增长率（%）", "trend": "走势", "missing": "缺少的职位",
    "id": "编号", "role_zh": "职位", "towards_zh": "对象", "text_zh": "职责", "main": "主要职责",
    "slide": "幻灯片",
}


def zh_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of *frame* with Chinese column headers for display (unknown columns unchanged).

    ``name`` reads 姓名 in a table of people (one with contact_id), else 名称.
    """
    labels = dict(COLUMN_LABELS_ZH)
    if "contact_id" in frame.columns:
        labels["name"] = "姓名"
    return frame.rename(columns=labels)


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


def load_accounts(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The 48 key accounts of 华东精工 (see accounts.md), or the accounts CSV at *path*.

    A file at *path* needs the columns account_id, name and annual_revenue; the other
    columns of accounts.md are optional (absent column or blank cell = unknown, NA) and
    further columns are kept as text. UTF-8, UTF-8 with BOM and GBK are detected.
    Raises DataError listing every problem (file, row, column, value).
    """
    if path is None:
        return _load_package_file("accounts.csv")
    source = os.fspath(path)
    if isinstance(source, bytes):
        source = os.fsdecode(source)
    return _validated(read_table(_read_bytes(path, source), source), ACCOUNTS_SCHEMA, source)


def load_orders() -> pd.DataFrame:
    """Orders of 2023–2025 per account, amount in 万元 (see orders.md; invented figures)."""
    return _load_package_file("orders.csv")


def load_contacts() -> pd.DataFrame:
    """People at the accounts and who on our side holds each relationship (contacts.md)."""
    return _load_package_file("contacts.csv")


def load_competitors() -> pd.DataFrame:
    """The four (invented) competitors: products, differentiation, advantages (competitors.md)."""
    return _load_package_file("competitors.csv")


def load_competitor_presence() -> pd.DataFrame:
    """Which competitor is active at which account (see competitors.md)."""
    return _load_package_file("competitor_presence.csv")
