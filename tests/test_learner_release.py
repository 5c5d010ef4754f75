"""The trainer's learner version drops the answer explanations and is otherwise nbgrader's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.commands import run_nbgrader
from tests.support.courses import EXERCISES, copy_clean_course

pytestmark = pytest.mark.slow  # nbgrader generate_assignment with nbgrader's own preprocessors

ASSIGNMENT = "ex03_relationship_tiers"
STOCK = "\nc.GenerateAssignment.preprocessors = GenerateAssignment.preprocessors.default()\n"


def _release(course: Path) -> dict:
    return json.loads((course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text(encoding="utf-8"))


def test_release_has_no_explanation_and_is_otherwise_unchanged(cohort, tmp_path):
    ours = _release(cohort.course)  # generated with the course's own config
    stock_course = copy_clean_course(EXERCISES, tmp_path / "stock")
    with (stock_course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(STOCK)  # nbgrader's own preprocessors, without StripExplanations
    done = run_nbgrader(stock_course, "generate_assignment", ASSIGNMENT)
    assert done.returncode == 0, done.stderr[-2000:]
    stock = _release(stock_course)

    explained = [c for c in stock["cells"] if "explanation" in c["metadata"].get("kam", {})]
    assert len(explained) == 7, "nbgrader alone keeps the explanations (so this test can fail)"
    assert "explanation" not in json.dumps(ours)
    for cell in stock["cells"]:
        cell["metadata"].get("kam", {}).pop("explanation", None)
    assert ours == stock
