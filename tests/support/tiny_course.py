"""A tiny nbgrader course for the ``kam`` tests: fast kernels, known answers.

``ps1`` has two autograded questions (2 and 1 points, each with a visible and a
hidden test) and one answer graded by hand (3 points); ``ps2`` one autograded
question (1 point). :func:`submit` writes a learner's submission from the release
version, with chosen answers, or raw text for a broken file. Tests grade their own copy
of one generated course (``courses.clone_course``).
"""

from __future__ import annotations

import json
import os
from contextlib import chdir
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .commands import tool_env

CONFIG = """c = get_config()
c.CourseDirectory.course_id = "tiny"
c.Execute.timeout = 3
"""

RIGHT = {"answer": "answer = 42", "share": "share = 0.8", "essay": "因为该客户贡献了八成收入。"}
PARTLY = {"answer": "answer = 41", "share": "share = 0.8"}
HIDDEN_LINES = ("assert answer == 42", "assert abs(share - 0.8) < 1e-9", "assert ready is True")


def _meta(grade_id: str, **flags) -> dict:
    return {
        "nbgrader": {
            "schema_version": 3,
            "grade_id": grade_id,
            "locked": False,
            "solution": False,
            "grade": False,
            **flags,
        }
    }


def _source_notebooks() -> dict[str, nbformat.NotebookNode]:
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    ps1 = new_notebook(
        metadata=kernel,
        cells=[
            new_markdown_cell("# 小测验"),
            new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", metadata=_meta("answer", solution=True)),
            new_code_cell(
                "assert isinstance(answer, int)\n### BEGIN HIDDEN TESTS\nassert answer == 42\n### END HIDDEN TESTS",
                metadata=_meta("test_answer", grade=True, locked=True, points=2),
            ),
            new_code_cell("### BEGIN SOLUTION\nshare = 0.8\n### END SOLUTION", metadata=_meta("share", solution=True)),
            new_code_cell(
                "assert 0 <= share <= 1\n### BEGIN HIDDEN TESTS\nassert abs(share - 0.8) < 1e-9\n### END HIDDEN TESTS",
                metadata=_meta("test_share", grade=True, locked=True, points=1),
            ),
            new_markdown_cell("请说明理由。"),
            new_markdown_cell(
                "=== BEGIN MARK SCHEME ===\n提到八成收入即可。\n=== END MARK SCHEME ===\n\nYOUR ANSWER HERE",
                metadata=_meta("essay", grade=True, solution=True, points=3),
            ),
        ],
    )
    ps2 = new_notebook(
        metadata=kernel,
        cells=[
            new_code_cell("### BEGIN SOLUTION\nready = True\n### END SOLUTION", metadata=_meta("ready", solution=True)),
            new_code_cell(
                "assert isinstance(ready, bool)\n### BEGIN HIDDEN TESTS\nassert ready is True\n### END HIDDEN TESTS",
                metadata=_meta("test_ready", grade=True, locked=True, points=1),
            ),
        ],
    )
    return {"ps1": ps1, "ps2": ps2}


def make_course(root: Path) -> Path:
    """Write the course, generate ps1 and ps2 (gradebook + release), return ``root``."""
    from nbgrader.apps import NbGraderAPI

    from kamlib.grading.course import load_app

    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    for name, nb in _source_notebooks().items():
        (root / "source" / name).mkdir(parents=True)
        nbformat.write(nb, root / "source" / name / f"{name}.ipynb")
    os.environ["PATH"] = tool_env()["PATH"]
    with chdir(root):
        app = load_app(root)
        api = NbGraderAPI(coursedir=app.coursedir, parent=app)
        for name in ("ps1", "ps2"):
            result = api.generate_assignment(name)
            assert result["success"], result.get("error")
    return root


def submit(
    root: Path,
    student: str,
    assignment: str = "ps1",
    answers: dict[str, str] | None = None,
    raw: str | None = None,
    timestamp: str = "2025-03-01 10:00:00.000000 UTC",
) -> Path:
    """Write submitted/<student>/<assignment>/ from the release notebook; ``raw`` replaces the file."""
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    target = folder / f"{assignment}.ipynb"
    if raw is not None:
        target.write_text(raw, encoding="utf-8")
        return folder
    nb = json.loads((root / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell["source"] = answers[grade_id]
    target.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return folder


def grade_small_cohort(root: Path) -> Path:
    """alice right, bob partly right, carol blank on ps1; only alice hands in ps2; all graded."""
    from kamlib.grading.course import Course
    from kamlib.grading.grade import grade_assignment

    submit(root, "alice", answers=RIGHT)
    submit(root, "bob", answers=PARTLY)
    submit(root, "carol")
    submit(root, "alice", "ps2", answers={"ready": "ready = True"})
    with chdir(root):
        course = Course.load(root)
        for name in ("ps1", "ps2"):
            assert all(o.status == "graded" for o in grade_assignment(course, name, jobs=2).outcomes)
    return root
