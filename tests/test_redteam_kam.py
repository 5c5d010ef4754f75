"""Red team through ``kam grade --jobs 2`` (the tests are in tests/support/redteam_suite.py)."""

import pytest

from tests.support.redteam_suite import *  # noqa: F403 (the shared tests)

pytestmark = pytest.mark.redteam


@pytest.fixture(scope="module")
def grader() -> str:
    return "kam"
