"""Drawing the report's charts in worker processes while the report goes on.

Drawing the charts is most of a report's work on a large cohort, and importing matplotlib
a good part of its start-up. :func:`drawing` forks worker processes (one per core) as the
report starts (at most :data:`WORKERS`); they import matplotlib while the report reads the gradebook, then draw each
chart it hands them as soon as the chart's data is ready. The report's own process never
imports matplotlib. Charts are named by their function in :mod:`.charts`, so handing one
over needs nothing from matplotlib.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager

WORKERS = 4  # a report has five charts at most
NICENESS = 10  # how much lower the workers' priority is
Jobs = Mapping[str, tuple[str, tuple]]  # name -> (chart function of kamlib.grading.charts, its arguments)


def draw(chart: str, args: tuple) -> str:
    """The chart ``chart`` of :mod:`.charts` drawn with ``args``, as base64 PNG."""
    from . import charts

    return charts.png(getattr(charts, chart)(*args))


def _warm_up() -> None:
    """Start a worker: below the report's own priority (the report's tables and pages, not its charts,
    are what the cohort waits for), with matplotlib imported before the first chart arrives."""
    os.nice(NICENESS)
    from . import charts  # noqa: F401


class Drawer:
    """Charts handed over with :meth:`add`, drawn in ``pool`` (or here, when asked for, without one)."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self._pool = pool
        self._jobs: dict[str, tuple[str, tuple]] = {}
        self._futures: dict[str, Future] = {}

    def add(self, jobs: Jobs) -> None:
        """Start drawing ``jobs``."""
        for name, (chart, args) in jobs.items():
            if self._pool is None:
                self._jobs[name] = (chart, args)
            else:
                self._futures[name] = self._pool.submit(draw, chart, args)

    def pngs(self) -> dict[str, str]:
        """Name -> base64 PNG of every chart added; waits for the workers."""
        return {name: draw(chart, args) for name, (chart, args) in self._jobs.items()} | {
            name: future.result() for name, future in self._futures.items()
        }


@contextmanager
def drawing(parallel: bool = True) -> Iterator[Drawer]:
    """A :class:`Drawer` with a forked worker process per core; without ``parallel``, with one core
    or where processes cannot be forked, one that draws in this process."""
    cores = os.cpu_count() or 1
    if not parallel or cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield Drawer(None)
        return
    pool = ProcessPoolExecutor(
        min(cores, WORKERS), mp_context=multiprocessing.get_context("fork"), initializer=_warm_up
    )
    try:
        pool.submit(int)  # forks a worker now (its initializer imports matplotlib) while the report reads the gradebook
        yield Drawer(pool)
    finally:
        pool.shutdown(cancel_futures=True)
