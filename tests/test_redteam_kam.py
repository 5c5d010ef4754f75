"""Red team through ``kam grade --jobs 2`` (the tests are in redteam_suite.py)."""

import pytest
from redteam_suite import *  # noqa: F403 (the shared tests)


@pytest.fixture(scope="module")
def grader() -> str:
    return "kam"
