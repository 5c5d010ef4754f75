"""How long `import kamlib` and its heavier modules take in a fresh interpreter.

Prints the median of several runs for each module, and the interpreter's own start-up
(`python -c pass`) measured in the same run as the baseline. Not a test: figures only.
Run: .venv/bin/python -m benchmarks.import_time [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

MODULES = ["kamlib", "kamlib.tiers", "kamlib.data", "kamlib.plots", "kamlib.widgets"]


def fresh_run_seconds(code: str, runs: int) -> float:
    """Median wall time of `python -c code` in a fresh interpreter."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    baseline = fresh_run_seconds("pass", args.runs)
    print(f"interpreter start-up (baseline): {baseline:.3f} s")
    for module in MODULES:
        total = fresh_run_seconds(f"import {module}", args.runs)
        print(
            f"import {module:<16} {total:.3f} s  (import alone {max(0.0, total - baseline):.3f} s, "
            f"{total / baseline:.1f}x baseline)"
        )


if __name__ == "__main__":
    main()
