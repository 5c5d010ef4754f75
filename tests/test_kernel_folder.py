"""What the sandboxed kernel finds in its own folder while it is graded.

nbgrader's autograded notebook holds the test cells as the gradebook has them, hidden
tests included; the kernel's copy of the submission holds the learner's own notebook.
"""

from __future__ import annotations

from kamlib.grading.answer_store import read_answers
from tests.support.commands import run_kam
from tests.support.courses import clone_course
from tests.support.tiny_course import RIGHT, submit

PEEK = (
    "import glob\n"
    "text = ''.join(open(p, encoding='utf-8').read() for p in glob.glob('*.ipynb'))\n"
    "hidden = 'assert abs(share - 0.8) ' + '< 1e-9'\n"
    "share = 0.8 if 'answer = 42' in text and hidden not in text else 0.1"
)


def test_the_kernel_sees_the_learners_notebook_not_the_hidden_tests(template, tmp_path):
    course = clone_course(template, tmp_path / "course")
    submit(course, "alice", answers={**RIGHT, "share": PEEK})
    run = run_kam(course, "grade", "ps1")
    assert run.returncode == 0, run.stdout + run.stderr
    answers = {a.grade_id: a.answer for a in read_answers(f"sqlite:///{course / 'gradebook.db'}", "ps1")}
    assert answers["test_share"] == "0.8"
