"""One term per idea: the glossary (course/术语表.md) and the learner-facing text agree.

Every "不用的说法" of the glossary is absent from what a learner or trainer reads in the
lessons, exercises, data cards and kamlib's messages; the lessons' prose names no code
identifiers; user-facing strings quote with “” only.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "course" / "术语表.md"
LESSONS = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises" / "source").glob("*/*.ipynb"))
KAMLIB_TEXT = sorted((ROOT / "kamlib").rglob("*.py"))  # its messages, labels and report texts
DATA_CARDS = sorted((ROOT / "kamlib" / "data").glob("*.md"))
# Words about how the course material was produced have no place in what learners read.
PRODUCTION_WORDS = ("网页抓取", "抓取", "scrape")


def glossary() -> list[dict[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("统一说法", "---"):
            rows.append(dict(zip(("term", "english", "meaning", "avoid"), cells, strict=True)))
    return rows


def banned() -> dict[str, str]:
    """Each variant not to use → the glossary's term."""
    return {variant: row["term"] for row in glossary() for variant in re.split(r"[、，]", row["avoid"]) if variant}


def notebook_text(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)


def learner_texts() -> dict[str, str]:
    texts = {str(p.relative_to(ROOT)): notebook_text(p) for p in LESSONS + EXERCISES}
    texts.update({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in KAMLIB_TEXT + DATA_CARDS})
    return texts


def test_glossary_lists_the_terms_the_issue_asked_to_settle():
    terms = {row["term"] for row in glossary()}
    assert {"增长潜力", "采购份额", "优先得分", "客户组合分组", "走势", "我方维护角色"} <= terms
    assert len(terms) == len(glossary()), "a term is listed twice"
    variants = banned()
    assert not set(variants) & terms, "a term is also listed as a variant not to use"


@pytest.mark.parametrize("where", sorted(learner_texts()))
def test_no_variant_the_glossary_rules_out(where):
    text = learner_texts()[where]
    found = {v: term for v, term in banned().items() if v in text.replace(term, "")}
    assert not found, f"{where}: use the glossary's term instead of {found}"


@pytest.mark.parametrize("path", LESSONS + EXERCISES, ids=lambda p: p.stem)
def test_no_production_detail_in_learner_text(path):
    markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert not [w for w in PRODUCTION_WORDS if w in markdown.casefold()]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_prose_names_no_code_identifier(path):
    """No function names, English column names or duty ids in what a lesson says."""
    markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    prose = re.sub(r"\]\([^)]*\)|https?://\S+", "", markdown)  # link targets are not prose
    # ASCII word boundaries: to \b in a str pattern a Chinese character is a word character,
    # so an identifier written right against Chinese text would not be found.
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", prose, re.ASCII), "snake_case identifier in prose"
    assert not re.findall(r"\b(?:AM|ES|SM)-[A-Za-z0-9]+", prose, re.ASCII), "duty id in prose"
    code = [span for span in re.findall(r"`([^`\n]+)`", prose) if re.search(r"[A-Za-z_]{3,}", span)]
    assert not code, f"code in backticks in prose: {code}"


def lesson_titles() -> dict[str, str]:
    """第N课 → the lesson's Chinese title, from each lesson's first heading (“# 第一课　标题”)."""
    titles = {}
    for path in LESSONS:
        found = re.match(r"# (第.课)\u3000(.+)", nbformat.read(path, as_version=4).cells[0].source)
        if found:
            titles[found.group(1)] = found.group(2).strip()
    return titles


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_exercise_prose_names_lessons_by_their_titles(path):
    """An exercise names a lesson as the lesson names itself (第三课《四种类型的客户关系》), never by its
    file name. (Exercise prose must name the answer variables, so the lessons' stricter check of
    code in prose does not apply to it.)"""
    markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    prose = re.sub(r"\]\([^)]*\)|https?://\S+", "", markdown)  # link targets are not prose
    assert not [p.stem for p in LESSONS if p.stem in prose], "a lesson named by its file name"
    titles = lesson_titles()
    named = re.findall(r"(第.课)《([^》]+)》", prose)
    wrong = [(lesson, title) for lesson, title in named if titles.get(lesson) != title]
    assert not wrong, f"lesson titles differ from the lessons' own: {wrong} (lessons: {titles})"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_links_to_a_lesson_use_its_title(path):
    """“[第二课　标题](02_roles.ipynb)”: the link text is the title the lesson gives itself."""
    titles = lesson_titles()
    links = re.findall(r"\[(第.课)\u3000([^\]]+)\]\([^)]*\.ipynb\)", notebook_text(path))
    wrong = [(lesson, title) for lesson, title in links if titles.get(lesson) != title]
    assert not wrong, f"lesson titles differ from the lessons' own: {wrong}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_menus_are_named_as_the_chinese_interface_names_them(path):
    text = notebook_text(path)
    assert "Kernel" not in text and "File →" not in text and "Restart Kernel" not in text


@pytest.mark.parametrize("where", sorted(learner_texts()))
def test_one_quotation_mark_style(where):
    """Chinese quotation marks “” only: no 「」, and no straight quotes around Chinese words
    in prose (the notebooks' markdown and the data cards; in code they delimit strings)."""
    text = learner_texts()[where]
    assert "「" not in text and "」" not in text
    path = ROOT / where
    prose = text if path.suffix == ".md" else ""
    if path.suffix == ".ipynb":
        prose = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert not re.findall(r"\"[\u4e00-\u9fff]+\"", prose)
