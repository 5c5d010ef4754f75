"""nbgrader course roots: the course in exercises/, and the two ways the tests copy a course."""

from __future__ import annotations

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
