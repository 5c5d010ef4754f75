"""The one-page account plan: its sections, its facts, and the exported .xlsx / HTML / PDF."""

from __future__ import annotations

import re
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from kamlib.account_plan import (
    ACCOUNT_PLAN_SECTIONS,
    account_plan,
    export_account_plan,
    plan_html,
    ranked_accounts,
)
from kamlib.data import load_own_or_case
from kamlib.pdf import find_chromium
from kamlib.tiers import classify
from tests.support.courses import EXERCISES

FOUNDATIONS = ["了解客户与竞争对手", "分析", "确定优先顺序", "明确方向", "积极主动", "制定计划", "团队建设"]


@pytest.fixture(scope="module")
def case():
    return load_own_or_case("/nonexistent-folder-for-the-case-company")


def test_sections_follow_the_deck_framed_by_tier_and_next_steps():
    titles = [s.title for s in ACCOUNT_PLAN_SECTIONS]
    assert titles == ["关系层级", *FOUNDATIONS, "下一步"]
    assert all(s.prompts for s in ACCOUNT_PLAN_SECTIONS)
    assert len({s.key for s in ACCOUNT_PLAN_SECTIONS}) == len(ACCOUNT_PLAN_SECTIONS)


def test_ranked_accounts_put_unscored_accounts_last():
    accounts = pd.DataFrame(
        {
            "account_id": ["K1", "K2", "K3"],
            "name": ["甲", "乙", "丙"],
            "annual_revenue": [10.0, 500.0, 80.0],
            "growth_potential": pd.array([5, 1, None], dtype="Int64"),
            "strategic_importance": pd.array([5, 1, 3], dtype="Int64"),
        }
    )
    ranked = ranked_accounts(accounts)
    assert ranked["account_id"].tolist()[-1] == "K3" and pd.isna(ranked["rank"].iloc[-1])
    assert ranked["rank"].iloc[:2].tolist() == [1, 2] and ranked["quadrant"].iloc[:2].notna().all()


def test_case_plan_facts_come_from_the_data(case):
    ranked = ranked_accounts(case.accounts)
    first = ranked.iloc[0]
    plan = account_plan(
        first["account_id"],
        case.accounts,
        case.contacts,
        case.orders,
        case.competitors,
        case.presence,
        source=case.source,
    )
    assert set(plan.facts) == {s.key for s in ACCOUNT_PLAN_SECTIONS}
    tier = classify(
        {
            k: first[k]
            for k in ["competition", "information_access", "pricing", "contact_level", "contract", "visibility"]
        }
    ).tier
    assert tier.label_zh in plan.facts["tier"][0]
    assert "排第 1 位" in plan.facts["prioritise"][0] and first["quadrant"] in plan.facts["prioritise"][1]
    assert any(str(first["account_manager"]) in f for f in plan.facts["team"])
    years = sorted(case.orders.loc[case.orders["account_id"] == first["account_id"], "year"].unique())
    assert [f[:4] for f in plan.facts["analyse"][: len(years)]] == [str(y) for y in years]


def test_own_data_plan_without_orders(case):
    accounts = case.accounts.head(3).assign(growth_potential=pd.array([None] * 3, dtype="Int64"))
    plan = account_plan(accounts["account_id"].iloc[0], accounts, case.contacts.iloc[0:0])
    assert plan.facts["prioritise"] == ["增长潜力或战略重要性还没有填写，无法计算优先得分。"]
    assert any("不知道谁是决策者" in f for f in plan.facts["next_steps"])
    with pytest.raises(ValueError, match="ZZ"):
        account_plan("ZZ", accounts, case.contacts)


def test_exported_plan_opens_with_openpyxl_and_holds_every_section(tmp_path, case):
    aid = ranked_accounts(case.accounts)["account_id"].iloc[-1]
    plan = account_plan(aid, case.accounts, case.contacts, case.orders, source="测试数据。")
    files = export_account_plan(plan, tmp_path / "客户计划", pdf=False)
    assert set(files) == {"xlsx", "html"} and all(p.is_file() for p in files.values())
    ws = openpyxl.load_workbook(files["xlsx"])["客户计划"]
    first_column = [row[0] for row in ws.iter_rows(values_only=True)]
    assert ws["A1"].value == plan.title
    positions = [first_column.index(s.title) for s in ACCOUNT_PLAN_SECTIONS]
    assert positions == sorted(positions)
    for section in ACCOUNT_PLAN_SECTIONS:
        for prompt in section.prompts:
            assert prompt in first_column
    facts = [row[1] for row in ws.iter_rows(values_only=True) if row[0] == "已知"]
    assert facts == [f for s in ACCOUNT_PLAN_SECTIONS for f in plan.facts[s.key]]
    assert ws.page_setup.fitToHeight == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    page = files["html"].read_text(encoding="utf-8")
    assert page == plan_html(plan)
    assert all(f"<h2>{s.title}</h2>" in page for s in ACCOUNT_PLAN_SECTIONS) and "测试数据。" in page
    assert "iframe srcdoc" in plan._repr_html_()


@pytest.mark.slow
def test_plan_prints_to_one_pdf_page(tmp_path, case, skip_or_fail):
    chromium, pdfinfo = find_chromium(), shutil.which("pdfinfo")
    if chromium is None or pdfinfo is None:
        skip_or_fail("printing the plan needs Chromium, counting its pages pdfinfo (poppler-utils)")
    aid = ranked_accounts(case.accounts)["account_id"].iloc[0]
    plan = account_plan(
        aid, case.accounts, case.contacts, case.orders, case.competitors, case.presence, source=case.source
    )
    files = export_account_plan(plan, tmp_path, pdf=True)
    assert files["pdf"].read_bytes().startswith(b"%PDF")
    info = subprocess.run([pdfinfo, str(files["pdf"])], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info


def test_the_capstone_exercise_follows_the_account_plan_structure():
    """ex05's parts map onto every section of the one-page account plan, in the plan's words."""
    import nbformat

    from kamlib.account_plan import ACCOUNT_PLAN_SECTIONS

    source = EXERCISES / "source" / "ex05_account_plan" / "ex05_account_plan.ipynb"
    intro = nbformat.read(source, as_version=4).cells[0].source
    table = intro.split("对应客户计划中的栏目")[1]
    assert [s.title for s in ACCOUNT_PLAN_SECTIONS if s.title not in table] == []
