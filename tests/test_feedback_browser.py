"""A feedback page as a learner opens it, in headless Chromium: Chinese throughout (no English
nbgrader label left) and each question's verdict consistent with the score shown beside it.
Screenshots are kept in artifacts/browser/."""

from __future__ import annotations

import re

import pytest

from kamlib.cli import main
from tests.support.browser import ARTIFACTS
from tests.support.courses import clone_course
from tests.support.feedback import ENGLISH_LABELS

HEADINGS_JS = """() => Array.from(document.querySelectorAll('.nbgrader_cell .panel-heading'))
    .filter(h => h.querySelector('.kam-verdict'))
    .map(h => ({text: h.innerText, verdict: h.querySelector('.kam-verdict').innerText}))"""


@pytest.fixture(scope="module")
def pages(chromium, graded, tmp_path_factory):
    root = clone_course(graded, tmp_path_factory.mktemp("fbbrowser") / "course")
    assert main(["--course", str(root), "feedback", "ps1"]) == 0
    return {s: root / "feedback" / s / "ps1" / "ps1.html" for s in ("alice", "bob", "carol")}


@pytest.mark.parametrize("student", ["alice", "bob", "carol"])
def test_the_feedback_page_is_chinese_and_each_verdict_matches_its_score(browser, pages, student):
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    page.goto(pages[student].as_uri())
    page.wait_for_load_state("load")
    text = page.inner_text("body")
    assert [label for label in ENGLISH_LABELS if label in text] == []
    assert "写法正确" not in text
    headings = page.evaluate(HEADINGS_JS)
    assert len(headings) == 3, headings  # two autograded questions and one written answer
    for heading in headings:
        verdict = heading["verdict"]
        score = re.search(r"得分：\s*(待批改|([\d.]+)\s*/\s*([\d.]+))", heading["text"])
        assert score, heading
        if verdict == "待批改" or score[1] == "待批改":
            assert verdict == score[1] == "待批改", heading
            continue
        got, full = float(score[2]), float(score[3])
        assert (verdict == "正确") == (got == full), heading
        assert (verdict in ("不正确", "格式不对", "未作答")) == (got == 0), heading
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"feedback-{student}.png"), full_page=True)
    page.close()
