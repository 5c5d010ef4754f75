"""What is built once per test run and shared by all pytest-xdist workers (separate processes).

The workers' temporary folders sit side by side under the run's own folder, so that folder
is shared by the workers and private to the run; a file lock lets the first worker that
needs a thing build it while the others wait and then read it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def run_folder(basetemp: Path) -> Path:
    """The folder of this test run that every worker sees (``basetemp``: the worker's own)."""
    folder = (basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp) / "shared"
    folder.mkdir(exist_ok=True)
    return folder


@contextlib.contextmanager
def only_one(folder: Path, name: str) -> Iterator[None]:
    """Hold the lock ``name`` in ``folder``: one process at a time builds or checks the thing."""
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
