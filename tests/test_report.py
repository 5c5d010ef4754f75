"""kam report: the numbers, the risk rule, and a page that renders on its own."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest
from kam_tiny_course import chdir, copy_course

from kamlib.cli import main
from kamlib.grading.course import Course
from kamlib.grading.report import (
    question_pass_rates,
    render_html,
    score_summary,
    trainee_summary,
    write_report,
)
from kamlib.grading.tables import read_gradebook


@pytest.fixture(scope="module")
def tables(graded):
    with chdir(graded):
        return read_gradebook(Course.load(graded))


def test_questions_are_listed_hardest_first_with_their_pass_rates(tables):
    q = question_pass_rates(tables.cells)
    assert list(q["题目"]) == ["essay", "test_answer", "test_share", "test_ready"]
    rates = dict(zip(q["题目"], q["通过率"]))
    assert rates == pytest.approx({"essay": 0.0, "test_answer": 1 / 3, "test_share": 2 / 3, "test_ready": 1.0})
    essay = q.set_index("题目").loc["essay"]
    assert essay["类型"] == "人工评分" and essay["已评人数"] == 2     # alice's answer awaits the trainer


def test_score_summary_per_assignment(tables):
    s = score_summary(tables.submissions).set_index("作业")
    assert s.loc["ps1", "提交人数"] == 3 and s.loc["ps2", "提交人数"] == 1 and s.loc["ps2", "应交人数"] == 3
    assert s.loc["ps1", "平均得分率"] == pytest.approx((3 + 1 + 0) / 18)
    assert s.loc["ps1", "最高"] == pytest.approx(0.5)


def test_risk_rule_low_average_or_missing_work(tables):
    t = trainee_summary(tables.submissions).set_index("学员编号")
    assert t.loc["alice", "平均得分率"] == pytest.approx(0.75) and not t.loc["alice", "风险"]
    assert t.loc["alice", "待人工评分"] == 1
    assert t.loc["bob", "风险"] and t.loc["bob", "未提交数"] == 1
    assert "低于 60%" in t.loc["bob", "原因"] and "未提交 ps2" in t.loc["bob", "原因"]
    assert t.loc["carol", "平均得分率"] == 0.0 and t.loc["carol", "风险"]


def test_a_grade_entered_by_the_trainer_changes_the_report(graded, tmp_path):
    root = copy_course(graded, tmp_path / "course")
    from nbgrader.api import Gradebook
    with chdir(root):
        course = Course.load(root)
        with Gradebook(course.db_url, "tiny") as gb:
            essay = gb.find_grade("essay", "ps1", "ps1", "alice")
            essay.manual_score, essay.needs_manual_grade = 3.0, False
            gb.db.commit()
        t = trainee_summary(read_gradebook(course).submissions).set_index("学员编号")
    assert t.loc["alice", "平均得分率"] == pytest.approx(1.0) and t.loc["alice", "待人工评分"] == 0


def test_the_page_is_self_contained_and_shows_the_numbers(graded, tmp_path, capsys):
    out = tmp_path / "报告"
    assert main(["--course", str(graded), "report", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 3
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert not re.search(r"(src|href)=['\"](?!data:)", page)          # nothing fetched from elsewhere
    for text in ("各作业得分分布", "各题通过率（最难的在前）", "学员进度", "风险学员",
                 "<td>33%</td>", "<td>67%</td>", "<td>75%</td>", "风险学员 <span class='risk'>2</span> 人"):
        assert text in page, text
    risk_section = page.split("四、风险学员")[1]
    assert "bob" in risk_section and "carol" in risk_section and "alice" not in risk_section

    csv = pd.read_csv(out / "report.csv", encoding="utf-8-sig").set_index("学员编号")
    assert (out / "report.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert csv.loc["alice", "ps1 得分率(%)"] == 50.0 and csv.loc["alice", "ps2 得分率(%)"] == 100.0
    assert csv.loc["bob", "平均得分率(%)"] == pytest.approx(8.3) and csv.loc["bob", "风险"] == "是"
    assert pd.isna(csv.loc["carol", "ps2 得分率(%)"]) and csv.loc["alice", "风险"] == "否"


def test_a_report_on_one_assignment(graded, tmp_path):
    with chdir(graded):
        files = write_report(Course.load(graded), tmp_path, "ps2")
    csv = pd.read_csv(files.csv, encoding="utf-8-sig").set_index("学员编号")
    assert [c for c in csv.columns if c.endswith("得分率(%)")] == ["ps2 得分率(%)", "平均得分率(%)"]
    assert csv.loc["alice", "风险"] == "否" and csv.loc["bob", "原因"].endswith("未提交 ps2")
    assert "培训成绩报告：ps2" in files.html.read_text(encoding="utf-8")


def test_report_refuses_an_unknown_assignment_and_an_empty_gradebook(template, graded, tmp_path, capsys):
    assert main(["--course", str(graded), "report", "ps7", "--out", str(tmp_path)]) == 2
    assert "未知作业“ps7”" in capsys.readouterr().err
    fresh = copy_course(template, tmp_path / "fresh")
    assert main(["--course", str(fresh), "report", "--out", str(tmp_path)]) == 2
    assert "还没有任何作业的提交" in capsys.readouterr().err


def test_names_in_the_page_are_escaped(tables):
    subs = tables.submissions.copy()
    subs.loc[subs["student_id"] == "bob", "last_name"] = "<script>"
    page = render_html(type(tables)(subs, tables.cells, tables.comments, tables.assignments), "报告")
    assert "<script>" not in page and "&lt;script&gt;" in page
