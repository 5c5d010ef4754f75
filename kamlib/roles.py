"""The three positions of the key account system and their duties (slides 6–12), as data.

Texts are the deck's wording, with the scrape errors corrected (the repository's
tools/deck.py lists them) and punctuation made full-width.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from kamlib.columns import require_columns
from kamlib.data import CONTACT_LEVELS

__all__ = [
    "Role",
    "Duty",
    "ROLES",
    "TOWARDS_ZH",
    "DUTIES",
    "duties",
    "duty_role_matrix",
    "staffing_gaps",
    "account_team",
    "contact_coverage",
]


@dataclass(frozen=True)
class Role:
    """One position: its key (the accounts column), the deck's name, an explanation."""

    key: str
    label_zh: str
    label_en: str
    summary_zh: str


ROLES: dict[str, Role] = {
    "account_manager": Role(
        "account_manager",
        "客户经理或团队领导者",
        "account manager / team leader",
        "客户经理或团队领导者（account manager）负责具体计划的制订和实施，以达到企业在重点客户"
        "工作方面的战略远景目标；他对客户、对企业都负有责任，并在客户事务上沟通、协调客户团队。",
    ),
    "executive_sponsor": Role(
        "executive_sponsor",
        "行政支持者",
        "executive sponsor",
        "行政支持者（executive sponsor）：课件写作“行政支持（者）”，字面上像是“行政后勤支持”，"
        "但这一职位的职责——与客户企业中的相应人士（高层）建立起牢固的关系、在两个企业之间建立"
        "起经理级的战略联盟关系、监督客户经理或客户团队的活动——说明它由企业高层管理者担任，"
        "对客户负长期责任。",
    ),
    "sales_manager": Role(
        "sales_manager",
        "销售经理",
        "sales manager",
        "销售经理（sales manager）直接负责客户经理的管理工作：指派合适的人选、平衡客户与销售团队"
        "之间的职责关系、管理预算与人力资源、培训客户经理并制定业绩评估标准。",
    ),
}

TOWARDS_ZH: dict[str, str] = {"customer": "对客户", "company": "对企业", "team": "对团队"}


@dataclass(frozen=True)
class Duty:
    """One duty of a position, in the deck's words, with the slide it is on."""

    id: str
    role: str
    main: bool
    towards: str
    text_zh: str
    slide: int


DUTIES: tuple[Duty, ...] = (
    # 客户经理或团队领导者 — slide 7: main duty and duties to the customer.
    Duty(
        "AM-main",
        "account_manager",
        True,
        "company",
        "负责具体计划的制订和实施，以达到企业在重点客户工作方面的战略远景目标。",
        7,
    ),
    Duty("AM-C1", "account_manager", False, "customer", "成为客户在企业中的支持者。", 7),
    Duty(
        "AM-C2",
        "account_manager",
        False,
        "customer",
        "了解客户企业的优势，帮客户确定解决方案，将适当的产品或服务介绍给客户。",
        7,
    ),
    Duty("AM-C3", "account_manager", False, "customer", "成为资源的提供者和问题的解决者。", 7),
    Duty(
        "AM-C4", "account_manager", False, "customer", "成为企业事务的分析家和顾问，成为客户所在企业和行业的专家。", 7
    ),
    # Slide 8: duties to the company.
    Duty("AM-E1", "account_manager", False, "company", "制定客户开发战略，最大限度地挖掘企业与客户做生意的潜力。", 8),
    Duty("AM-E2", "account_manager", False, "company", "制定、维护和实施提升客户价值的策略和行动方案的客户计划。", 8),
    Duty("AM-E3", "account_manager", False, "company", "收集、分析、保存和传播有关的信息。", 8),
    Duty("AM-E4", "account_manager", False, "company", "逐步与客户的权力层成员建立起关系。", 8),
    # Slide 9: proposals and negotiation (towards the customer), communication and
    # coordination (towards the team).
    Duty(
        "AM-T1", "account_manager", False, "customer", "指导建议书的撰写，确保能解决客户主要问题，满足其需求和要求。", 9
    ),
    Duty("AM-T2", "account_manager", False, "customer", "促进合同谈判的顺利进行，达到双赢目的。", 9),
    Duty(
        "AM-T3",
        "account_manager",
        False,
        "team",
        "在客户事务上做好与团队成员的沟通，确保他们能正确领会客户意图，使客户满意。",
        9,
    ),
    Duty("AM-T4", "account_manager", False, "team", "协调各团队之间的工作，确保在客户事务上达成一致。", 9),
    # 行政支持者 — slide 10 (title, main duty, 3 duties) and slide 11 (6 duties). The scrape
    # prints the main duty just before slide 11's number; like slide 7, it opens slide 10.
    Duty(
        "ES-main",
        "executive_sponsor",
        True,
        "customer",
        "与客户企业中的相应人士建立起牢固的关系，并对客户负长期责任。",
        10,
    ),
    Duty(
        "ES-1",
        "executive_sponsor",
        False,
        "team",
        "熟悉客户企业中的相应人士的性格、兴趣、观点，将相关信息转达给客户团队成员。",
        10,
    ),
    Duty(
        "ES-2",
        "executive_sponsor",
        False,
        "customer",
        "在两个企业之间建立起经理级的战略联盟关系，使他们的价值观、目标和期望一致。",
        10,
    ),
    Duty("ES-3", "executive_sponsor", False, "team", "监督客户经理或客户团队的活动并提供适当的建议。", 10),
    Duty("ES-4", "executive_sponsor", False, "customer", "做好客户经理与客户企业高层之间的引荐工作。", 11),
    Duty("ES-5", "executive_sponsor", False, "team", "审核客户计划及指导行动计划的实施。", 11),
    Duty("ES-6", "executive_sponsor", False, "company", "督促企业按时向客户交货或提供服务。", 11),
    Duty("ES-7", "executive_sponsor", False, "customer", "确保对客户的问题、投诉和快速服务作出迅速的反应。", 11),
    Duty(
        "ES-8",
        "executive_sponsor",
        False,
        "customer",
        "根据需要，参与建议书的撰写指导、审阅、内容的介绍和与客户的谈判。",
        11,
    ),
    Duty("ES-9", "executive_sponsor", False, "customer", "为建立良好的客户关系，承担起个人的职责。", 11),
    # 销售经理 — slide 12.
    Duty("SM-1", "sales_manager", False, "team", "直接负责客户经理的管理工作。", 12),
    Duty("SM-2", "sales_manager", False, "team", "确保指派合适的人选负责重点客户的工作。", 12),
    Duty("SM-3", "sales_manager", False, "team", "平衡客户与销售团队之间的职责关系。", 12),
    Duty("SM-4", "sales_manager", False, "company", "审核、管理预算与经费的使用。", 12),
    Duty(
        "SM-5",
        "sales_manager",
        False,
        "team",
        "管理客户部门及销售部门的人力资源工作，包括招聘、雇用、评估、薪酬制定和解雇等。",
        12,
    ),
    Duty("SM-6", "sales_manager", False, "team", "确保客户经理能够得到适当的培训并掌握开展工作的技能。", 12),
    Duty("SM-7", "sales_manager", False, "team", "制定客户部门和销售部门的人员工作业绩评估标准，并监督其使用。", 12),
)


def _check_choice(value: str | None, allowed: dict[str, object], name: str) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"参数 {name} 的取值“{value}”无效，可选：{'、'.join(allowed)}。")


def duties(role: str | None = None, towards: str | None = None) -> pd.DataFrame:
    """All duties as a table (id, role, role_zh, main, towards, towards_zh, text_zh, slide).

    ``role`` (a ROLES key) and ``towards`` ("customer", "company", "team") filter the rows.
    """
    _check_choice(role, ROLES, "role")
    _check_choice(towards, TOWARDS_ZH, "towards")
    rows = [
        {**asdict(d), "role_zh": ROLES[d.role].label_zh, "towards_zh": TOWARDS_ZH[d.towards]}
        for d in DUTIES
        if (role is None or d.role == role) and (towards is None or d.towards == towards)
    ]
    columns = ["id", "role", "role_zh", "main", "towards", "towards_zh", "text_zh", "slide"]
    return pd.DataFrame(rows, columns=columns)


def duty_role_matrix() -> pd.DataFrame:
    """Which position holds which duty: rows are duties, columns the ROLES keys, cells 0/1.

    The index has two levels, ``id`` and ``text_zh``, so the values are purely numeric
    (ready for a heatmap) while the labels carry the duty text.
    """
    index = pd.MultiIndex.from_tuples([(d.id, d.text_zh) for d in DUTIES], names=["id", "text_zh"])
    data = [[int(d.role == key) for key in ROLES] for d in DUTIES]
    return pd.DataFrame(data, index=index, columns=list(ROLES), dtype="int64")


def _is_blank(value: object) -> bool:
    return bool(pd.isna(value)) or not str(value).strip()


def staffing_gaps(accounts: pd.DataFrame) -> pd.DataFrame:
    """Accounts with no holder for one or more positions.

    Returns columns account_id, name and missing (the Chinese position names, joined
    by "、" so that a table shows them as text); a holder that is NA or blank counts as missing. ValueError names a missing column.
    """
    needed = ["account_id", "name", *ROLES]
    require_columns(accounts, needed, "客户表")
    rows = []
    for record in accounts[needed].to_dict("records"):
        missing = [ROLES[key].label_zh for key in ROLES if _is_blank(record[key])]
        if missing:
            rows.append({"account_id": record["account_id"], "name": record["name"], "missing": "、".join(missing)})
    return pd.DataFrame(rows, columns=["account_id", "name", "missing"])


VACANT_ZH = "（空缺）"
_CONTACT_COLUMNS = ["account_id", "name", "title", "level", "buying_role", "relationship_strength", "owner_role"]
TEAM_COLUMNS_ZH = ["层级", "联系人", "职务", "采购角色", "关系强度", "我方维护角色", "我方负责人"]


def _check_contacts(contacts: pd.DataFrame) -> None:
    for column, allowed in (("level", CONTACT_LEVELS), ("owner_role", tuple(ROLES))):
        bad = contacts.loc[~contacts[column].isin(allowed), column]
        if len(bad):
            raise ValueError(f"联系人表的 {column} 列有无效取值“{bad.iloc[0]}”，可选：{'、'.join(allowed)}。")


def account_team(account_id: str, accounts: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Who looks after whom on one account, with Chinese headers and position names.

    One row per contact of ``account_id``: 层级, 联系人, 职务, 采购角色, 关系强度, 我方维护角色
    (the ROLES label of the contact's owner_role) and 我方负责人 (that position's holder in
    ``accounts``, or "（空缺）"). Rows are ordered 高层 → 中层 → 操作层, then account manager →
    executive sponsor → sales manager. ValueError (Chinese) names an unknown account id, a
    missing column or an unknown level / owner_role.
    """
    require_columns(accounts, ["account_id", *ROLES], "客户表")
    require_columns(contacts, _CONTACT_COLUMNS, "联系人表")
    match = accounts[accounts["account_id"] == account_id]
    if match.empty:
        raise ValueError(f"客户表中没有客户编号“{account_id}”，请检查编号（形如 A02）。")
    holders = match.iloc[0]
    own = contacts[contacts["account_id"] == account_id].copy()
    _check_contacts(own)
    own["_level"] = own["level"].map(CONTACT_LEVELS.index)
    own["_role"] = own["owner_role"].map(list(ROLES).index)
    own = own.sort_values(["_level", "_role"], kind="stable")
    team = pd.DataFrame(
        {
            "层级": own["level"],
            "联系人": own["name"],
            "职务": own["title"],
            "采购角色": own["buying_role"],
            "关系强度": own["relationship_strength"],
            "我方维护角色": [ROLES[key].label_zh for key in own["owner_role"]],
            "我方负责人": [VACANT_ZH if _is_blank(holders[key]) else str(holders[key]) for key in own["owner_role"]],
        },
        columns=TEAM_COLUMNS_ZH,
    )
    return team.reset_index(drop=True)


def contact_coverage(contacts: pd.DataFrame) -> pd.DataFrame:
    """Number of contacts by level (rows 高层, 中层, 操作层) and by our position (columns).

    The columns are the three ROLES labels in ROLES order, always all present; counts are
    int64. The index is named 层级 and the columns 我方维护角色. ValueError (Chinese) names a
    missing column or an unknown level / owner_role.
    """
    require_columns(contacts, ["level", "owner_role"], "联系人表")
    _check_contacts(contacts)
    counts = (
        pd.crosstab(contacts["level"], contacts["owner_role"])
        .reindex(index=list(CONTACT_LEVELS), columns=list(ROLES), fill_value=0)
        .astype("int64")
    )
    counts.index.name = "层级"
    counts.columns = pd.Index([ROLES[key].label_zh for key in ROLES], name="我方维护角色")
    return counts
