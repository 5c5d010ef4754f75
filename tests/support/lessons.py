"""Each lesson of course/ run top to bottom in a fresh kernel ONCE per test run, for every test that reads it.

A lesson runs in its own copy of course/ (as committed: no trainee workbook, no earlier
account plans), with the kernel settings of tests/conftest.py (strict glyph checking,
matplotlib's inline backend). The executed notebook is written to the run's shared folder
(see run_cache): the first pytest-xdist worker that needs a lesson runs it, and every other
worker reads its result. A lesson
whose kernel dies or times out is recorded as such, and every reader gets that error
instead of a second run.
"""

from __future__ import annotations

import hashlib
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .run_cache import only_one

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "course"
CELL_TIMEOUT = 120  # seconds; a lesson runs in well under 15 s
NOT_COMMITTED = ("我的客户*.xlsx", "~$*.xlsx", "客户计划", ".ipynb_checkpoints")


@dataclass(frozen=True)
class LessonRun:
    """One lesson after its run: the notebook with its outputs, and the folder it ran in."""

    notebook: nbformat.NotebookNode
    folder: Path


class LessonDidNotFinish(RuntimeError):
    """The kernel died or a cell timed out: the lesson has no complete run to check."""


def executed_lesson(path: Path, shared: Path) -> LessonRun:
    """``path`` run once in a fresh kernel (by whichever process asks first); its result.
    ``shared``: the run's shared folder (``run_cache.run_folder``)."""
    key = f"lesson-{path.stem}-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    folder, done, failed = shared / key, shared / f"{key}.ipynb", shared / f"{key}.error.txt"
    with only_one(shared, key):
        if not done.exists() and not failed.exists():
            _run(path, folder, done, failed)
    if failed.exists():
        raise LessonDidNotFinish(f"{path.name} did not run to the end:\n{failed.read_text(encoding='utf-8')}")
    return LessonRun(nbformat.read(done, as_version=4), folder)


def _run(path: Path, folder: Path, done: Path, failed: Path) -> None:
    shutil.copytree(COURSE, folder, ignore=shutil.ignore_patterns(*NOT_COMMITTED))
    nb = nbformat.read(folder / path.name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute()
    except Exception:  # a dead kernel or a timeout: record it once, for every reader
        failed.write_text(traceback.format_exc(limit=3), encoding="utf-8")
        return
    nbformat.write(nb, done)
