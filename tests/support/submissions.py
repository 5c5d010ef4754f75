"""Build nbgrader submissions — right, wrong, broken and adversarial — for the course in exercises/.

A submission is the folder ``<course>/submitted/<student>/<assignment>/`` with the
learner's notebook ``<assignment>.ipynb`` (one notebook per assignment in this course)
and any other files. Typical use::

    course = copy_clean_course(EXERCISES, tmp / "course")  # without release/, gradebook …
    run_nbgrader(course, "generate_assignment", "--force", "*")
    kit = Kit(course, "ex03_relationship_tiers")            # reads source/ and release/
    cases = kit.adversarial_cases()                          # {student: Case}
    for student, case in cases.items():
        case.write(course, student, kit.assignment)
    run_nbgrader(course, "autograde", "*")                   # nbgrader's return code is 1 when
                                                             # a submission could not be graded
    scores = test_scores(course, student, kit.assignment)   # {test grade_id: auto score}
    assert scores == case.expected

Every :class:`Case` knows the score each autograded test cell deserves (``expected``;
``None`` when the submission cannot be graded at all). Notebook builders take and return
``NotebookNode`` objects and never modify their input.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell

from kamlib.grading.regions import region_lines as cell_region_lines

from .commands import run_nbgrader
from .courses import ASSIGNMENTS, EXERCISES, copy_clean_course, with_cell_timeout
from .run_cache import only_one

# ------------------------------------------------------------------ code a learner might write
INFINITE_LOOP = "while True:\n    pass\n"
# The same loop after making the kernel deaf to the interrupt nbgrader sends at the timeout.
DEAF_LOOP = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + INFINITE_LOOP
KILL_KERNEL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
EXIT_KERNEL = "import os\nos._exit(0)\n"
HIDE_TRACEBACKS = "get_ipython().showtraceback = lambda *args, **kwargs: None\n"
SWALLOW_ERRORS = "get_ipython().set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)\n"
# Hide errors and publish a result in every cell: stock nbgrader reads a non-numeric
# execute_result as full credit when it comes before the (appended) error.
FAKE_RESULTS = HIDE_TRACEBACKS + (
    'get_ipython().events.register("post_run_cell", lambda result: get_ipython().displayhook("满分"))\n'
)
ALWAYS_EQUAL = (
    "class AlwaysEqual:\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __ne__(self, other):\n        return False\n"
    "    __hash__ = object.__hash__\n"
)
# A million lines of output in one print: as much as a million print() calls, which take the
# kernel 9 s on an idle machine and so came near the cohort's limit per cell (CELL_TIMEOUT).
MILLION_LINES = "print('\\n'.join(map(str, range(1_000_000))))\n"
BROKEN_JSON = '{"cells": [{"cell_type": "code", "source": "answer = '


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_test(cell: NotebookNode) -> bool:
    """An autograded test cell (code, grade, not solution)."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def without_markers(source: str) -> str:
    """``source`` without solution markers and hidden-test regions (what a learner could write)."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden and "BEGIN SOLUTION" not in line and "END SOLUTION" not in line:
            kept.append(line)
    return "\n".join(kept)


def region_lines(nb: NotebookNode, begin: str, end: str) -> list[str]:
    """The stripped, non-empty lines between ``begin`` and ``end`` markers, over all cells."""
    return [line for cell in nb.cells for line in cell_region_lines(cell.source, begin, end)]


def read_notebook(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=4)


# ------------------------------------------------------------------ what the instructor versions hide
def source(assignment: str) -> NotebookNode:
    """The instructor version of ``assignment`` in exercises/source/."""
    return read_notebook(EXERCISES / "source" / assignment / f"{assignment}.ipynb")


def hidden_lines(assignment: str) -> list[str]:
    """The statements inside the hidden-test regions of an assignment's source."""
    lines = region_lines(source(assignment), "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    return [line for line in lines if not line.startswith("import ")]


def mark_scheme_lines(assignment: str) -> list[str]:
    """Mark-scheme lines as written (notebooks) and as rendered (HTML drops the Markdown marks)."""
    lines = []
    for line in region_lines(source(assignment), "BEGIN MARK SCHEME", "END MARK SCHEME"):
        if len(line) > 12:
            lines += [line, re.sub(r"[*`]", "", line).strip().lstrip("- ")]
    return lines


def solution_lines(assignment: str) -> list[str]:
    """The solution code (inside the solution regions) and the model answers' lines (written questions)."""
    nb = source(assignment)
    lines = region_lines(nb, "BEGIN SOLUTION", "END SOLUTION")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and nbgrader_meta(cell).get("solution"):
            lines += [line.strip() for line in cell.source.split("\n") if len(line.strip()) > 12]
    return lines


@dataclass(frozen=True)
class Question:
    """One autograded question: its answer cell, its test cell, points, and the variable tested."""

    answer_id: str
    test_id: str
    points: float
    variable: str


@dataclass
class Case:
    """What one student hands in, and the score each test cell deserves.

    ``notebook`` is written as ``<assignment>.ipynb``, or ``raw`` (text) instead of it;
    with neither, the notebook is missing. ``files`` are extra files {name: text}.
    ``expected``: {test grade_id: points}; ``None`` when nbgrader cannot grade the
    submission (nothing is recorded, or every cell is left at 0 for the trainer to look at).
    """

    notebook: NotebookNode | None = None
    raw: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    expected: dict[str, float] | None = None

    def write(self, course: Path, student: str, assignment: str) -> Path:
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{assignment}.ipynb"
        if self.notebook is not None:
            nbformat.write(self.notebook, target)
        elif self.raw is not None:
            target.write_text(self.raw, encoding="utf-8")
        for name, text in self.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder


class Kit:
    """The source and learner versions of one assignment, and submissions made from them."""

    def __init__(self, course: Path, assignment: str):
        self.assignment = assignment
        self.source = read_notebook(course / "source" / assignment / f"{assignment}.ipynb")
        self.release = read_notebook(course / "release" / assignment / f"{assignment}.ipynb")
        self.questions = self._questions()

    def _questions(self) -> list[Question]:
        found, previous = [], None
        for cell in self.source.cells:
            if is_test(cell):
                match = re.search(r"check_\w+\((\w+)", cell.source)
                if previous is None or match is None:
                    raise ValueError(f"test cell {grade_id(cell)} has no answer cell or no check_…(variable) line")
                found.append(Question(previous, grade_id(cell), float(nbgrader_meta(cell)["points"]), match[1]))
            elif nbgrader_meta(cell).get("solution") and cell.cell_type == "code":
                previous = grade_id(cell)
        return found

    # -------------------------------------------------------------- scores
    def full(self) -> dict[str, float]:
        return {q.test_id: q.points for q in self.questions}

    def zero(self) -> dict[str, float]:
        return {q.test_id: 0.0 for q in self.questions}

    def only(self, passing: Iterable[Question]) -> dict[str, float]:
        passing = {q.test_id for q in passing}
        return {q.test_id: (q.points if q.test_id in passing else 0.0) for q in self.questions}

    @property
    def first_half(self) -> list[Question]:
        return self.questions[: (len(self.questions) + 1) // 2]

    @property
    def middle(self) -> Question:
        return self.questions[len(self.questions) // 2]

    # -------------------------------------------------------------- notebooks
    def solved(self, answered: Iterable[Question] | None = None) -> NotebookNode:
        """The learner version with the source's solutions in the answer cells of
        ``answered`` (default: all, including the written answers); the others untouched."""
        answered_ids = None if answered is None else {q.answer_id for q in answered}
        solutions = {grade_id(c): c.source for c in self.source.cells if nbgrader_meta(c).get("solution")}
        nb = copy.deepcopy(self.release)
        for cell in nb.cells:
            gid = grade_id(cell)
            if gid in solutions and (answered_ids is None or gid in answered_ids):
                cell.source = without_markers(solutions[gid])
        return nb

    def edit(self, nb: NotebookNode, answer_id: str, before: str = "", after: str = "") -> NotebookNode:
        """A copy of ``nb`` with code put before and/or after the source of one cell."""
        nb = copy.deepcopy(nb)
        cell = self._cell(nb, answer_id)
        cell.source = before + cell.source + ("\n" + after if after else "")
        return nb

    def insert_after(self, nb: NotebookNode, gid: str, code: str) -> NotebookNode:
        """A copy of ``nb`` with a new code cell (no nbgrader metadata) after cell ``gid``."""
        nb = copy.deepcopy(nb)
        index = nb.cells.index(self._cell(nb, gid))
        nb.cells.insert(index + 1, new_code_cell(code))
        return nb

    def replace_tests(self, nb: NotebookNode, code: str = "pass") -> NotebookNode:
        nb = copy.deepcopy(nb)
        for cell in nb.cells:
            if is_test(cell):
                cell.source = code
        return nb

    def delete(self, nb: NotebookNode, gids: Iterable[str]) -> NotebookNode:
        gids = set(gids)
        nb = copy.deepcopy(nb)
        nb.cells = [c for c in nb.cells if grade_id(c) not in gids]
        return nb

    @staticmethod
    def _cell(nb: NotebookNode, gid: str) -> NotebookNode:
        for cell in nb.cells:
            if grade_id(cell) == gid:
                return cell
        raise KeyError(f"no cell with grade_id {gid}")

    def slips(self) -> Case:
        """A learner who makes each novice slip kamlib.slips explains, one per answer (wrong
        case, full-width colon, the placeholder left in, a misspelt variable), and answers
        the rest right: each slip scores 0, as it did before the explanations existed."""
        q = {x.variable: x for x in self.questions}
        slips = {
            "tier_q3": "tier_q3 = Tier.partnership",
            "tier_q1": "tier_q1 = Tier.VENDOR：",
            "tier_q2": "# 在此作答（写好后删除下面这一行）\nraise NotImplementedError()\ntier_q2 = Tier.PREFERRED_SUPPLIER",
            "tier_q5": "scores_q5 = {}\ntier_q5x = Tier.PARTNERSHIP",
        }
        nb = self.solved()
        for variable, code in slips.items():
            self._cell(nb, q[variable].answer_id).source = code
        return Case(nb, expected=self.only(x for x in self.questions if x.variable not in slips))

    def slips_probe(self) -> Case:
        """All right, except that the first answer is right only when kamlib.slips was not
        loaded at the kernel's start (as a learner's server loads it): graded, it must score full."""
        first = self.questions[0]
        probe = (
            f"right, {first.variable} = {first.variable}, None\n"
            'if "kamlib.slips" not in get_ipython().extension_manager.loaded:\n'
            f"    {first.variable} = right"
        )
        return Case(self.edit(self.solved(), first.answer_id, after=probe), expected=self.full())

    # -------------------------------------------------------------- the cohort
    def adversarial_cases(self) -> dict[str, Case]:
        """Students whose submissions try to break or cheat the grading, with deserved scores.

        "Half" answers the first half of the questions right and leaves the rest as
        released (unanswered); ``k`` is the middle question.

        right, blank (the learner version untouched); tests_edited_to_pass, tests_deleted,
        answer_and_test_deleted (half); infinite_loop (in k's answer: k scores 0);
        unresponsive_kernel (SIGINT ignored, then a loop in k), kernel_killed (a cell after
        k's answer), kernel_exit (end of k's answer): the questions before k score;
        tracebacks_hidden, custom_exc, fake_results (half, errors hidden, fake results
        published); always_equal (the second half's variables compare equal to anything);
        million_lines (right); not_json and missing_notebook (expected None);
        extra_chinese_files (right, with a Chinese-named text file and notebook beside it).
        """
        q, k = self.questions, self.middle
        before_k = q[: q.index(k)]
        half = self.solved(self.first_half)
        tests = [x.test_id for x in q]
        always_equal = self.solved()
        for x in q[len(self.first_half) :]:
            always_equal = self.edit(always_equal, x.answer_id, after=f"{x.variable} = AlwaysEqual()")
        setup = grade_id(next(c for c in self.release.cells if nbgrader_meta(c).get("locked")))
        unanswered = [x for x in q if x not in self.first_half]
        return {
            "right": Case(self.solved(), expected=self.full()),
            "blank": Case(copy.deepcopy(self.release), expected=self.zero()),
            "tests_edited_to_pass": Case(self.replace_tests(half), expected=self.only(self.first_half)),
            "tests_deleted": Case(self.delete(half, tests), expected=self.only(self.first_half)),
            "answer_and_test_deleted": Case(
                self.delete(half, tests + [unanswered[0].answer_id]), expected=self.only(self.first_half)
            ),
            "infinite_loop": Case(
                self.edit(self.solved(), k.answer_id, before=INFINITE_LOOP),
                expected=self.only(x for x in q if x is not k),
            ),
            "unresponsive_kernel": Case(
                self.edit(self.solved(), k.answer_id, before=DEAF_LOOP), expected=self.only(before_k)
            ),
            "kernel_killed": Case(
                self.insert_after(self.solved(), k.answer_id, KILL_KERNEL), expected=self.only(before_k)
            ),
            "kernel_exit": Case(self.edit(self.solved(), k.answer_id, after=EXIT_KERNEL), expected=self.only(before_k)),
            "tracebacks_hidden": Case(
                self.insert_after(half, setup, HIDE_TRACEBACKS), expected=self.only(self.first_half)
            ),
            "custom_exc": Case(self.insert_after(half, setup, SWALLOW_ERRORS), expected=self.only(self.first_half)),
            "fake_results": Case(self.insert_after(half, setup, FAKE_RESULTS), expected=self.only(self.first_half)),
            "always_equal": Case(
                self.insert_after(always_equal, setup, ALWAYS_EQUAL), expected=self.only(self.first_half)
            ),
            "million_lines": Case(self.edit(self.solved(), q[0].answer_id, before=MILLION_LINES), expected=self.full()),
            "not_json": Case(raw=BROKEN_JSON, expected=None),
            "missing_notebook": Case(files={"说明.txt": "笔记本忘了交。\n"}, expected=None),
            "extra_chinese_files": Case(
                self.solved(),
                files={
                    "客户拜访记录.txt": "3 月 5 日拜访了客户的生产副总。\n",
                    "我的笔记.ipynb": nbformat.writes(nbformat.v4.new_notebook()),
                },
                expected=self.full(),
            ),
        }


# ------------------------------------------------------------------ the gradebook
def gradebook_url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def grades(course: Path, student: str, assignment: str) -> dict[str, dict] | None:
    """{grade_id: {"auto": auto score, "manual": manual score, "max": points, "needs_manual": bool,
    "code": is a code cell}} of one submission; None when nbgrader recorded no submission."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(gradebook_url(course), "kam_course") as gb:
        try:
            notebook = gb.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return None
        return {
            g.cell.name: {
                "auto": g.auto_score,
                "manual": g.manual_score,
                "max": g.max_score,
                "needs_manual": g.needs_manual_grade,
                "code": g.cell.cell_type == "code",
            }
            for g in notebook.grades
        }


def test_scores(course: Path, student: str, assignment: str) -> dict[str, float] | None:
    """{test grade_id: auto score} of the autograded test cells; None if never graded.

    A submission nbgrader failed to grade keeps auto scores of None; they read as 0.
    """
    found = grades(course, student, assignment)
    if found is None:
        return None
    return {gid: float(g["auto"] or 0.0) for gid, g in found.items() if g["code"]}


test_scores.__test__ = False  # a helper, not a pytest test


def texts(paths: Iterable[Path]) -> Mapping[Path, str]:
    return {p: p.read_text(encoding="utf-8", errors="replace") for p in paths}


# ------------------------------------------------------------------ one graded cohort per test run
ADVERSARIAL = "ex03_relationship_tiers"
STEPS = {
    "generate": ("generate_assignment", "--force", "*"),
    "autograde": ("autograde", "*"),
    "feedback": ("generate_feedback", "*"),
}


@dataclass
class Cohort:
    """A copy of exercises/ after generate_assignment, autograde and generate_feedback.

    Students "right" and "blank" hand in every assignment; every student of
    ``Kit(course, ADVERSARIAL).adversarial_cases()`` hands in ADVERSARIAL. All are graded
    by ONE ``nbgrader autograde "*"``. Tests only read it: several workers share it.
    """

    course: Path
    cases: dict[str, Case]
    runs: dict[str, subprocess.CompletedProcess]


def graded_cohort(shared: Path) -> Cohort:
    """The graded cohort of this test run, built by the first process that asks for it.

    ``shared``: the run's folder shared by the pytest-xdist workers (``run_cache.run_folder``);
    the nbgrader runs' return codes and output are kept there for the other workers.
    """
    course, record = shared / "kam_cohort" / "course", shared / "kam_cohort" / "runs.json"
    with only_one(shared, "kam_cohort"):
        if not record.exists():
            _grade_cohort(course, record)
    runs = {name: subprocess.CompletedProcess(**run) for name, run in json.loads(record.read_text()).items()}
    if runs["generate"].returncode != 0:
        raise RuntimeError(runs["generate"].stderr[-3000:])
    return Cohort(course, Kit(course, ADVERSARIAL).adversarial_cases(), runs)


# The cohort's time limit per cell: its infinite loops need not run the trainer's 30 s.
CELL_TIMEOUT = 10


def _grade_cohort(course: Path, record: Path) -> None:
    with_cell_timeout(copy_clean_course(EXERCISES, course), CELL_TIMEOUT)
    runs = {}
    for name, args in STEPS.items():
        done = run_nbgrader(course, *args)
        runs[name] = {"args": done.args, "returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        if name == "generate":
            if done.returncode != 0:
                break
            for student, case in Kit(course, ADVERSARIAL).adversarial_cases().items():
                case.write(course, student, ADVERSARIAL)
            for assignment in ASSIGNMENTS:
                if assignment != ADVERSARIAL:
                    kit = Kit(course, assignment)
                    Case(kit.solved()).write(course, "right", assignment)
                    Case(copy.deepcopy(kit.release)).write(course, "blank", assignment)
    record.write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")
