"""Lesson 5 as a trainee runs it: in a fresh kernel, in a folder of its own, first on the
case company (no workbook beside it: the test run's one shared run of the lesson), then on
a filled template placed next to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import openpyxl
import pytest
from nbclient import NotebookClient

from kamlib.account_plan import ACCOUNT_PLAN_SECTIONS, ranked_accounts
from kamlib.data import OWN_WORKBOOK, load_accounts

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "course" / "05_my_accounts.ipynb"
TEMPLATE = ROOT / "course" / "客户表模板.xlsx"


def run(folder: Path) -> str:
    """Execute the lesson in *folder*; return the text of its outputs (errors fail the test)."""
    nb = nbformat.read(LESSON, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return output_text(nb)


def output_text(nb: nbformat.NotebookNode) -> str:
    """The text a trainee reads in the outputs of ``nb``; an error output fails the test."""
    errors = [
        (out.ename, out.evalue) for cell in nb.cells for out in cell.get("outputs", []) if out.output_type == "error"
    ]
    assert not errors, errors
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(
                out.get("text", "") + "".join(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
            )
    return "\n".join(texts)


def plan_titles(path: Path) -> list[str]:
    return [row[0] for row in openpyxl.load_workbook(path)["客户计划"].iter_rows(values_only=True)]


@pytest.fixture
def folder(tmp_path) -> Path:
    shutil.copy(LESSON, tmp_path / LESSON.name)
    return tmp_path


def test_on_the_case_company(lesson_run):
    done = lesson_run(LESSON)
    text, folder = output_text(done.notebook), done.folder
    assert "案例公司" in text
    first = ranked_accounts(load_accounts())["account_id"].iloc[0]
    plan = folder / "客户计划" / f"客户计划_{first}.xlsx"
    assert plan.is_file() and (folder / "客户计划" / f"客户计划_{first}.html").is_file()
    assert all(s.title in plan_titles(plan) for s in ACCOUNT_PLAN_SECTIONS)


@pytest.mark.slow
def test_on_a_filled_template_next_to_it(folder):
    wb = openpyxl.load_workbook(TEMPLATE)
    accounts, contacts = wb["客户"], wb["联系人"]
    accounts.append(
        ["K001", "甲虚构机械厂", "企业", "机械", "华东", 800, 4, 5, 0.3, 2, 2, 1, 3, 2, 2, "张", "周", "李"]
    )
    accounts.append(
        ["K002", "乙虚构水务局", "政府", "水务", "华南", 60, None, 2, None, 1, 1, 1, 1, None, 1, "张", None, "李"]
    )
    accounts.append(
        ["K003", "丙虚构化工厂", "企业", "化工", "华北", 300, 5, 3, 0.1, 3, 1, 3, 3, 1, 3, "张", "周", "李"]
    )
    contacts.append(["P1", "K001", "王（虚构）", "总经理", "高层", "决策者", 2, None])
    contacts.append(["P2", "K001", "赵（虚构）", "设备部经理", "中层", "影响者", 4, "客户经理"])
    wb.save(folder / OWN_WORKBOOK)
    text = run(folder)
    assert "读取了你自己的“我的客户.xlsx”：3 个客户、2 位联系人" in text
    assert "华东精工" not in text.split("读取了你自己的")[1][:200]
    assert "<NA>" not in text and "NaN" not in text  # K002 (potential unknown) has no rank: shown as —
    own = load_accounts(folder / OWN_WORKBOOK)
    first = ranked_accounts(own)["account_id"].iloc[0]
    plan = folder / "客户计划" / f"客户计划_{first}.xlsx"
    assert plan.is_file(), sorted(p.name for p in (folder / "客户计划").iterdir())
    titles = plan_titles(plan)
    assert all(s.title in titles for s in ACCOUNT_PLAN_SECTIONS)
    assert titles[0].startswith(f"客户计划：{first}")
