"""``kam report`` at scale: a synthetic gradebook of 500 learners × 5 assignments.

Not a test. Generates the course's five exercises in a temporary copy, fills the
gradebook with invented learners and scores (seeded: strong and weak learners, some
missing work, written answers partly still to grade, a few blank answers and
submissions that could not be graded, a recorded answer for every autograded
question), then runs ``kam report`` in a fresh process a few times and prints the
median wall time (and the CPU time it used, which depends less on what else the machine
runs), the load average before and after, the size of report.html, of the learner pages
and of the CSVs. The goal is ≤ 5 s on 2 cores and an HTML page under 5 MB.

    .venv/bin/python -m benchmarks.report [--learners 500] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.commands import BIN, tool_env
from tests.support.courses import ASSIGNMENTS, EXERCISES, copy_clean_course

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"
WRONG = ["优先供应商关系", "供应商关系", "战略联盟关系", "'B'", "'C'", "3", "False", "['客户经理']"]


def build(root: Path, learners: int, seed: int = 7) -> None:
    """Generate the exercises under ``root`` and fill its gradebook with a synthetic cohort."""
    from nbgrader.api import Gradebook

    from kamlib.grading.answer_store import AnswerRecord, GradingFailure, record_answers, record_failure
    from kamlib.grading.course import Course

    copy_clean_course(EXERCISES, root)
    subprocess.run(
        [str(BIN / "nbgrader"), "generate_assignment", "--force", "*"],
        cwd=root,
        check=True,
        capture_output=True,
        env=tool_env(),
    )
    rng = random.Random(seed)
    os.chdir(root)  # nbgrader reads the course's config from the working directory
    course = Course.load(root)
    answers, failures = [], []
    with Gradebook(course.db_url, course.course_id) as gb:
        ids = [f"2025{n:03d}" for n in range(1, learners + 1)]
        for student in ids:
            gb.add_student(student, last_name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
        ability = {s: rng.betavariate(4, 2) for s in ids}
        for a_index, assignment in enumerate(ASSIGNMENTS):
            for student in ids:
                if rng.random() < 0.03 + 0.01 * a_index:
                    continue  # not handed in
                sub = gb.add_submission(assignment, student)
                if rng.random() < 0.005:
                    failures.append(
                        GradingFailure(
                            assignment,
                            student,
                            "笔记本不是有效的 JSON 文件（文件损坏或被截断），请学员重新提交",
                            "2025-03-01T10:00:00+00:00",
                        )
                    )
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        hard = rng.random() < 0.25
                        p = ability[student] * (0.5 if hard else 1.0)
                        if grade.cell.cell_type == "code":
                            missing = rng.random() < 0.04
                            right = not missing and rng.random() < p
                            grade.auto_score = grade.max_score if right else 0.0
                            grade.needs_manual_grade = False
                            answers.append(
                                AnswerRecord(
                                    assignment,
                                    nb.name,
                                    student,
                                    grade.name,
                                    ""
                                    if missing
                                    else ("合作伙伴关系" if right else rng.choice(WRONG[: 4 if hard else 8])),
                                    missing,
                                    True,
                                    "2025-03-01T10:00:00+00:00",
                                )
                            )
                        elif rng.random() < 0.05:
                            grade.auto_score, grade.needs_manual_grade = 0.0, False  # left blank
                        elif rng.random() < 0.15:
                            grade.auto_score, grade.needs_manual_grade = None, True  # still to grade
                        else:
                            grade.manual_score = round(grade.max_score * min(1.0, rng.gauss(p, 0.2)) * 2) / 2
                            grade.manual_score = max(0.0, grade.manual_score)
                            grade.needs_manual_grade = False
                gb.db.commit()
    record_answers(course.db_url, answers)
    for failure in failures:
        record_failure(course.db_url, failure)


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (kam and its chart workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="build the course in DIR and keep it; with DIR built, time it again"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp) / "exercises"
        if not (root / "gradebook.db").is_file():
            started = time.perf_counter()
            build(root, args.learners)
            print(
                f"合成成绩库：{args.learners} 名学员 × {len(ASSIGNMENTS)} 份作业，"
                f"准备用时 {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        load_before = os.getloadavg()[0]
        times, cpu = [], []
        for _ in range(args.runs):
            used = _children_cpu()
            started = time.perf_counter()
            subprocess.run(
                [str(BIN / "kam"), "--course", str(root), "report", "--out", str(root / "reports")],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
            cpu.append(_children_cpu() - used)
        out = root / "reports"
        pages = list((out / "learners").glob("*.html"))
        mb = 1024 * 1024
        print(
            f"kam report（新进程，含导入）：中位数 {statistics.median(times):.2f} s"
            f"（{args.runs} 次：{'、'.join(f'{t:.2f}' for t in times)} s）；"
            f"CPU 时间中位数 {statistics.median(cpu):.2f} s；"
            f"负载（1 分钟平均）：开始 {load_before:.2f}，结束 {os.getloadavg()[0]:.2f}（{os.cpu_count()} 核）"
        )
        print(f"report.html：{(out / 'report.html').stat().st_size / mb:.2f} MB")
        print(
            f"learners/：{len(pages)} 页，共 {sum(p.stat().st_size for p in pages) / mb:.2f} MB，"
            f"每页约 {sum(p.stat().st_size for p in pages) / max(1, len(pages)) / 1024:.0f} KB"
        )
        for name in ("report.csv", "answers.csv", "items.csv"):
            print(f"{name}：{(out / name).stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
