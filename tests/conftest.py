"""Settings every test run shares (the notebook kernels the tests start inherit them), the
one rule for tests whose tools are missing, and the fixtures several test modules use."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, missing_browser
from tests.support.courses import clone_course
from tests.support.deck import corrected_deck, deck_path, normalise
from tests.support.lessons import LessonRun, executed_lesson
from tests.support.run_cache import only_one, run_folder
from tests.support.scheduling import UnitScheduling, heavy_first
from tests.support.submissions import Cohort, graded_cohort
from tests.support.tiny_course import grade_small_cohort, make_course

# Kernels inherit this process's environment: a missing Chinese glyph in a chart is an
# error there too (see kamlib.plots.use_chinese_font), and charts render inline.
os.environ["KAMLIB_STRICT_GLYPHS"] = "1"
os.environ.pop("MPLBACKEND", None)


# The lanes of pyproject.toml's markers. A fixture that costs kernels, nbgrader runs or a
# browser puts the tests that use it in its lane: the lessons' runs, the browser, the tiny
# course (generated, then graded) and the graded exercise cohort. Every heavy lane is also
# slow, and `make test-fast` runs `-m "not slow"`.
LANE_OF_FIXTURE = {
    "lesson_run": "notebooks",
    "chromium": "browser",
    "template": "slow",
    "graded": "slow",
    "cohort": "slow",
}
HEAVY_LANES = ("notebooks", "browser", "hub", "postgres", "binder", "redteam")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, lane in LANE_OF_FIXTURE.items():
            if fixture in item.fixturenames:
                item.add_marker(lane)
        if any(item.get_closest_marker(lane) for lane in HEAVY_LANES):
            item.add_marker("slow")
    items.sort(key=lambda item: heavy_first(item.nodeid))  # stable: a module keeps its order


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """pytest-xdist's workers share the run by units of work (tests/support/scheduling.py)."""
    if config.getvalue("dist") == "loadfile":
        return UnitScheduling(config, log)
    return None


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (pyproject.toml): one worker more than this machine has cores.

    The workers spend part of the run waiting (for a server to answer, a kernel to start, a
    cell's time limit): with one per core, about a twelfth of the CPU sat idle. An explicit
    PYTEST_XDIST_AUTO_NUM_WORKERS is pytest-xdist's own setting and wins.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} — CI must provide it (.ci/run installs what the tests need)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def skip_or_fail() -> Callable[[str], NoReturn]:
    """``skip_or_fail(reason)``: a tool or file a test needs is missing. On a user's machine
    the test is skipped with ``reason``; on CI (CI=true), which must run every test, it fails."""
    return _skip_or_fail


@pytest.fixture(scope="session")
def chromium(skip_or_fail) -> Path:
    """Debian's Chromium, and Playwright to drive it (see tests/support/browser.py)."""
    reason = missing_browser()
    if reason:
        skip_or_fail(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium):
    """A headless Chromium driven by Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def lesson_run(tmp_path_factory) -> Callable[[Path], LessonRun]:
    """``lesson_run(path)``: the lesson executed once per test run (see tests/support/lessons.py)."""
    shared = run_folder(tmp_path_factory.getbasetemp())
    return lambda path: executed_lesson(path, shared)


@pytest.fixture(scope="session")
def deck_file(skip_or_fail) -> Path:
    """The source deck beside the repository (../shared/seed)."""
    path = deck_path()
    if path is None:
        skip_or_fail("the course deck (../shared/seed/000_*.txt beside the repository) is absent")
    return path


@pytest.fixture(scope="session")
def deck(deck_file) -> str:
    """The deck's wording, corrected and normalised (see tests/support/deck.py)."""
    return normalise(corrected_deck(deck_file))


def _built_once(shared: Path, name: str, build: Callable[[Path], Path]) -> Path:
    """``shared / name / "course"``, built by the first process of the test run that asks for it."""
    course, done = shared / name / "course", shared / name / "built"
    with only_one(shared, name):
        if not done.exists():
            shutil.rmtree(course.parent, ignore_errors=True)  # what a failed build left
            build(course)
            done.touch()
    return course


@pytest.fixture(scope="session")
def cohort(tmp_path_factory) -> Cohort:
    """The course's real exercises generated, handed in by a cohort (right, blank and
    hostile submissions) and graded by one ``nbgrader autograde``, once per test run
    (tests/support/submissions.py). Tests only read it."""
    return graded_cohort(run_folder(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """A tiny nbgrader course (two assignments), generated once per test run and shared by
    every worker: a test copies it (``clone_course``) before it changes anything."""
    return _built_once(run_folder(tmp_path_factory.getbasetemp()), "tiny-template", make_course)


@pytest.fixture(scope="session")
def graded(template, tmp_path_factory) -> Path:
    """The tiny course graded once per test run (shared like ``template``): alice: ps1 3/6
    (essay awaiting a grade), ps2 1/1; bob: ps1 1/6; carol: ps1 0/6."""
    return _built_once(
        run_folder(tmp_path_factory.getbasetemp()),
        "tiny-graded",
        lambda course: grade_small_cohort(clone_course(template, course)),
    )
