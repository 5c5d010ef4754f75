"""Readable names of assignments and questions, read from the exercise source notebooks.

A question is named by the heading above its graded cell, without the points:
``### 第 2 题 情形判断（2 分）`` gives “第 2 题 情形判断”. An assignment is named by
its notebook's title (``# 练习 3：四种类型的客户关系（共 20 分）`` gives
“练习 3：四种类型的客户关系”).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The comment nbgrader's autograde gives an answer cell left as released.
NO_RESPONSE = "No response."


def answers_of_tests(cells: list) -> Iterator[tuple[dict, list[dict]]]:
    """(test cell, its answer cells) for each autograded test cell of a notebook's ``cells``
    that has answer cells since the previous graded cell (notebook JSON or nbformat cells)."""
    answers: list[dict] = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            answers.append(cell)
        if meta.get("grade"):
            if not meta.get("solution") and answers:
                yield cell, answers
            answers = []


_POINTS = re.compile(r"\s*[（(][^（）()]*分[^（）()]*[）)]\s*$")
_HEADING = re.compile(r"^(#+)\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class GradedCell:
    """A graded cell of a source notebook."""

    assignment: str
    notebook: str
    grade_id: str
    title: str  # the heading above it, without points; the grade_id when there is none
    topic: str | None  # metadata["kam"]["topic"], None when untagged
    autograded: bool  # a test cell (code); False for an answer a trainer grades by hand
    path: Path


def _clean(heading: str) -> str:
    return _POINTS.sub("", heading).strip()


def _outside_mark_scheme(source: str) -> list[str]:
    """The lines of a markdown cell outside nbgrader's mark scheme region (its markers included)."""
    lines, inside = [], False
    for line in source.splitlines():
        if "BEGIN MARK SCHEME" in line:
            inside = True
        elif "END MARK SCHEME" in line:
            inside = False
        elif not inside:
            lines.append(line)
    return lines


def source_notebooks(root: Path) -> Iterator[tuple[str, Path, dict]]:
    """(assignment, path, notebook JSON) for each ``source/<assignment>/*.ipynb`` of a course root."""
    for path in sorted((Path(root) / "source").glob("*/*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a broken source notebook is reported by nbgrader, not here
        yield path.parent.name, path, nb


def graded_cells(root: Path) -> Iterator[GradedCell]:
    """Every graded cell of the course root's source notebooks, in notebook order."""
    for assignment, path, nb in source_notebooks(root):
        heading = None
        for cell in nb.get("cells", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            if cell.get("cell_type") == "markdown":
                levels = [m for m in map(_HEADING.match, _outside_mark_scheme(source)) if m]
                if levels:
                    level, text = levels[-1].groups()
                    heading = _clean(text) if len(level) > 1 else None
            meta = cell.get("metadata", {})
            nbg = meta.get("nbgrader", {})
            if not nbg.get("grade") or not nbg.get("grade_id"):
                continue
            kam = meta.get("kam")
            yield GradedCell(
                assignment=assignment,
                notebook=path.stem,
                grade_id=nbg["grade_id"],
                title=heading or nbg["grade_id"],
                topic=kam.get("topic") if isinstance(kam, dict) else None,
                autograded=cell.get("cell_type") == "code" and not nbg.get("solution"),
                path=path,
            )


def assignment_titles(root: Path) -> dict[str, str]:
    """Assignment -> the title of its first source notebook (only those that have one)."""
    titles: dict[str, str] = {}
    for assignment, _path, nb in source_notebooks(root):
        for cell in nb.get("cells", []):
            if assignment in titles or cell.get("cell_type") != "markdown":
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            for m in map(_HEADING.match, source.splitlines()):
                if m and len(m.group(1)) == 1:
                    titles[assignment] = _clean(m.group(2))
                    break
    return titles
