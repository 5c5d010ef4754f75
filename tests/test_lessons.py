"""The lesson notebooks in course/: committed clean, well formed, and they run.

Each lesson is executed once per test run in a fresh kernel, in a copy of course/ (strict
glyph checking on, matplotlib's inline backend; see tests/support/lessons.py), and the
executed copy is shared by the tests below and the other tests that read a lesson's run.
These tests are what proves every lesson runs top to bottom without an error.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from kamlib import answer_key

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
LESSONS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
TEACHING = [p for p in LESSONS if not p.name.startswith("00_")]
COMMITTED = LESSONS + sorted((ROOT / "exercises" / "source").glob("*/*.ipynb"))
EXPECTED = ["00_index", "01_concepts", "02_roles", "03_relationship_tiers", "04_foundations", "05_my_accounts"]
BINDER = "https://mybinder.org/v2/gh/kam-course-kit/kam-course/HEAD?urlpath=lab/tree/course/"
GLYPH_TROUBLE = re.compile(r"Glyph|missing from font")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGETS = ("TierExplorer", "DutyMatching", "ParetoExplorer", "AllocationPlanner")
NOTEBOOK_METADATA = {"kernelspec", "language_info"}
CELL_METADATA = {"tags"}


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _source(nb: nbformat.NotebookNode, cell_type: str) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == cell_type)


@pytest.fixture
def executed(request, lesson_run) -> nbformat.NotebookNode:
    """The lesson run top to bottom in a fresh kernel (once per test run, see conftest)."""
    return lesson_run(request.param).notebook


def _outputs(nb: nbformat.NotebookNode):
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            yield index, out


def _output_text(out) -> str:
    if out.output_type == "stream":
        return out.text
    if out.output_type == "error":
        return "\n".join([out.ename, out.evalue, *out.traceback])
    return "\n".join(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))


def test_all_lessons_are_present():
    assert _ids(LESSONS) == EXPECTED


# --- committed form -------------------------------------------------------------------


@pytest.mark.parametrize("path", COMMITTED, ids=_ids(COMMITTED))
def test_stored_with_chinese_as_itself(path):
    """Chinese is stored as itself, as JupyterLab saves it, not as \\uXXXX escapes: the other
    tests that scan a notebook's file (scrape errors, the font's characters) then read what a
    learner reads, and a diff of a notebook stays readable."""
    raw = path.read_text(encoding="utf-8")
    decoded = json.dumps(json.loads(raw), ensure_ascii=False)
    escaped = sorted({c for c in decoded if ord(c) > 127} - set(raw))
    assert not escaped, f"{path.name}: stored as escapes: {''.join(escaped)[:40]}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_committed_without_outputs_or_execution_counts(path):
    nb = _read(path)
    dirty = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_valid_nbformat_with_cell_ids_and_clean_metadata(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), "cell ids need nbformat 4.5"
    # As committed: nbformat.read makes up an id for every cell without one (and only warns).
    ids = [c.get("id") for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: missing or repeated cell ids"
    assert nb.metadata.kernelspec.name == "python3"
    assert set(nb.metadata) <= NOTEBOOK_METADATA, f"{path.name}: metadata {sorted(nb.metadata)}"
    extra = {i: sorted(c.metadata) for i, c in enumerate(nb.cells) if set(c.metadata) - CELL_METADATA}
    assert not extra, f"{path.name}: cell metadata to strip {extra}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_opens_with_objectives_and_its_own_binder_link(path):
    first = _read(path).cells[0]
    assert first.cell_type == "markdown"
    assert "学习目标" in first.source
    assert f"({BINDER}{path.name})" in first.source, f"{path.name}: Binder link must open {path.name}"
    assert "https://mybinder.org/badge_logo.svg" in first.source
    assert re.search(r"(预计|建议).{0,6}(时间|用时)", first.source), "state the estimated time"


@pytest.mark.parametrize("path", TEACHING, ids=_ids(TEACHING))
def test_ends_with_summary_and_reflection(path):
    tail = "\n".join(c.source for c in _read(path).cells[-3:] if c.cell_type == "markdown")
    assert "要点回顾" in tail, f"{path.name}: the last cells need a 要点回顾 summary"
    assert "反思" in tail, f"{path.name}: the last cells need 反思 questions"


@pytest.mark.parametrize("path", TEACHING, ids=_ids(TEACHING))
def test_uses_a_kamlib_quiz_and_a_kamlib_widget(path):
    code = _source(_read(path), "code")
    assert re.search(r"from kamlib\.quizzes import .*\bQuiz\b", code), "import Quiz from kamlib.quizzes"
    assert re.search(r"\bQuiz\(", code), "ask at least one self-check question"
    assert "from kamlib.widgets import" in code
    assert any(f"{name}(" in code for name in WIDGETS), "show a kamlib widget"


@pytest.mark.parametrize("path", TEACHING, ids=_ids(TEACHING))
def test_quiz_keys_are_not_in_plain_sight(path):
    """Each quiz cell holds its answer and explanation only as an encoded key, which is valid."""
    calls = [
        (cell, node)
        for cell in _read(path).cells
        if cell.cell_type == "code"
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Quiz"
    ]
    assert calls
    for number, (cell, node) in enumerate(calls, start=1):
        keywords = {k.arg: k.value for k in node.keywords}
        assert not {"answer", "explanation"} & keywords.keys() and len(node.args) == 2, cell.source
        key = answer_key.decode(ast.literal_eval(keywords["key"]))
        assert key["lesson"] == path.stem and key["question"] == str(number) and key["total"] == len(calls)
        assert key["answer"] and key["explanation"] and re.search(r"[\u4e00-\u9fff]", key["explanation"])
        assert key["explanation"] not in cell.source and "answer" not in cell.source


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_code_cells_stay_short(path):
    long = [i for i, c in enumerate(_read(path).cells) if c.cell_type == "code" and len(c.source.splitlines()) > 12]
    assert not long, f"{path.name}: code cells {long} are longer than 12 lines"


# --- executed form --------------------------------------------------------------------


@pytest.mark.parametrize("executed", LESSONS, ids=_ids(LESSONS), indirect=True)
def test_runs_without_errors(executed):
    errors = [(i, o.ename, o.evalue) for i, o in _outputs(executed) if o.output_type == "error"]
    assert not errors, f"error outputs: {errors}"


@pytest.mark.parametrize("executed", LESSONS, ids=_ids(LESSONS), indirect=True)
def test_chinese_text_renders_in_charts(executed):
    trouble = [(i, _output_text(o)[:200]) for i, o in _outputs(executed) if GLYPH_TROUBLE.search(_output_text(o))]
    assert not trouble, f"missing glyphs reported: {trouble}"


@pytest.mark.parametrize("executed", TEACHING, ids=_ids(TEACHING), indirect=True)
def test_shows_a_chart_and_a_live_widget(executed):
    mimes = [m for _, o in _outputs(executed) for m in o.get("data", {})]
    assert "image/png" in mimes, "no chart was drawn"
    assert WIDGET_MIME in mimes, "no widget was displayed"


# ---------------------------------------------------------------- one template, honest times
TEMPLATE = ["学习目标", "开始之前", "1", "要点回顾", "反思"]
READING_CHARS_PER_MINUTE = 200  # a trainee reading teaching text closely
MINUTES = {"code": 0.5, "quiz": 1, "widget": 4, "prompt": 2}  # run and read / answer / play / think


def _headings(nb: nbformat.NotebookNode) -> list[str]:
    return [
        line[3:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]


@pytest.mark.parametrize("path", TEACHING, ids=_ids(TEACHING))
def test_lessons_share_one_template(path):
    """学习目标, 开始之前, numbered sections "N. 标题", 要点回顾, 反思 — in this order."""
    headings = _headings(_read(path))
    numbered = [h for h in headings if re.match(r"\d", h)]
    assert all(re.match(r"\d+\. \S", h) for h in numbered), numbered
    assert [int(h.split(".")[0]) for h in numbered] == list(range(1, len(numbered) + 1))
    spine = [h for h in headings if h in TEMPLATE or h.startswith("1. ")]
    assert [h.split(".")[0] for h in spine] == TEMPLATE, headings
    first = _read(path).cells[0].source
    assert re.search(r"\*\*对应课件\*\*：.+　｜　\*\*预计用时\*\*：约 \d+ 分钟", first), first[:300]


def estimated_minutes(nb: nbformat.NotebookNode) -> float:
    """Reading at READING_CHARS_PER_MINUTE Chinese characters, plus MINUTES per activity."""
    text = _source(nb, "markdown")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    chars = len(re.findall(r"[\u4e00-\u9fff]", text))
    quizzes = sum(s.count("Quiz(") for s in code)
    widgets = sum(any(f"{name}(" in s for name in WIDGETS) for s in code)
    prompts = text.count("想一想") + 3 * text.count("## 反思")
    return (
        chars / READING_CHARS_PER_MINUTE
        + MINUTES["code"] * len(code)
        + MINUTES["quiz"] * quizzes
        + MINUTES["widget"] * widgets
        + MINUTES["prompt"] * prompts
    )


def _stated_minutes(source: str) -> int:
    return int(re.search(r"预计用时\*\*：约 (\d+) 分钟", source).group(1))


@pytest.mark.parametrize("path", TEACHING, ids=_ids(TEACHING))
def test_stated_time_matches_the_lesson(path):
    """The header's 预计用时 is within 15 % of what the lesson's text and activities take."""
    nb = _read(path)
    stated, estimate = _stated_minutes(nb.cells[0].source), estimated_minutes(nb)
    assert abs(stated - estimate) <= 0.15 * estimate, f"{path.name}: states {stated} min, takes ~{estimate:.0f}"


def test_index_times_agree_with_the_lessons():
    index = _source(_read(COURSE / "00_index.ipynb"), "markdown")
    stated = [_stated_minutes(_read(p).cells[0].source) for p in TEACHING]
    rows = [int(m) for m in re.findall(r"\| 约 (\d+) 分钟 \|", index)]
    assert rows == stated
    hours = float(re.search(r"五课合计约 ([\d.]+) 小时", index).group(1))
    assert abs(hours * 60 - sum(stated)) <= 20, (hours, sum(stated))


# ---------------------------------------------------------------- what is the deck's, what is the course's
COURSE_OWN = {  # first mention in a lesson must say it is the course's own
    "01_concepts": ["帕累托图"],
    "03_relationship_tiers": ["判定规则"],
    "04_foundations": ["优先得分", "客户组合分组", "服务等级"],
}
OWN_MARKERS = ("本课程", "不是课件", "课件没有")
OVERCLAIMS = [
    "三条要同时满足",
    "三条同时满足",
    "七项功能环环相扣",
    "他的责任分三块",
    "观点都出自这份课件",
    "道理是真的",
    "关系越深，回报越集中",
    "课件的描述",
]


@pytest.mark.parametrize("lesson", sorted(COURSE_OWN))
def test_the_courses_own_rules_say_so_where_first_taught(lesson):
    cells = [c.source for c in _read(COURSE / f"{lesson}.ipynb").cells if c.cell_type == "markdown"]
    for term in COURSE_OWN[lesson]:
        first = next(text for text in cells if term in text)
        assert any(marker in first for marker in OWN_MARKERS), f"{lesson}: “{term}” first appears unlabelled"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_no_overclaim_of_the_deck(path):
    text = _source(_read(path), "markdown")
    assert not [claim for claim in OVERCLAIMS if claim in text]


def test_built_in_patterns_of_the_case_data_are_not_evidence():
    """The generator ties tier to revenue and share: lesson 3 must say so wherever it shows it."""
    cells = [c.source for c in _read(COURSE / "03_relationship_tiers.ipynb").cells if c.cell_type == "markdown"]
    for text in cells:
        if "虚构数据里" in text and ("销售额" in text or "份额" in text):
            assert "有意设定" in text and "证据" in text, text[:120]
