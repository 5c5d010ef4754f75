"""The stakeholder map (决策链 / 关系地图) of one account: who decides, who covers whom, the gaps.

This is the course's own addition beyond the deck (本课程的做法), after the buying
influences of Miller Heiman and the relationship models of McDonald: the customer's
people by buying role and level, how strong each relationship is, which of our three
positions looks after each person, and the gaps — a decision maker nobody covers or
only weakly, no known decision maker, and a single thread (the account hangs on one
working relationship, or on one of our positions).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kamlib.columns import require_columns
from kamlib.data import BUYING_ROLES, CONTACT_LEVELS
from kamlib.roles import ROLES

__all__ = ["STRONG", "GAP_KINDS", "Gap", "stakeholder_map", "stakeholder_gaps", "gap_table"]

STRONG = 3  # relationship strength (1–5) from which a relationship counts as a working one
GAP_KINDS = {
    "no_decision_maker": "不知道谁是决策者",
    "uncovered_decision_maker": "决策者无人负责",
    "weak_decision_maker": "与决策者关系薄弱",
    "single_thread": "单线联系",
    "one_position": "只靠我方一个职位",
}
MAP_COLUMNS = [
    "contact_id",
    "name",
    "title",
    "level",
    "buying_role",
    "relationship_strength",
    "owner_role",
    "owner_zh",
    "owner_name",
    "covered",
]
SHORT_ROLE_ZH = {"account_manager": "客户经理", "executive_sponsor": "行政支持者", "sales_manager": "销售经理"}


@dataclass(frozen=True)
class Gap:
    """One gap of an account's map: its kind (a GAP_KINDS key), the people concerned, and
    a Chinese sentence saying what is missing and what to do."""

    kind: str
    contacts: tuple[str, ...]
    message: str

    @property
    def label_zh(self) -> str:
        return GAP_KINDS[self.kind]


def _blank(value: object) -> bool:
    return value is None or bool(pd.isna(value)) or not str(value).strip()


def stakeholder_map(account_id: str, accounts: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """One row per contact of *account_id*: who they are, their buying role and level, the
    relationship strength, which of our positions covers them (owner_zh, and owner_name
    from the accounts table) and ``covered`` (an owner position that is filled).

    Rows run 高层 → 操作层, then by buying role (决策者 first), strongest first. A blank
    owner_role (allowed in a trainee's own contacts) or a vacant position means nobody
    covers the person. ValueError (Chinese) names an unknown account or a missing column.
    """
    for table, frame, needed in (
        ("客户表", accounts, ["account_id", *ROLES]),
        ("联系人表", contacts, ["account_id", "name", "level", "buying_role", "relationship_strength", "owner_role"]),
    ):
        require_columns(frame, needed, table)
    match = accounts[accounts["account_id"] == account_id]
    if match.empty:
        raise ValueError(f"客户表中没有客户编号“{account_id}”。")
    holders = match.iloc[0]
    own = contacts[contacts["account_id"] == account_id]
    rows = []
    for record in own.to_dict("records"):
        role = None if _blank(record["owner_role"]) else str(record["owner_role"])
        holder = None if role is None or role not in ROLES or _blank(holders[role]) else str(holders[role])
        rows.append(
            {
                "contact_id": record.get("contact_id"),
                "name": record["name"],
                "title": record.get("title"),
                "level": record["level"],
                "buying_role": record["buying_role"],
                "relationship_strength": record["relationship_strength"],
                "owner_role": role,
                "owner_zh": SHORT_ROLE_ZH.get(role, "（无人负责）") if role else "（无人负责）",
                "owner_name": holder,
                "covered": holder is not None,
            }
        )
    frame = pd.DataFrame(rows, columns=MAP_COLUMNS)
    if frame.empty:
        return frame
    order = frame.assign(
        _level=frame["level"].map({v: i for i, v in enumerate(CONTACT_LEVELS)}),
        _role=frame["buying_role"].map({v: i for i, v in enumerate(BUYING_ROLES)}),
        _strength=-frame["relationship_strength"].astype("float64"),
    ).sort_values(["_level", "_role", "_strength"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)


def stakeholder_gaps(account_id: str, accounts: pd.DataFrame, contacts: pd.DataFrame) -> list[Gap]:
    """The gaps of the account's map (course rule, STRONG = 3), in this order:

    * no_decision_maker — no contact is a 决策者;
    * uncovered_decision_maker — a 决策者 with no owner, or whose owner position is vacant;
    * weak_decision_maker — a covered 决策者 with relationship strength below STRONG;
    * single_thread — fewer than two contacts with strength STRONG or more;
    * one_position — every covered contact is looked after by the same one of our positions.
    """
    people = stakeholder_map(account_id, accounts, contacts)
    if people.empty:
        return [
            Gap(
                "no_decision_maker",
                (),
                "联系人表中还没有这个客户的任何联系人：先弄清客户方谁决策、谁影响、谁使用、谁把关采购。",
            )
        ]
    gaps: list[Gap] = []
    deciders = people[people["buying_role"] == "决策者"]
    if deciders.empty:
        gaps.append(Gap("no_decision_maker", (), "客户方谁拍板还不清楚：这是关系地图上最大的缺口，先找出决策者。"))
    uncovered = deciders[~deciders["covered"]]
    for record in uncovered.to_dict("records"):
        why = (
            "还没有我方人员负责"
            if _blank(record["owner_role"])
            else f"负责他的{SHORT_ROLE_ZH.get(record['owner_role'], record['owner_role'])}一职空缺"
        )
        gaps.append(
            Gap(
                "uncovered_decision_maker",
                (record["name"],),
                f"决策者{record['name']}（{record['title'] or record['level']}）{why}：指定一位我方负责人，首选行政支持者。",
            )
        )
    weak = deciders[deciders["covered"] & (deciders["relationship_strength"] < STRONG)]
    for record in weak.to_dict("records"):
        gaps.append(
            Gap(
                "weak_decision_maker",
                (record["name"],),
                f"与决策者{record['name']}的关系强度只有 {record['relationship_strength']}（满分 5）："
                f"由{record['owner_zh']}{record['owner_name']}制定加强关系的行动。",
            )
        )
    strong = people[people["relationship_strength"] >= STRONG]
    if len(strong) < 2:
        who = "、".join(strong["name"]) or "没有人"
        gaps.append(
            Gap(
                "single_thread",
                tuple(strong["name"]),
                f"关系强度达到 {STRONG} 的联系人只有{who}：这个客户只靠一条线维系，此人一走关系就断了；"
                "再发展至少一位不同部门的关系。",
            )
        )
    owners = people.loc[people["covered"], "owner_role"].unique()
    if len(people) > 1 and len(owners) == 1:
        gaps.append(
            Gap(
                "one_position",
                tuple(people["name"]),
                f"我方只有{SHORT_ROLE_ZH[owners[0]]}在维护这个客户的联系人：请行政支持者或销售经理也对接一位"
                "客户方人员，关系才不会只系于我方一人。",
            )
        )
    return gaps


def gap_table(accounts: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """How many accounts show each kind of gap: columns 缺口 and 客户数 (every GAP_KINDS
    label, in that order, zero included) and 客户 (their ids)."""
    found: dict[str, list[str]] = {kind: [] for kind in GAP_KINDS}
    for aid in accounts["account_id"]:
        for kind in dict.fromkeys(g.kind for g in stakeholder_gaps(aid, accounts, contacts)):
            found[kind].append(str(aid))
    return pd.DataFrame(
        {
            "缺口": list(GAP_KINDS.values()),
            "客户数": [len(v) for v in found.values()],
            "客户": ["、".join(v) for v in found.values()],
        }
    )
