"""The learner's feedback page, made by ``kam feedback`` and by plain ``nbgrader generate_feedback``
on a copy of the real exercises: Chinese labels, one verdict per question consistent with the
score, review pointers, no hidden test, and the trainer's option to show the reference answers."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest

from kamlib.grading.hidden_tests import find_leaks
from kamlib.grading.regions import HIDDEN, region_lines
from kamlib.grading.topics import review_pointer
from tests.support.commands import run_kam, run_nbgrader
from tests.support.courses import EXERCISES, copy_clean_course
from tests.support.feedback import ENGLISH_LABELS
from tests.support.submissions import Kit, grade_id

pytestmark = pytest.mark.slow  # the real ex03 through kam grade, kam feedback and nbgrader

ASSIGNMENT = "ex03_relationship_tiers"
EXPLANATION = "客户甲只按公开信息参与竞争、与四五家比价：这是第一种关系“供应商”的特征。"


def plain(page: Path) -> str:
    body = page.read_text(encoding="utf-8")
    body = re.sub(r"<(style|script)\b.*?</\1>", "", body[body.index("<body") :], flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def verdicts(page: Path) -> dict[str, tuple[str, str]]:
    """Question title -> (score text, verdict) from the page's table of contents."""
    found = {}
    for item in re.findall(r"<li><a href=\"#[^\"]+\">(.*?)</li>", page.read_text(encoding="utf-8"), flags=re.S):
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", item))).strip()
        title, rest = text.split("：", 1)
        score, verdict = rest.rsplit(" ", 1)
        found[title.strip()] = (score.strip(), verdict)
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = copy_clean_course(EXERCISES, tmp_path_factory.mktemp("fbzh") / "course")
    source = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:  # the explanation the trainer may show, on the first question's test cell
        if grade_id(cell) == "ex03_q1_test":
            cell.metadata.setdefault("kam", {})["explanation"] = EXPLANATION
    nbformat.write(nb, source)
    assert run_nbgrader(root, "generate_assignment", "--force", ASSIGNMENT).returncode == 0
    kit = Kit(root, ASSIGNMENT)
    nbformat.write(kit.solved(), _target(root, "right"))
    wrong = kit.solved()
    _answer(wrong, "ex03_q1_answer", "tier_q1 = Tier.PARTNERSHIP")
    _answer(wrong, "ex03_q2_answer", 'tier_q2 = "PREFERRED_SUPPLIER"')  # the wrong form
    nbformat.write(wrong, _target(root, "wrong"))
    nbformat.write(kit.release, _target(root, "blank"))
    graded = run_kam(root, "grade", ASSIGNMENT, "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return root


def _target(root: Path, student: str) -> Path:
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2025-03-01 10:00:00.000000 UTC", encoding="utf-8")
    return folder / f"{ASSIGNMENT}.ipynb"


def _answer(nb, gid: str, source: str) -> None:
    next(c for c in nb.cells if grade_id(c) == gid).source = source


def _hidden_lines(root: Path) -> tuple[str, ...]:
    nb = json.loads((root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text(encoding="utf-8"))
    lines = {line for c in nb["cells"] for line in region_lines("".join(c["source"]), *HIDDEN) if len(line) >= 10}
    return tuple(sorted(lines))


def test_kam_feedback_speaks_chinese_with_one_verdict_per_question(course):
    run = run_kam(course, "feedback", ASSIGNMENT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "反馈" in run.stderr and "名学员" in run.stderr  # the start line above the progress bar
    pages = {s: course / "feedback" / s / ASSIGNMENT / f"{ASSIGNMENT}.html" for s in ("right", "wrong", "blank")}
    for student, page in pages.items():
        text = plain(page)
        assert [label for label in ENGLISH_LABELS if label in text] == [], student
        assert "写法正确" not in text and "提交评分后才知道" not in text
        assert find_leaks(page.read_text(encoding="utf-8"), _hidden_lines(course)) == []
        assert "参考答案：" not in text and EXPLANATION not in text  # off by default
        html = page.read_text(encoding="utf-8")  # named by the exercise's title, not by its folder
        assert "<title>练习 3：四种类型的客户关系 的反馈</title>" in html and "练习 3：四种类型的客户关系　得分" in text
        assert ASSIGNMENT not in text
    right, wrong, blank = (verdicts(pages[s]) for s in ("right", "wrong", "blank"))
    q1, q2 = "第 1 题", "第 2 题"
    assert right[q1] == ("2 / 2 分", "正确") and right[q2] == ("2 / 2 分", "正确")
    assert wrong[q1] == ("0 / 2 分", "不正确")
    assert wrong[q2] == ("0 / 2 分", "格式不对")
    # a written answer nobody has graded yet says so, instead of 0 points
    pending = [title for title, (score, v) in right.items() if v == "待批改"]
    assert pending and all(right[t][0] == "待批改" for t in pending)
    # every verdict agrees with its score
    for page in (right, wrong, blank):
        for score, v in page.values():
            if v == "正确":
                got, full = score.removesuffix(" 分").split(" / ")
                assert got == full
            elif v in ("不正确", "格式不对", "未作答"):
                assert score.startswith("0 / ")
    # a wrong answer points to what to reread
    assert review_pointer("tiers.types") in plain(pages["wrong"])
    assert "没有作答" in plain(pages["blank"])


def test_plain_nbgrader_feedback_uses_the_same_page_and_the_answers_option(course):
    config = course / "nbgrader_config.py"
    config.write_text(
        config.read_text(encoding="utf-8") + f'\nc.ExplainGrades.show_answers = ["{ASSIGNMENT}"]\n', encoding="utf-8"
    )
    run = run_nbgrader(course, "generate_feedback", "--force", ASSIGNMENT)
    assert run.returncode == 0, run.stderr[-2000:]
    page = course / "feedback" / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    text = plain(page)
    assert [label for label in ENGLISH_LABELS if label in text] == []
    assert verdicts(page)["第 1 题"] == ("0 / 2 分", "不正确")
    assert "参考答案：" in text and "tier_q1 = Tier.VENDOR" in text and EXPLANATION in text
    assert find_leaks(page.read_text(encoding="utf-8"), _hidden_lines(course)) == []


def _graded_pair(answer_comment, answer_outputs: list) -> nbformat.NotebookNode:
    """An autograded answer cell and its test cell (0 of 2 points; the answer variable undefined)."""
    answer = nbformat.v4.new_code_cell("tier_q1 = Tier.VENDOR：", outputs=answer_outputs)
    answer.metadata.nbgrader = {"solution": True, "grade": False, "grade_id": "q1_answer", "comment": answer_comment}
    test = nbformat.v4.new_code_cell(
        "assert tier_q1 == 1",
        outputs=[nbformat.v4.new_output("error", ename="NameError", evalue="name 'tier_q1' is not defined")],
    )
    test.metadata.nbgrader = {"solution": False, "grade": True, "grade_id": "q1_test", "points": 2, "score": 0.0}
    return nbformat.v4.new_notebook(cells=[answer, test])


SLIP = nbformat.v4.new_output(
    "error",
    ename="SyntaxError",
    evalue="invalid character '：' (U+FF1A) (2289960271.py, line 1)",
    traceback=[
        "\x1b[0;31m✘ 第 1 行有中文标点“：”，应写成英文的 :。请切换到英文输入法后重新输入这个符号。\x1b[0m"
        "\n（Python 的原始报错：SyntaxError: invalid character '：' (U+FF1A)）"
    ],
)


@pytest.mark.parametrize(
    ("comment", "outputs", "expected"),
    [
        (None, [SLIP], "格式不对"),  # a slip made the answer cell raise an error
        ("No response.", [], "未作答"),  # left as released
    ],
)
def test_the_verdict_of_an_answer_that_gave_nothing_agrees_with_the_report(comment, outputs, expected):
    from kamlib.grading.feedback_page import answer_cell, verdict
    from kamlib.grading.hidden_tests import strip_notebook

    nb = strip_notebook(_graded_pair(comment, outputs))
    kind, reason = verdict(nb.cells[1], needs_manual_grade=False)
    assert kind == expected
    if expected == "未作答":
        assert reason == "这道题还没有作答，得 0 分。"
    answer_cell(nb.cells[0])
    assert all(o.output_type == "stream" for o in nb.cells[0].outputs)


def test_the_answer_cell_shows_the_courses_chinese_explanation_of_a_slip():
    from kamlib.grading.feedback_page import answer_cell

    nb = _graded_pair(None, [SLIP])
    answer_cell(nb.cells[0])
    (shown,) = nb.cells[0].outputs
    assert shown.text.startswith("✘ 第 1 行有中文标点“：”，应写成英文的 :。")
    assert "SyntaxError" not in shown.text and "\x1b" not in shown.text
    other = _graded_pair(None, [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=["x"])])
    answer_cell(other.cells[0])
    assert other.cells[0].outputs[0].text == "这个单元格运行时出错（ValueError：bad）。\n"
