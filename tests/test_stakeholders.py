"""The stakeholder map: its rows, its gaps on hand-built accounts, the chart and the widget."""

from __future__ import annotations

import pandas as pd
import pytest

from kamlib.data import load_accounts, load_contacts
from kamlib.plots import stakeholder_chart
from kamlib.stakeholders import GAP_KINDS, STRONG, gap_table, stakeholder_gaps, stakeholder_map
from kamlib.widgets import StakeholderExplorer, chart_png

ACCOUNTS = pd.DataFrame(
    {
        "account_id": ["K1", "K2", "K3"],
        "name": ["甲虚构厂", "乙虚构局", "丙虚构公司"],
        "account_manager": ["张", "张", "张"],
        "executive_sponsor": [None, "周", "周"],
        "sales_manager": ["李", "李", "李"],
    }
)


def person(cid, aid, level, role, strength, owner, title="经理"):
    return {
        "contact_id": cid,
        "account_id": aid,
        "name": f"联系人{cid}",
        "title": title,
        "level": level,
        "buying_role": role,
        "relationship_strength": strength,
        "owner_role": owner,
    }


CONTACTS = pd.DataFrame(
    [
        # K1: a decision maker covered by the vacant executive sponsor, another by nobody; one strong thread
        person("P1", "K1", "高层", "决策者", 4, "executive_sponsor", "总经理"),
        person("P2", "K1", "高层", "决策者", 2, None, "副总经理"),
        person("P3", "K1", "中层", "影响者", 2, "account_manager"),
        # K2: no decision maker; everyone held by the account manager; two strong threads
        person("P4", "K2", "中层", "采购把关者", 4, "account_manager"),
        person("P5", "K2", "操作层", "使用者", 3, "account_manager"),
        # K3: a weakly held decision maker, otherwise well covered
        person("P6", "K3", "高层", "决策者", 2, "executive_sponsor", "董事长"),
        person("P7", "K3", "中层", "影响者", 4, "account_manager"),
        person("P8", "K3", "操作层", "使用者", 5, "sales_manager"),
    ]
)


def kinds(account_id: str) -> list[str]:
    return [g.kind for g in stakeholder_gaps(account_id, ACCOUNTS, CONTACTS)]


def test_map_rows_owner_and_coverage():
    people = stakeholder_map("K1", ACCOUNTS, CONTACTS)
    assert people["contact_id"].tolist() == ["P1", "P2", "P3"]  # 高层 first, the stronger decision maker first
    assert people["covered"].tolist() == [False, False, True]  # the sponsor post is vacant; P2 has no owner
    assert people["owner_zh"].tolist() == ["行政支持者", "（无人负责）", "客户经理"]
    assert people["owner_name"].tolist()[2] == "张"


def test_uncovered_decision_makers_and_a_single_thread():
    gaps = stakeholder_gaps("K1", ACCOUNTS, CONTACTS)
    assert [g.kind for g in gaps] == [
        "uncovered_decision_maker",
        "uncovered_decision_maker",
        "single_thread",
        "one_position",
    ]  # only the account manager holds anyone
    assert "行政支持者一职空缺" in gaps[0].message and gaps[0].contacts == ("联系人P1",)
    assert "还没有我方人员负责" in gaps[1].message
    assert gaps[2].contacts == ("联系人P1",)


def test_no_decision_maker_and_one_position():
    assert kinds("K2") == ["no_decision_maker", "one_position"]


def test_a_weak_decision_maker():
    gaps = stakeholder_gaps("K3", ACCOUNTS, CONTACTS)
    assert [g.kind for g in gaps] == ["weak_decision_maker"]
    assert "关系强度只有 2" in gaps[0].message and gaps[0].label_zh == GAP_KINDS["weak_decision_maker"]


def test_an_account_without_contacts_and_an_unknown_account():
    accounts = pd.concat([ACCOUNTS, pd.DataFrame({"account_id": ["K4"], "name": ["丁"]})], ignore_index=True)
    assert [g.kind for g in stakeholder_gaps("K4", accounts, CONTACTS)] == ["no_decision_maker"]
    with pytest.raises(ValueError, match="K9"):
        stakeholder_map("K9", ACCOUNTS, CONTACTS)


def test_gap_table_counts_accounts_per_kind():
    table = gap_table(ACCOUNTS, CONTACTS)
    counts = dict(zip(table["缺口"], table["客户数"], strict=True))
    assert counts == {
        GAP_KINDS["no_decision_maker"]: 1,
        GAP_KINDS["uncovered_decision_maker"]: 1,
        GAP_KINDS["weak_decision_maker"]: 1,
        GAP_KINDS["single_thread"]: 1,
        GAP_KINDS["one_position"]: 2,
    }


def test_case_gaps_follow_the_rules():
    """On the case company, recompute each rule from the loaded data independently."""
    accounts, contacts = load_accounts(), load_contacts()
    for aid in accounts["account_id"]:
        own = contacts[contacts["account_id"] == aid]
        found = set(kinds_of(aid, accounts, contacts))
        assert ("no_decision_maker" in found) == (not (own["buying_role"] == "决策者").any()), aid
        assert ("single_thread" in found) == ((own["relationship_strength"] >= STRONG).sum() < 2), aid


def kinds_of(aid, accounts, contacts):
    return [g.kind for g in stakeholder_gaps(aid, accounts, contacts)]


def test_chart_and_widget_draw_the_map():
    fig = stakeholder_chart(stakeholder_map("K1", ACCOUNTS, CONTACTS), stakeholder_gaps("K1", ACCOUNTS, CONTACTS))
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert any("无人负责" in t for t in texts)
    assert "决策者无人负责" in fig.axes[0].get_xlabel()
    assert len(fig._repr_png_()) > 10_000
    widget = StakeholderExplorer(ACCOUNTS, CONTACTS, "K2")
    assert "不知道谁是决策者" in widget.gaps_html.value and chart_png(widget.chart)
    widget.account.value = "K3"
    assert [g.kind for g in widget.gaps] == ["weak_decision_maker"] and "联系人P8" in widget.table_html.value
