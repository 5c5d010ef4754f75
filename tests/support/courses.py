"""nbgrader course roots: the course in exercises/, and the two ways the tests copy a course."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXERCISES = REPO / "exercises"
# The settings of a learner's Jupyter server (hub trainees, Binder): on JUPYTER_CONFIG_PATH.
LEARNER_CONFIG = REPO / "deploy" / "learner"
ASSIGNMENTS = ("ex01_concepts", "ex02_roles", "ex03_relationship_tiers", "ex04_foundations", "ex05_account_plan")
# What nbgrader and kam write into a course root; never committed (see .gitignore).
BUILD_OUTPUT = (
    "release",
    "submitted",
    "autograded",
    "feedback",
    "reports",
    "selfstudy",
    "gradebook.db",
    "gradebook.db.bak-*",
    ".ipynb_checkpoints",
    "__pycache__",
)


def copy_clean_course(src: Path, dest: Path) -> Path:
    """Copy a course root as committed: without its build output (release/, gradebook.db …)."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*BUILD_OUTPUT))
    return dest


def clone_course(src: Path, dest: Path) -> Path:
    """Copy a course root whole, build output included (gradebook, release, submissions and all),
    so a test can change its copy of a course generated or graded once."""
    shutil.copytree(src, dest)
    return dest


def with_cell_timeout(course: Path, seconds: int) -> Path:
    """Give a copied course a shorter time limit per cell (``CELL_TIMEOUT`` of its
    nbgrader_config.py, which the Chinese timeout message quotes too): for a cohort whose
    submissions loop on purpose, so the test run does not sit out the trainer's limit."""
    config = course / "nbgrader_config.py"
    text, found = re.subn(
        r"^CELL_TIMEOUT = \d+", f"CELL_TIMEOUT = {seconds}", config.read_text(encoding="utf-8"), flags=re.M
    )
    if found != 1:
        raise ValueError(f"{config} sets no CELL_TIMEOUT")
    config.write_text(text, encoding="utf-8")
    return course
