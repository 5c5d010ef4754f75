"""The report as a trainer opens it: headless Chromium, no console errors, every chart drawn,
and a learner's page printed on A4. Screenshots are kept in artifacts/browser/."""

from __future__ import annotations

import re
from contextlib import chdir

import pytest

from kamlib.cli import main
from kamlib.grading.answer_store import AnswerRecord, GradingFailure, record_answers, record_failure
from kamlib.grading.course import Course
from tests.support.browser import ARTIFACTS
from tests.support.courses import clone_course

IMAGES_JS = """() => Array.from(document.images).map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0,
                                                       width: i.getBoundingClientRect().width}))"""


@pytest.fixture(scope="module")
def reported(chromium, graded, tmp_path_factory):
    root = clone_course(graded, tmp_path_factory.mktemp("browser") / "course")
    with chdir(root):
        url = Course.load(root).db_url
    record_answers(
        url,
        [
            AnswerRecord("ps1", "ps1", s, "test_answer", v, not v, True, "2025-03-01T10:00:00+00:00")
            for s, v in (("alice", "42"), ("bob", "41"), ("carol", ""))
        ],
    )
    record_failure(
        url, GradingFailure("ps2", "bob", "笔记本 ps2.ipynb 不是有效的 JSON 文件", "2025-03-01T10:00:00+00:00")
    )
    out = root / "reports"
    assert main(["--course", str(root), "report", "--out", str(out)]) == 0
    return out


def _open(browser, path):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda r: problems.append(f"{r.url}: {r.failure}"))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def test_the_report_renders_every_chart_without_console_errors(browser, reported):
    page, problems = _open(browser, reported / "report.html")
    images = page.evaluate(IMAGES_JS)
    assert len(images) == 5 and all(i["ok"] and i["width"] > 300 for i in images), images
    text = page.inner_text("body")
    for seen in (
        "无法评分的提交",
        "笔记本 ps2.ipynb 不是有效的 JSON 文件",
        "✔ 42",
        "最常见的错误是 41",
        "知识点掌握",
        "风险学员",
    ):
        assert seen in text, seen
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.click("text=bob")  # the name links to the learner's page
    page.wait_for_load_state("load")
    assert page.url.endswith("/learners/bob.html") and "学员成绩单：bob" in page.inner_text("h1")
    assert not problems, problems


def test_a_learner_page_prints_on_a4(browser, reported):
    page, problems = _open(browser, reported / "learners" / "bob.html")
    text = page.inner_text("body")
    assert "无法评分" in text and "全班平均" in text and page.title() == "学员成绩单：bob"
    page.screenshot(path=str(ARTIFACTS / "report-learner.png"), full_page=True)
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes and all(round(float(w)) == 595 and round(float(h)) == 842 for w, h in boxes)  # A4 in points
    assert not problems, problems
