"""kam report on a real (tiny) graded course: statuses, recorded answers, failures, topics,
the files beside the page, and a page that renders on its own."""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import sys
from contextlib import chdir

import pandas as pd
import pytest

from kamlib.cli import main
from kamlib.grading.answer_store import AnswerRecord, GradingFailure, record_answers, record_failure
from kamlib.grading.cohort import learner_summary, progress
from kamlib.grading.course import Course
from kamlib.grading.report import analyse, cohort_charts, item_charts, learner_file, load_cohort, render_html
from kamlib.grading.topics import review_pointer, topic_label
from tests.support.courses import clone_course

BROKEN = "笔记本 ps1.ipynb 不是有效的 JSON 文件（文件损坏或被截断），请学员重新提交"


def db_url(root) -> str:
    with chdir(root):
        return Course.load(root).db_url


def cohort_of(root, assignment=None):
    with chdir(root):
        return load_cohort(Course.load(root), assignment)


def report(root, out, *args) -> str:
    assert main(["--course", str(root), "report", *args, "--out", str(out)]) == 0
    return (out / "report.html").read_text(encoding="utf-8")


def csv(path) -> pd.DataFrame:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    return pd.read_csv(path, encoding="utf-8-sig")


def answer(student, grade_id, value, missing=False, assignment="ps1"):
    return AnswerRecord(
        assignment, assignment, student, grade_id, "" if missing else value, missing, True, "2025-03-01T10:00:00+00:00"
    )


@pytest.fixture
def course(graded, tmp_path):
    return clone_course(graded, tmp_path / "course")


def test_pending_answers_are_left_out_of_the_share_and_counted(graded):
    c = cohort_of(graded)
    subs = c.submissions.set_index(["assignment", "student_id"])
    assert subs.loc[("ps1", "alice"), "status"] == "待批改" and subs.loc[("ps1", "alice"), "pending"] == 1
    assert subs.loc[("ps1", "alice"), "share"] == 1.0  # 3 of the 3 points graded so far
    assert subs.loc[("ps1", "bob"), "share"] == pytest.approx(1 / 6)  # his blank essay scores 0
    assert subs.loc[("ps2", "bob"), "status"] == "未提交"
    answers = c.answers.set_index(["assignment", "student_id", "cell"])
    assert answers.loc[("ps1", "bob", "essay"), "status"] == "未作答"  # the answer stub left in place
    assert answers.loc[("ps1", "alice", "essay"), "status"] == "待批改"
    t = learner_summary(c).set_index("学员编号")
    assert t.loc["alice", "平均得分率"] == 1.0 and t.loc["alice", "待批改"] == 1 and not t.loc["alice", "风险"]
    assert t.loc["bob", "平均得分率"] == pytest.approx(1 / 12) and t.loc["bob", "未提交数"] == 1


def test_the_risk_list_is_ordered_by_severity(graded):
    t = learner_summary(cohort_of(graded))
    assert t["学员编号"].tolist() == ["carol", "bob", "alice"]  # 0 % before 8 %, both high
    assert t["严重程度"].tolist() == ["高", "高", ""]
    assert "低于 60%" in t.loc[1, "原因"] and "未提交 ps2" in t.loc[1, "原因"]


def test_a_grade_entered_by_the_trainer_changes_the_report(course):
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course), "tiny") as gb:
        essay = gb.find_grade("essay", "ps1", "ps1", "alice")
        essay.manual_score, essay.needs_manual_grade = 1.5, False
        gb.db.commit()
        comment = gb.find_comment("essay", "ps1", "ps1", "alice")
        comment.manual_comment = "理由对，但没有说出八成这个数字。"
        gb.db.commit()
    c = cohort_of(course)
    assert c.submissions.set_index(["assignment", "student_id"]).loc[("ps1", "alice"), "share"] == 0.75
    page = course / "reports" / "learners" / "alice.html"
    assert main(["--course", str(course), "report"]) == 0
    text = page.read_text(encoding="utf-8")
    assert "理由对，但没有说出八成这个数字。" in text and "1.5 / 3" in text


def test_recorded_answers_give_common_answers_and_not_attempted(course, tmp_path):
    record_answers(
        db_url(course),
        [
            answer("alice", "test_answer", "42"),
            answer("bob", "test_answer", "41"),
            answer("carol", "test_answer", "", missing=True),
            answer("alice", "test_share", "0.8"),
            answer("bob", "test_share", "0.8"),
            answer("carol", "test_share", "", missing=True),
        ],
    )
    page = report(course, tmp_path / "out")
    section = page.split("四、常见错误答案")[1].split("五、")[0]
    assert "最常见的错误是 41（33%）" in section
    assert "<td class='t'>✔ 42</td><td>1</td><td>33%</td>" in section
    assert "<td class='t'>（未作答）</td><td>1</td>" in section
    rows = csv(tmp_path / "out" / "answers.csv").set_index(["学员编号", "题目编号"])
    assert rows.loc[("carol", "test_answer"), "状态"] == "未作答" and rows.loc[("carol", "test_answer"), "得分"] == 0
    assert str(rows.loc[("bob", "test_answer"), "答案"]) == "41"
    assert rows.loc[("bob", "test_answer"), "评分方式"] == "自动评分"
    assert rows.loc[("bob", "test_ready"), "状态"] == "未提交"
    items = csv(tmp_path / "out" / "items.csv").set_index("题目编号")
    # test_answer: only alice and bob answered (2 of 2 points, 0): facility 0.5; carol did not attempt it
    assert items.loc["test_answer", "难度系数"] == 0.5 and items.loc["test_answer", "未作答人数"] == 1
    assert items.loc["test_ready", "提示"].startswith("太容易：")


def test_a_submission_that_could_not_be_graded_stays_out_of_the_statistics(course, tmp_path):
    record_failure(db_url(course), GradingFailure("ps1", "carol", BROKEN, "2025-03-01T10:00:00+00:00"))
    c = cohort_of(course)
    assert progress(c).loc["carol"].isna().all()
    t = learner_summary(c).set_index("学员编号")
    assert t.loc["carol", "无法评分数"] == 1 and t.loc["carol", "原因"] == "未提交 ps2"  # not a 0 % average
    assert t.loc["carol", "严重程度"] == "中"
    page = report(course, tmp_path / "out")
    standing = page.split("一、评分进展")[1].split("二、")[0]
    assert "无法评分的提交" in standing and BROKEN in standing
    items = csv(tmp_path / "out" / "items.csv").set_index("题目编号")
    assert items.loc["test_answer", "计入人数"] == 2  # alice and bob only
    learner = (tmp_path / "out" / "learners" / "carol.html").read_text(encoding="utf-8")
    assert "无法评分" in learner and BROKEN in learner
    assert main(["--course", str(course), "export", "--out", str(tmp_path / "grades.csv")]) == 0
    grades = csv(tmp_path / "grades.csv").set_index(["作业", "学员编号"])
    assert grades.loc[("ps1", "carol"), "状态"] == "无法评分"
    assert grades.loc[("ps1", "carol"), "无法评分的原因"] == BROKEN and pd.isna(grades.loc[("ps1", "carol"), "得分"])


def _tag(course, headings: dict[str, str], topics: dict[str, str]) -> None:
    path = course / "source" / "ps1" / "ps1.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in headings:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": headings[grade_id]})
        if grade_id in topics:
            cell["metadata"]["kam"] = {"topic": topics[grade_id]}
        cells.append(cell)
    nb["cells"] = cells
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


def test_questions_are_named_by_their_headings_and_grouped_by_topic(course, tmp_path):
    _tag(
        course,
        {
            "answer": "### 第 1 题 情形判断（2 分）",
            "share": "### 第 2 题（1 分）",
            "essay": "### 第 3 题 说明理由（文字题，人工评分，3 分）",
        },
        {"test_answer": "tiers.rule", "test_share": "concepts", "essay": "tiers.rule"},
    )
    page = report(course, tmp_path / "out", "ps1")
    items = csv(tmp_path / "out" / "items.csv").set_index("题目编号")
    assert items.loc["test_answer", "题目"] == "第 1 题 情形判断" and items.loc["test_share", "题目"] == "第 2 题"
    assert items.loc["essay", "题目"] == "第 3 题 说明理由"
    assert items.loc["test_answer", "知识点"] == "层级判定与升级（第 13–18 页）"
    topics = page.split("五、知识点掌握")[1].split("六、")[0]
    # concepts: 1 + 1 + 0 of 3 points; tiers.rule: 2 + 0 + 0 (+ bob's and carol's blank essays) of 2+2+2+3+3
    assert topics.index("层级判定与升级") < topics.index("重点客户管理的概念")
    assert "<td>67%</td>" in topics and "<td>17%</td>" in topics
    assert "ps1 小测验" in page  # the assignment's title
    # each learner's page points to the lesson section of the topics that learner has not mastered
    mastery = analyse(cohort_of(course, "ps1")).mastery
    pointer = review_pointer("tiers.rule")
    shown = {}
    for student, row in mastery.iterrows():
        learner_page = (tmp_path / "out" / "learners" / learner_file(student)).read_text(encoding="utf-8")
        shown[student] = html.unescape(pointer) in html.unescape(learner_page)
        assert shown[student] == (row["tiers.rule"] < 0.6), (student, row["tiers.rule"])
    assert any(shown.values()), "no learner below 60 % on tiers.rule in this cohort"


def test_learner_page_names_are_safe_and_never_shared():
    names = {learner_file(s) for s in ("a/b", "a_b", "a b", "a:b", "张三", "alice")}
    assert len(names) == 6
    assert learner_file("alice") == "alice.html" and learner_file("张三") == "张三.html"
    assert all(re.fullmatch(r"[\w.-]+\.html", n) for n in names)


def test_an_unknown_topic_tag_is_named(course, tmp_path, capsys):
    _tag(course, {}, {"test_answer": "tiers.rules"})
    assert main(["--course", str(course), "report", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "test_answer" in err and "“tiers.rules”" in err and "ps1.ipynb" in err


def test_the_page_is_self_contained_with_every_section(graded, tmp_path, capsys):
    out = tmp_path / "报告"
    (out / "learners").mkdir(parents=True)
    (out / "learners" / "dora.html").write_text("an earlier run's learner", encoding="utf-8")
    page = report(graded, out)
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 5  # distribution, trend, facility, topic and progress heat maps
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert not re.search(r"(src|href)=['\"](?!data:|learners/)", page)  # nothing fetched from elsewhere
    for text in (
        "一、评分进展",
        "二、得分分布与走势",
        "三、各题分析",
        "四、常见错误答案",
        "五、知识点掌握",
        "六、学员进度",
        "七、风险学员",
        "风险学员 <span class='risk'>2</span> 人",
        "Cronbach α",
    ):
        assert text in page, text
    risk = page.split("七、风险学员")[1]
    assert "bob" in risk and "carol" in risk and "alice" not in risk
    assert sorted(p.name for p in (out / "learners").iterdir()) == ["alice.html", "bob.html", "carol.html"]
    assert "@page{size:A4" in (out / "learners" / "bob.html").read_text(encoding="utf-8")
    summary = csv(out / "report.csv").set_index("学员编号")
    assert summary.loc["alice", "ps1 得分率(%)"] == 100.0 and summary.loc["alice", "待批改"] == 1
    assert summary.loc["bob", "平均得分率(%)"] == pytest.approx(8.3) and summary.loc["bob", "风险"] == "是"
    assert pd.isna(summary.loc["carol", "ps2 得分率(%)"]) and summary.loc["alice", "风险"] == "否"
    assert "学员汇总" in capsys.readouterr().out


def test_a_report_on_one_assignment(graded, tmp_path):
    report(graded, tmp_path, "ps2")
    summary = csv(tmp_path / "report.csv").set_index("学员编号")
    assert [c for c in summary.columns if c.endswith("得分率(%)")] == ["ps2 得分率(%)", "平均得分率(%)"]
    assert summary.loc["alice", "风险"] == "否" and summary.loc["bob", "原因"].endswith("未提交 ps2")
    assert "培训成绩报告：ps2" in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert set(csv(tmp_path / "answers.csv")["作业"]) == {"ps2"}


def test_report_refuses_an_unknown_assignment_and_an_empty_gradebook(template, graded, tmp_path, capsys):
    assert main(["--course", str(graded), "report", "ps7", "--out", str(tmp_path)]) == 2
    assert "未知作业“ps7”" in capsys.readouterr().err
    fresh = clone_course(template, tmp_path / "fresh")
    assert main(["--course", str(fresh), "report", "--out", str(tmp_path)]) == 2
    assert "还没有任何作业的提交" in capsys.readouterr().err


def test_names_in_the_page_are_escaped(graded):
    c = cohort_of(graded)
    c.learners["bob"] = "<script>"
    page = render_html(analyse(c), "报告")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_charts_drawn_in_worker_processes_are_those_drawn_in_process(graded):
    from kamlib.grading.drawing import Drawer, drawing

    an = analyse(cohort_of(graded))
    jobs = {**cohort_charts(an.cohort), **item_charts(an)}
    assert set(jobs) == {"distribution", "trend", "facility", "topics", "progress"}
    with drawing() as drawer:
        drawer.add(jobs)
        in_workers = drawer.pngs()
    here = Drawer(None)
    here.add(jobs)
    assert in_workers == here.pngs()
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for png in in_workers.values())


@pytest.mark.parametrize(
    "command, unused",
    [
        (["report"], {"nbgrader", "nbformat", "sqlalchemy"}),  # a small cohort's charts are drawn in process
        (["export", "--questions"], {"nbgrader", "nbformat", "sqlalchemy", "matplotlib"}),
    ],
)
def test_report_and_export_load_neither_nbgrader_nor_sqlalchemy(graded, tmp_path, command, unused):
    code = (
        "import sys\nfrom kamlib.cli import main\n"
        f"code = main(['--course', {str(graded)!r}, *{command!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(unused)!r})))\n"
        "sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_every_graded_question_of_the_course_is_named_by_its_heading():
    from pathlib import Path

    from kamlib.grading.questions import assignment_titles, graded_cells

    exercises = Path(__file__).resolve().parents[1] / "exercises"
    cells = list(graded_cells(exercises))
    assert len(cells) >= 37
    for cell in cells:  # never a mark scheme's heading, never the raw grade_id
        assert re.fullmatch(r"第 \d+ 题( \S.*)?", cell.title), (cell.grade_id, cell.title)
        assert "分）" not in cell.title
    titles = assignment_titles(exercises)
    assert titles["ex03_relationship_tiers"] == "练习 3：四种类型的客户关系"


def test_export_keeps_to_collected_assignments_in_local_time_with_one_column_per_question(
    course, tmp_path, monkeypatch
):
    import time

    from nbgrader.api import Gradebook

    with Gradebook(db_url(course), "tiny") as gb:
        gb.remove_submission("ps2", "alice")  # now nobody has handed in ps2
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert main(["--course", str(course), "export", "--questions", "--out", str(tmp_path / "g.csv")]) == 0
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    grades = csv(tmp_path / "g.csv").set_index(["作业", "学员编号"])
    assert set(grades.index.get_level_values("作业")) == {"ps1"}  # ps2 is not collected yet
    assert grades.loc[("ps1", "alice"), "提交时间"] == "2025-03-01 18:00:00+08:00"  # submitted 10:00 UTC
    assert list(grades.columns[-3:]) == ["test_answer（2 分）", "test_share（1 分）", "essay（3 分）"]
    assert grades.loc[("ps1", "alice"), "essay（3 分）"] == "待批改"
    assert grades.loc[("ps1", "bob"), "test_answer（2 分）"] == 0.0
    assert grades.loc[("ps1", "bob"), "test_share（1 分）"] == 1.0


def test_a_learners_page_compares_with_the_cohort_figure_the_report_shows(graded):
    """The learner page's 全班平均 for a topic is the report's 掌握程度 of that topic (points scored
    over points counted, pooled), not the mean of the learners' own figures."""
    from kamlib.grading.report import analyse, render_learners

    an = analyse(cohort_of(graded))
    pooled = an.weakest.set_index("topic")["掌握程度"]
    assert pooled.round(6).to_dict() != an.mastery.mean().round(6).to_dict()  # the two differ on this cohort
    page = dict(render_learners(an, "培训"))["alice"]
    for topic, share in pooled.dropna().items():
        row = re.search(rf"{re.escape(topic_label(topic))}.*?</tr>", page, re.S)
        assert row and f"{share:.0%}" in row.group(0), (topic, share)


def test_an_answer_changed_but_giving_nothing_is_a_format_error_and_one_left_as_released_is_not_attempted(cohort):
    """The real cohort: "infinite_loop" changed question k's answer cell, which raised an error and
    defined no answer: 格式不对 (0 points), as the feedback page says, not 未作答; "blank" left every
    answer as released: 未作答."""
    from kamlib.grading.cohort import FORMAT_ERROR, NOT_ATTEMPTED

    with chdir(cohort.course):
        answers = load_cohort(Course.load(cohort.course), "ex03_relationship_tiers").answers
    ex03 = answers[answers["assignment"] == "ex03_relationship_tiers"].set_index(["student_id", "cell"])
    row = ex03.loc[("infinite_loop", "ex03_q4_test")]
    assert (row["status"], row["score"]) == (FORMAT_ERROR, 0.0)
    blank = ex03.loc["blank"]
    assert set(blank.loc[blank["autograded"], "status"]) == {NOT_ATTEMPTED}
    # questions that never ran because the kernel had died are no format error of the learner's
    died = ex03.loc["kernel_exit"]
    assert FORMAT_ERROR not in set(died["status"]) and NOT_ATTEMPTED in set(died["status"])
