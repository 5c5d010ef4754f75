"""How long each lesson takes to run top to bottom in a fresh kernel.

Not a test: prints one line per lesson with its run time, the baseline (a fresh kernel
started and an empty notebook run, measured in the same session) and the ratio.

    .venv/bin/python -m benchmarks.lessons [--repeat N] [lesson ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"


def run_seconds(nb: nbformat.NotebookNode) -> float:
    """Wall time to start a fresh kernel in course/, run every cell and shut it down."""
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(COURSE)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def median_seconds(make_nb, repeat: int) -> float:
    return statistics.median(run_seconds(make_nb()) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson names, e.g. 01_concepts (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook; the median is shown")
    args = parser.parse_args()
    os.environ["KAMLIB_STRICT_GLYPHS"] = "1"
    os.environ.pop("MPLBACKEND", None)

    paths = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
    if args.lessons:
        paths = [p for p in paths if p.stem in args.lessons]
    baseline = median_seconds(nbformat.v4.new_notebook, args.repeat)
    print(f"{'notebook':<26}{'seconds':>9}{'x baseline':>12}")
    print(f"{'(empty notebook)':<26}{baseline:>9.2f}{1:>12.1f}")
    for path in paths:
        seconds = median_seconds(partial(nbformat.read, path, as_version=4), args.repeat)
        print(f"{path.stem:<26}{seconds:>9.2f}{seconds / baseline:>12.1f}")


if __name__ == "__main__":
    main()
