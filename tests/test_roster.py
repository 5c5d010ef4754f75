"""kam roster: the class list into the gradebook, so absentees appear and names show."""

from __future__ import annotations

import re
from contextlib import chdir

import openpyxl
import pandas as pd
import pytest

from kamlib.cli import main
from kamlib.grading.course import Course
from tests.support.courses import clone_course


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def students(root) -> dict[str, tuple]:
    with chdir(root):
        with Course.load(root).gradebook() as gb:
            return {s.id: (s.last_name, s.first_name, s.email) for s in gb.students}


@pytest.fixture
def course(graded, tmp_path):
    return clone_course(graded, tmp_path / "course")


def test_a_csv_list_adds_absentees_and_names_them_in_the_report(course, tmp_path, capsys):
    roster = tmp_path / "名单.csv"
    roster.write_text(
        "学员编号,姓名,邮箱\nalice,王丽,wangli@example.com\nbob,李博,\ncarol,陈可,\ndave,赵大,\n", encoding="utf-8-sig"
    )
    code, out, err = run(capsys, "--course", course, "roster", roster)
    assert code == 0 and "新增 1 名，更新 3 名" in out
    assert students(course)["dave"] == ("赵大", None, None)
    assert students(course)["alice"] == ("王丽", None, "wangli@example.com")
    code, out, err = run(capsys, "--course", course, "roster", roster)
    assert "新增 0 名，更新 0 名，未变 4 名" in out  # importing twice changes nothing

    assert main(["--course", str(course), "report", "--out", str(tmp_path / "out")]) == 0
    summary = pd.read_csv(tmp_path / "out" / "report.csv", encoding="utf-8-sig").set_index("学员编号")
    assert summary.loc["dave", "姓名"] == "赵大" and summary.loc["dave", "未提交数"] == 2
    assert summary.loc["dave", "原因"] == "未提交 ps1、ps2" and summary.loc["dave", "严重程度"] == "高"
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "dave 赵大" in page and "alice 王丽" in page


def test_an_excel_list_with_numeric_ids_and_a_learner_not_on_it(course, tmp_path, capsys):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["学员编号", "姓名"])
    sheet.append([1001, "孙一"])
    sheet.append([None, None])  # a blank row in the middle is skipped
    sheet.append(["alice", "王丽"])
    book.save(tmp_path / "名单.xlsx")
    code, out, err = run(capsys, "--course", course, "roster", tmp_path / "名单.xlsx")
    assert code == 0 and "新增 1 名，更新 1 名" in out
    assert "不在名单上（保留不动）：bob、carol" in out and "nbgrader db student remove 学员编号" in out
    assert students(course)["1001"][0] == "孙一" and {"bob", "carol"} <= set(students(course))
    assert main(["--course", str(course), "report", "--out", str(tmp_path / "out")]) == 0
    summary = pd.read_csv(tmp_path / "out" / "report.csv", encoding="utf-8-sig", keep_default_na=False)
    names = summary.set_index("学员编号")["姓名"]
    assert names["alice"] == "王丽" and names["bob"] == "" and names["carol"] == ""  # no "nan" for a name not given


@pytest.mark.parametrize(
    "text, message",
    [
        ("编号,姓名\nalice,王丽\n", "缺少列：学员编号"),
        ("学员编号,姓名\nalice,王丽\n,李博\n", "第 3 行：学员编号为空"),
        ("学员编号,姓名\nalice,王丽\nalice,王力\n", "第 3 行：学员编号“alice”与第 2 行重复"),
        ("学员编号,姓名\nal ice,王丽\n", "第 2 行：学员编号“al ice”含空格或斜杠"),
        ("学员编号,姓名\n", "只有表头，没有学员"),
    ],
)
def test_a_bad_list_is_refused_whole_with_the_row_named(course, tmp_path, capsys, text, message):
    roster = tmp_path / "名单.csv"
    roster.write_text(text, encoding="utf-8")
    before = students(course)
    code, out, err = run(capsys, "--course", course, "roster", roster)
    assert code == 2 and message in err and "名单.csv" in err and "Traceback" not in err
    assert students(course) == before  # nothing imported


def test_a_missing_file_and_a_wrong_kind_of_file(course, tmp_path, capsys):
    code, out, err = run(capsys, "--course", course, "roster", tmp_path / "没有.csv")
    assert code == 2 and "找不到名单文件" in err
    (tmp_path / "名单.txt").write_text("学员编号,姓名\n", encoding="utf-8")
    code, out, err = run(capsys, "--course", course, "roster", tmp_path / "名单.txt")
    assert code == 2 and "应为 .csv 或 .xlsx" in err
    (tmp_path / "坏.xlsx").write_text("not a workbook", encoding="utf-8")
    code, out, err = run(capsys, "--course", course, "roster", tmp_path / "坏.xlsx")
    assert code == 2 and "不是有效的 Excel 文件" in err and str(tmp_path / "坏.xlsx") in err
    english = re.findall(r"[A-Za-z]+", err.replace(str(tmp_path / "坏.xlsx"), ""))
    assert set(english) <= {"Excel", "xlsx", "CSV"}, err  # no "File is not a zip file"
