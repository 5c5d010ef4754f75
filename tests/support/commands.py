"""The virtualenv's own commands (nbgrader, kam, jupyter), run the way a trainer runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """This process's environment with the virtualenv's scripts first on PATH
    (nbgrader calls ``alembic`` when it creates a gradebook)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def run_nbgrader(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course`` (the virtualenv's nbgrader); output captured as text."""
    return subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=tool_env(), capture_output=True, text=True, timeout=timeout
    )


def run_kam(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``kam ARGS`` in ``course`` (the virtualenv's kam); output captured as text."""
    return subprocess.run(
        [str(BIN / "kam"), *args], cwd=course, env=tool_env(), capture_output=True, text=True, timeout=timeout
    )
