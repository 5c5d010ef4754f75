"""Grading throughput: stock ``nbgrader autograde`` against sandboxed ``kam grade --jobs N`` on one cohort.

Not a test. Builds a cohort of learner submissions from the release notebook of one
assignment (right, partly right, blank and broken ones), grades three identical copies
— with stock ``nbgrader autograde ASSIGNMENT`` (nbgrader's own autograding steps: no
sandbox, tests run in the learner's kernel), with ``kam grade ASSIGNMENT --jobs N``
(sandboxed, verdicts outside the kernel) and with ``kam grade --no-sandbox`` (what the
sandbox costs) — checks that every cell's score is the same (stock nbgrader leaves a
submission whose kernel exits ungraded, so those are left out of that comparison), and
prints the wall times, the ratios, seconds per notebook, peak memory, and the floor: a
trivial notebook's kernel start and run, measured in the same session.

    .venv/bin/python -m benchmarks.grading [--students 12] [--jobs 2] [--repeat 1] [--assignment NAME]

(from the repository root: it builds the cohort with the tests' helpers in tests/support/).
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
from nbclient import NotebookClient

from kamlib.grading.course import Course
from kamlib.grading.tables import read_gradebook
from tests.support.commands import BIN, run_nbgrader, tool_env
from tests.support.courses import EXERCISES, REPO, clone_course, copy_clean_course
from tests.support.submissions import BROKEN_JSON, EXIT_KERNEL, Case, Kit

#: The cohort's make-up, repeated to the requested size: right, partly right (first half of
#: the questions), blank (as released), and two broken kinds (not JSON; the kernel exits).
MIX = ["right", "half", "blank", "right", "half", "not_json", "right", "blank", "half", "right", "blank", "kernel_exit"]
RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
    "sys.exit(code)\n"
)


def build_cohort(base: Path, assignment: str, students: int) -> dict[str, str]:
    """Write the submissions into ``base``; return {student: kind}."""
    kit = Kit(base, assignment)
    k = kit.middle
    makers = {
        "right": lambda: Case(kit.solved()),
        "half": lambda: Case(kit.solved(kit.first_half)),
        "blank": lambda: Case(copy.deepcopy(kit.release)),
        "not_json": lambda: Case(raw=BROKEN_JSON),
        "kernel_exit": lambda: Case(kit.edit(kit.solved(), k.answer_id, after=EXIT_KERNEL)),
    }
    cohort = {}
    for i in range(students):
        kind = MIX[i % len(MIX)]
        student = f"learner{i + 1:02d}_{kind}"
        makers[kind]().write(base, student, assignment)
        cohort[student] = kind
    return cohort


class TreeMemory(threading.Thread):
    """Samples the summed resident memory of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb, self.stop = pid, interval, 0, threading.Event()

    def run(self) -> None:
        page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        while not self.stop.wait(self.interval):
            parents, rss = {}, {}
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    stat = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat[1])
                rss[int(entry.name)] = int(stat[21]) * page_kb
            tree, frontier = {self.pid}, [self.pid]
            while frontier:
                children = [p for p, pp in parents.items() if pp in frontier and p not in tree]
                tree.update(children)
                frontier = children
            self.peak_kb = max(self.peak_kb, sum(rss.get(p, 0) for p in tree))


def timed(command: list[str], cwd: Path) -> tuple[float, float, int, int, subprocess.CompletedProcess]:
    """Run ``command``; return wall seconds, CPU seconds (user + system of every process it
    started), largest single process RSS (getrusage of the children, KiB), peak summed RSS
    of the process tree (KiB) and the finished process."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", RUSAGE_WRAPPER, rss_file.name, *command],
            cwd=cwd,
            env=tool_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        sampler = TreeMemory(proc.pid)
        sampler.start()
        out, err = proc.communicate()
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        largest, cpu = Path(rss_file.name).read_text().split()
    return (
        seconds,
        float(cpu),
        int(largest),
        sampler.peak_kb,
        subprocess.CompletedProcess(command, proc.returncode, out, err),
    )


def floor_seconds(repeat: int = 3) -> float:
    """Median wall time to start a fresh kernel, run ``1 + 1`` and shut it down."""

    def once() -> float:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        start = time.perf_counter()
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
        return time.perf_counter() - start

    return statistics.median(once() for _ in range(repeat))


STOCK_CONFIG = """
# Benchmark baseline: nbgrader's own autograding steps (no sandbox, no verdicts outside).
from nbgrader.converters import Autograde
c.Autograde.autograde_preprocessors = Autograde.autograde_preprocessors.default()
"""


def compare(one: Path, other: Path, leave_out: set[str] = frozenset()) -> tuple[int, int]:
    """Assert identical gradebooks (every cell, comment and submission score) but for the
    students in ``leave_out``; return the number of submissions and of graded cells compared."""
    tables = []
    for root in (one, other):
        os.chdir(root)
        tables.append(read_gradebook(Course.load(root)))
    os.chdir(REPO)
    (a, b) = tables
    for name in ("cells", "comments", "submissions"):
        x, y = (getattr(t, name) for t in (a, b))
        x, y = (t[~t["student_id"].isin(leave_out)].reset_index(drop=True) for t in (x, y))
        pd.testing.assert_frame_equal(x, y)
    kept = a.submissions[~a.submissions["student_id"].isin(leave_out)]
    return int(kept["submitted"].sum()), int((~a.cells["student_id"].isin(leave_out)).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12, help="cohort size (default 12)")
    parser.add_argument("--jobs", type=int, default=2, help="kam grade --jobs (default 2)")
    parser.add_argument("--assignment", default="ex03_relationship_tiers", help="assignment of exercises/")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="pairs of runs, alternating which goes first; medians are shown (default 1)",
    )
    args = parser.parse_args()
    kam = [str(BIN / "kam"), "grade", args.assignment, "--jobs", str(args.jobs)]
    commands = {
        "stock nbgrader autograde": [str(BIN / "nbgrader"), "autograde", args.assignment],
        f"kam grade --jobs {args.jobs}": kam,
        "  same, --no-sandbox": [*kam, "--no-sandbox"],
    }

    with tempfile.TemporaryDirectory(prefix="kam-bench-") as tmp:
        base = copy_clean_course(EXERCISES, Path(tmp) / "base")
        generated = run_nbgrader(base, "generate_assignment", "--force", args.assignment)
        if generated.returncode != 0:
            raise SystemExit(generated.stderr[-3000:])
        cohort = build_cohort(base, args.assignment, args.students)
        kinds = list(cohort.values())
        print(
            f"cohort: {len(cohort)} submissions of {args.assignment} "
            f"({', '.join(f'{k} {kinds.count(k)}' for k in dict.fromkeys(kinds))}); "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start"
        )
        floor = floor_seconds()
        results: dict[str, list[tuple]] = {name: [] for name in commands}
        for r in range(args.repeat):
            order = list(commands) if r % 2 == 0 else list(reversed(commands))
            dirs = {name: clone_course(base, Path(tmp) / f"run{r}-{i}") for i, name in enumerate(commands)}
            stock_dir, kam_dir, bare_dir = dirs.values()
            with open(stock_dir / "nbgrader_config.py", "a", encoding="utf-8") as fh:
                fh.write(STOCK_CONFIG)
            for name in order:
                results[name].append(timed(commands[name], dirs[name]))
            dead = {s for s, kind in cohort.items() if kind == "kernel_exit"}
            submitted, cells = compare(stock_dir, kam_dir, leave_out=dead)
            compare(kam_dir, bare_dir)
            codes = ", ".join(f"{results[name][-1][-1].returncode}" for name in commands)
            print(
                f"run {r + 1}: scores identical ({submitted} submissions, {cells} graded cells; "
                f"kernel-exit submissions, which stock nbgrader leaves ungraded, left out; exit codes {codes})"
            )

    n = len(cohort)
    print(f"{'':<28}{'wall s':>8}{'s/notebook':>12}{'CPU s':>8}{'largest MB':>12}{'tree MB':>10}")
    walls = {}
    for name, runs in results.items():
        wall, cpu, largest, tree = (statistics.median(run[i] for run in runs) for i in range(4))
        walls[name] = wall
        print(f"{name:<28}{wall:>8.1f}{wall / n:>12.2f}{cpu:>8.1f}{largest / 1024:>12.0f}{tree / 1024:>10.0f}")
    stock, sandboxed, bare = walls.values()
    print(
        f"speed-up of sandboxed kam grade over stock nbgrader: {stock / sandboxed:.2f}x; "
        f"sandbox cost: {(sandboxed - bare) / n:+.2f} s per notebook "
        f"(load average {os.getloadavg()[0]:.2f} at the end)"
    )
    print(
        f"floor: a trivial notebook's kernel start + run = {floor:.2f} s "
        f"(x {n} notebooks / {args.jobs} jobs = {floor * n / args.jobs:.1f} s)"
    )
    print(
        "CPU s = user + system time of all processes started (kernels in the sandbox, under bubblewrap, "
        "are not counted); largest MB = biggest single process "
        "(getrusage of the children); tree MB = peak summed RSS of the process tree (sampled every 0.1 s)"
    )


if __name__ == "__main__":
    main()
