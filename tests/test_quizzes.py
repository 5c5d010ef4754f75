"""Tests of kamlib.quizzes: the lessons' self-check questions and their hidden keys."""

from __future__ import annotations

import json

import pytest

from kamlib.quizzes import RERUN_NOTE, Quiz, make_key
from tests.support.notebook_display import displayed_html


def quiz(question, options, answer, explanation="", hint="", lesson="", number="1", total=1) -> Quiz:
    return Quiz(question, options, make_key(answer, explanation, lesson, number, total), hint)


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(path))
    return path


OPTIONS = {"A": "向消费者一次性销售", "B": "向政府或企业持续销售", "C": "只做线上销售"}


def test_quiz_right_answer_shows_explanation():
    q = quiz("重点客户管理的销售对象是？", OPTIONS, "B", explanation="政府或其他企业。", hint="看第 5 页。")
    assert q.correct is None and q.feedback == ""
    q.select("B")
    assert q.submit() is True
    assert q.feedback.startswith("✔ 正确！") and "政府或其他企业" in q.feedback
    assert "正确" in q.output.value and q.attempts == 1
    assert q.toggle.value == "B" and "B. 向政府或企业持续销售" in q.children[1].children[0].value


def test_quiz_wrong_answer_shows_hint_not_answer():
    q = quiz("销售对象是？", OPTIONS, "B", explanation="答案是 B：政府或企业。", hint="看第 5 页。")
    q.select("A")
    assert q.submit() is False
    assert q.feedback == "✘ 再想想。提示：看第 5 页。"
    assert "政府或企业" not in q.output.value and "B" not in q.feedback
    q.select("B")
    assert q.submit() is True and q.attempts == 2


def test_quiz_button_click_submits():
    q = quiz("？", OPTIONS, "C", "对。", "不对。")
    q.select("C")
    q.button.click()
    assert q.correct is True


def test_quiz_without_selection_asks_to_choose():
    q = quiz("？", OPTIONS, "A", "对。", "不对。")
    assert q.submit() is None
    assert "请先选择" in q.feedback and q.attempts == 0


def test_quiz_multiple_choice_needs_exact_set():
    q = quiz(
        "三个主要职位是？",
        {"A": "客户经理", "B": "行政支持者", "C": "销售经理", "D": "前台"},
        {"A", "B", "C"},
        explanation="三个职位。",
        hint="前台不是。",
    )
    assert q.multiple and set(q.checkboxes) == {"A", "B", "C", "D"}
    q.select("A", "B")
    assert q.submit() is False and "提示：前台不是。" in q.feedback
    q.select("A", "B", "C", "D")
    assert q.submit() is False
    q.select("C", "A", "B")
    assert q.selection == {"A", "B", "C"}
    assert q.submit() is True and q.feedback.startswith("✔ 正确！")
    q.checkboxes["D"].value = True  # ticking in the browser counts too
    assert q.submit() is False


def test_quiz_escapes_html():
    q = quiz("<script>x</script>", {"A": "a"}, "A", "<b>e</b>", "h")
    assert "<script>" not in q.question.value
    q.select("A")
    q.submit()
    assert "<b>e</b>" not in q.output.value


@pytest.mark.parametrize("answer", ["Z", {"A", "Z"}, set()])
def test_quiz_rejects_answer_not_in_options(answer):
    with pytest.raises(ValueError, match="选项"):
        quiz("？", OPTIONS, answer, "", "")


def test_quiz_select_rejects_unknown_keys():
    single = quiz("？", OPTIONS, "A", "", "")
    with pytest.raises(ValueError):
        single.select("A", "B")
    with pytest.raises(ValueError):
        single.select("Z")
    multi = quiz("？", OPTIONS, {"A"}, "", "")
    with pytest.raises(ValueError):
        multi.select("Z")


def test_the_key_hides_answer_and_explanation():
    key = make_key("B", "政府或其他企业。", "01_concepts", "1", 3)
    assert "政府" not in key and '"B"' not in key


def test_a_right_answer_is_recorded_in_the_progress_file(progress_file):
    q = quiz("？", OPTIONS, "C", "对。", "不对。", lesson="01_concepts", number="2", total=5)
    q.select("A")
    q.submit()
    assert not progress_file.exists()
    q.select("C")
    q.submit()
    q.submit()
    data = json.loads(progress_file.read_text(encoding="utf-8"))
    assert data["lessons"]["01_concepts"] == {"done": ["2"], "total": 5}


def test_an_unwritable_progress_file_does_not_break_the_quiz(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(blocker / "progress.json"))
    q = quiz("？", OPTIONS, "C", "对。", "不对。", lesson="01_concepts")
    q.select("C")
    assert q.submit() is True


def test_every_quiz_says_to_rerun_the_cell_when_reopened():
    q = quiz("？", OPTIONS, "A")
    assert [RERUN_NOTE in html for html in displayed_html(q)] == [False, True]
    assert "重新运行这个单元格" in RERUN_NOTE and "Error displaying widget" in RERUN_NOTE
