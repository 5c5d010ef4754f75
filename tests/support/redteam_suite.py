"""The red-team tests, shared by test_redteam_kam.py and test_redteam_nbgrader.py.

Each of those modules defines a ``grader`` fixture ("kam" or "nbgrader") and imports
these tests, so the same hostile cohort is graded by ``kam grade --jobs 2`` and by plain
``nbgrader autograde`` (both use exercises/nbgrader_config.py), in parallel test workers.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kamlib.grading.answer_store import read_answers

from .commands import BIN, run_nbgrader, tool_env
from .courses import EXERCISES, LEARNER_CONFIG, copy_clean_course, with_cell_timeout
from .redteam import (
    CANARY,
    SECRET_ENV,
    XSS,
    LoopbackServer,
    Plant,
    hostile_cases,
    scripts_in_text_cells,
    tree_digest,
    write_case,
)
from .submissions import ADVERSARIAL, CELL_TIMEOUT, Case, Kit, read_notebook, test_scores

ATTEMPTS = {
    "read_answer_key": 3,
    "read_gradebook": 1,
    "write_gradebook": 1,
    "write_course_root": 2,
    "read_graded_copy": 1,
    "read_other_learner": 1,
    "write_other_learner": 1,
    "read_trainer_home": 2,
    "environment": 1,
    "proc_environ": 1,
    "loopback_server": 1,
    "memory_bomb": 1,
    "fork_bomb": 1,
    "thread_bomb": 1,
    "disk_bomb": 1,
    "tmp_bomb": 1,
    "dev_bomb": 2,
    "keyring": 2,
    "privilege_escape": 3,
    "symlink_to_answer_key": 1,
}


@dataclass
class Attacked:
    course: Path
    home: Path
    cases: dict
    run: subprocess.CompletedProcess
    before: dict
    after: dict
    connections: int


def _digests(course: Path, home: Path) -> dict:
    return {
        "source": tree_digest(course / "source"),
        "submitted": tree_digest(course / "submitted"),
        "release": tree_digest(course / "release"),
        "home": tree_digest(home),
        "root": {k: v for k, v in tree_digest(course).items() if "/" not in k and not k.startswith("gradebook.db")},
    }


@pytest.fixture(scope="module")
def attacked(grader, tmp_path_factory) -> Attacked:
    base = tmp_path_factory.mktemp(f"redteam-{grader}")
    # The cohort's shorter time limit per cell: a kernel broken on purpose (patched_builtins)
    # answers nothing and need not sit out the trainer's 30 s.
    course = with_cell_timeout(copy_clean_course(EXERCISES, base / "course"), CELL_TIMEOUT)
    generated = run_nbgrader(course, "generate_assignment", "--force", ADVERSARIAL)
    assert generated.returncode == 0, generated.stderr[-2000:]
    home = base / "home"
    home.mkdir()
    (home / "secret.txt").write_text(f"{CANARY}-home", encoding="utf-8")
    (course / "trainer_notes.txt").write_text(f"{CANARY}-course", encoding="utf-8")
    server = LoopbackServer()
    try:
        kit = Kit(course, ADVERSARIAL)
        cases = hostile_cases(kit, Plant(course, home, server.port))
        cases["right"] = (Case(kit.solved(), expected=kit.full()), {})
        cases["blank"] = (Case(kit.release, expected=kit.zero()), {})
        cases["slips"] = (kit.slips(), {})  # explained in Chinese to the learner, scored as before
        cases["slips_probe"] = (kit.slips_probe(), {})  # the grading kernel did not start with kamlib.slips
        cases["scripts_in_text_cells"] = (scripts_in_text_cells(kit), {})
        for student, (case, links) in cases.items():
            write_case(course, student, case, links)
        before = _digests(course, home)
        # A learner's server settings on the config path too: grading kernels must not take them.
        env = {**tool_env(), **SECRET_ENV, "HOME": str(home), "JUPYTER_CONFIG_PATH": str(LEARNER_CONFIG)}
        command = (
            [str(BIN / "kam"), "grade", ADVERSARIAL, "--jobs", "2"]
            if grader == "kam"
            else [str(BIN / "nbgrader"), "autograde", ADVERSARIAL]
        )
        run = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True, timeout=1200)
    finally:
        server.close()
    return Attacked(
        course, home, {s: c for s, (c, _) in cases.items()}, run, before, _digests(course, home), server.connections
    )


def _outputs(attacked: Attacked, student: str) -> str:
    nb = read_notebook(attacked.course / "autograded" / student / ADVERSARIAL / f"{ADVERSARIAL}.ipynb")
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                # One print may reach the notebook as several stream outputs: join them as printed.
                texts.append(out.get("text", ""))
            else:
                texts.append("\n" + "".join(out.get("traceback", [])) + str(out.get("data", "")) + "\n")
        texts.append("\n")
    return "".join(texts)


# Submissions refused as a whole (the notebook handed in is a link to the answer key; a file
# that is a link to a device), each with its reason in Chinese.
REFUSED = {"linked_notebook", "device_behind_link"}


def test_the_whole_cohort_is_graded_but_the_refused_submission(attacked):
    printed = attacked.run.stdout + attacked.run.stderr
    assert attacked.run.returncode == 1, printed[-3000:]  # one submission was not graded, and it says so
    assert len(attacked.cases) >= 29
    for student in attacked.cases:
        graded = (attacked.course / "autograded" / student / ADVERSARIAL / f"{ADVERSARIAL}.ipynb").is_file()
        assert graded == (student not in REFUSED), student
    lines = printed.splitlines()
    reasons = [line for line in lines if "符号链接" in line and "不予评分" in line]
    assert reasons and all("linked_notebook" in line for line in reasons if line.startswith("✗")), printed[-3000:]
    device = [line for line in lines if "device_behind_link" in line and "zero.bin 不是普通文件" in line]
    assert device, printed[-3000:]  # refused before nbgrader copied anything: no endless copy


def test_every_submission_gets_exactly_the_score_it_deserves(attacked):
    wrong = {
        s: (test_scores(attacked.course, s, ADVERSARIAL), c.expected)
        for s, c in attacked.cases.items()
        if test_scores(attacked.course, s, ADVERSARIAL) != c.expected
        and not (s in REFUSED and test_scores(attacked.course, s, ADVERSARIAL) is None)  # nothing recorded
    }
    assert wrong == {}
    full = sum(attacked.cases["right"].expected.values())
    assert full == 15 and sum(test_scores(attacked.course, "right", ADVERSARIAL).values()) == full


# Exceptions that mean the attack's own code is wrong, not that the sandbox stopped it.
BROKEN_ATTACK = re.compile(
    r"BLOCKED: \S+ (TypeError|NameError|SyntaxError|AttributeError|ImportError|ModuleNotFoundError|KeyError|IndexError)"
)


@pytest.mark.parametrize("student, attempts", sorted(ATTEMPTS.items()))
def test_each_attack_ran_and_was_stopped(attacked, student, attempts):
    printed = _outputs(attacked, student)
    assert "LEAKED:" not in printed, printed[:2000]
    assert printed.count("BLOCKED:") == attempts, printed[:2000]  # the attack did run, every attempt of it
    assert not BROKEN_ATTACK.search(printed), printed[:2000]  # and was stopped by the sandbox, not by a bug


def test_no_secret_reaches_any_file_a_grader_writes(attacked):
    for folder in ("autograded",):
        for path in (attacked.course / folder).rglob("*"):
            if path.is_file():
                assert CANARY not in path.read_text(encoding="utf-8", errors="replace"), path
    assert CANARY not in attacked.run.stdout + attacked.run.stderr


def test_trainer_files_and_other_learners_are_untouched(attacked):
    assert attacked.after == attacked.before
    assert not (attacked.course / "pwned.txt").exists()
    assert not (attacked.course / "autograded" / "symlink_to_answer_key" / ADVERSARIAL / "notes.txt").exists()


def test_nothing_a_learner_printed_can_run_in_the_trainers_browser(attacked):
    """The formgrader and the feedback pages render the autograded notebooks: plain text and images only."""
    safe = {"text/plain", "text/latex", "image/png", "image/jpeg", "application/json"}
    for student in set(attacked.cases) - REFUSED:
        nb = read_notebook(attacked.course / "autograded" / student / ADVERSARIAL / f"{ADVERSARIAL}.ipynb")
        kinds = {k for c in nb.cells for o in c.get("outputs", []) for k in o.get("data", {})}
        assert kinds <= safe, (student, kinds - safe)
    shown = _outputs(attacked, "script_for_the_trainer")
    for kind in ("Javascript", "HTML", "SVG"):  # each display kept as its plain text only
        assert f"<IPython.core.display.{kind} object>" in shown, shown[-2000:]
    assert "onerror" not in shown and "fetch(" not in shown and "<script" not in shown


def _formgrader_page(course: Path, student: str) -> str:
    """The autograded notebook as the formgrader shows it to the trainer (its exporter and template)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = dict(assignment_id=ADVERSARIAL, notebook_id=ADVERSARIAL, submission_id="1", index=0, total=1)
    resources.update(base_url="", student=student, last_name="", first_name="", notebook_path="x.ipynb")
    notebook = course / "autograded" / student / ADVERSARIAL / f"{ADVERSARIAL}.ipynb"
    return HTMLExporter(config=config).from_filename(str(notebook), resources=resources)[0]


def _runnable(page: str) -> list[str]:
    """Where the planted call sits in ``page`` where a browser would run it: in a tag (an event
    handler, a javascript: address, any attribute) or inside a script."""
    from html.parser import HTMLParser

    found = []

    class Finder(HTMLParser):
        script = False

        def handle_starttag(self, tag, attrs):
            found.extend(f"<{tag} {name}={value}>" for name, value in attrs if value and XSS in value)
            self.script = tag in ("script", "style")

        def handle_endtag(self, tag):
            self.script = False

        def handle_data(self, data):
            if self.script and XSS in data:
                found.append(f"<script>{data[:200]}")

    Finder().feed(page)
    return found


def test_nothing_a_learner_wrote_or_printed_runs_in_the_formgrader(attacked):
    """Scripts planted in outputs (an image's size among them), in text cells the learner added or
    edited and as javascript: links in the written answer: the formgrader's page shows them as text."""
    for student in ("script_for_the_trainer", "scripts_in_text_cells"):
        page = _formgrader_page(attacked.course, student)
        assert _runnable(page) == [], (student, _runnable(page))
    assert XSS in _formgrader_page(attacked.course, "scripts_in_text_cells")  # shown, as text


def test_the_loopback_server_was_never_reached(attacked):
    assert attacked.connections == 0


def test_bombs_hit_the_sandbox_limits(attacked):
    assert "BLOCKED: memory MemoryError" in _outputs(attacked, "memory_bomb")
    forks = _outputs(attacked, "fork_bomb")
    assert "BLOCKED: processes BlockingIOError" in forks
    assert int(forks.split("BLOCKED: processes BlockingIOError")[1].split()[0]) < 64
    assert "BLOCKED: disk OSError" in _outputs(attacked, "disk_bomb")


def test_answers_are_recorded_as_data_with_the_grade(attacked):
    url = f"sqlite:///{attacked.course / 'gradebook.db'}"
    answers = {(a.student, a.grade_id): a for a in read_answers(url, ADVERSARIAL)}
    right = {gid: answers[("right", gid)] for gid in attacked.cases["right"].expected}
    assert right["ex03_q1_test"].answer == "卖主关系" and not right["ex03_q1_test"].missing
    assert all(a.sandboxed and not a.missing for a in right.values())
    assert all(answers[("blank", gid)].missing for gid in attacked.cases["blank"].expected)
    assert answers[("fake_exporter", "ex03_q1_test")].missing  # a forged export is no answer
    assert answers[("run_cell_hook", "ex03_q1_test")].answer.startswith("（无法作为数据传出的对象")
