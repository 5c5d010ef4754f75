"""Red team through plain ``nbgrader autograde`` (the tests are in tests/support/redteam_suite.py)."""

import pytest

from tests.support.redteam_suite import *  # noqa: F403 (the shared tests)

pytestmark = pytest.mark.redteam


@pytest.fixture(scope="module")
def grader() -> str:
    return "nbgrader"
