"""Settings every test run shares, including the notebook kernels nbval starts,
and the tiny nbgrader course that the kam tests grade."""

import os
from pathlib import Path

import pytest
from kam_tiny_course import copy_course, grade_small_cohort, make_course

# Kernels inherit this process's environment: a missing Chinese glyph in a chart is an
# error there too (see kamlib.plots.use_chinese_font), and charts render inline.
os.environ["KAMLIB_STRICT_GLYPHS"] = "1"
os.environ.pop("MPLBACKEND", None)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A tiny nbgrader course (two assignments), generated once per test module."""
    return make_course(tmp_path_factory.mktemp("tiny") / "course")


@pytest.fixture(scope="module")
def graded(template, tmp_path_factory) -> Path:
    """alice: ps1 3/6 (essay awaiting a grade), ps2 1/1; bob: ps1 1/6; carol: ps1 0/6."""
    return grade_small_cohort(copy_course(template, tmp_path_factory.mktemp("graded") / "course"))
