"""How pytest-xdist shares the test run between its workers (tests/conftest.py installs it).

Like ``--dist loadfile``, a test module is one unit of work, so that a module's fixtures are
built once. Modules that read the same costly build share one unit (``SHARED_UNITS``): one
worker builds it and no other worker sits idle waiting for it. The units go out in the order
the tests were collected, which conftest sorts longest first (``HEAVY_FIRST``), so that the
run does not end with one worker on a long unit while the other has nothing left.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from xdist.scheduler import LoadFileScheduling

SHARED_UNITS = {
    "test_exercises": "exercise-cohort",
    "test_grading_robustness": "exercise-cohort",
    "test_learner_release": "exercise-cohort",
}
# The longest units (README, "Tests", has the measured times); the rest follow in file order.
HEAVY_FIRST = (
    "exercise-cohort",
    "test_redteam_nbgrader",
    "test_redteam_kam",
    "test_hub",
    "test_binder",
    "test_browser",
    "test_grade",
    "test_postgres",
)


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its module's name, or the unit it shares."""
    module = PurePosixPath(nodeid.split("::", 1)[0]).stem
    return SHARED_UNITS.get(module, module)


def heavy_first(nodeid: str) -> int:
    """Sort key: the units of ``HEAVY_FIRST`` in its order, then all others."""
    unit = unit_of(nodeid)
    return HEAVY_FIRST.index(unit) if unit in HEAVY_FIRST else len(HEAVY_FIRST)


class UnitScheduling(LoadFileScheduling):
    """``--dist loadfile`` with the shared units above, handed out in collection order."""

    def __init__(self, config, log=None) -> None:
        config.option.loadscopereorder = False  # keep conftest's order, not "most tests first"
        super().__init__(config, log)

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
