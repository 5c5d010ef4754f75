"""Broken and adversarial submissions are graded as they deserve; the rest of the cohort is not
disturbed. One ``nbgrader autograde "*"`` grades the whole cohort (see submissions.graded_cohort);
scores are read from the gradebook. The cases and their deserved scores are defined in
submissions.Kit.adversarial_cases (on ex03_relationship_tiers: 7 autograded tests, 15 points).
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from kamlib.grading.hidden_tests import SAFE_ERRORS, find_leaks, strip_notebook
from tests.support.submissions import ADVERSARIAL, CELL_TIMEOUT, grades, hidden_lines, read_notebook, test_scores

GRADED = [
    "right",
    "blank",
    "tests_edited_to_pass",
    "tests_deleted",
    "answer_and_test_deleted",
    "infinite_loop",
    "unresponsive_kernel",
    "kernel_killed",
    "kernel_exit",
    "tracebacks_hidden",
    "custom_exc",
    "fake_results",
    "always_equal",
    "million_lines",
    "extra_chinese_files",
]


def autograded(cohort, student):
    return read_notebook(cohort.course / "autograded" / student / ADVERSARIAL / f"{ADVERSARIAL}.ipynb")


def cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def test_the_cases_cover_what_they_claim(cohort):
    assert set(cohort.cases) == {*GRADED, "not_json", "missing_notebook"}
    full, half = cohort.cases["right"].expected, cohort.cases["tests_deleted"].expected
    assert sum(full.values()) == 15 and 0 < sum(half.values()) < 15  # the cases tell right from wrong


@pytest.mark.parametrize("student", GRADED)
def test_each_submission_gets_exactly_the_score_it_deserves(cohort, student):
    assert test_scores(cohort.course, student, ADVERSARIAL) == cohort.cases[student].expected


def test_one_broken_notebook_is_reported_and_the_cohort_is_graded(cohort):
    run = cohort.runs["autograde"]
    assert run.returncode == 1  # nbgrader says some submission failed...
    assert "for student 'not_json'" in run.stderr  # ...names it...
    failed = [line for line in run.stderr.splitlines() if "There was an error processing assignment '" in line]
    assert len(failed) == 1, failed  # ...and only it: kernels dying are not failures
    for assignment in ("ex01_concepts", "ex02_roles", "ex04_foundations", "ex05_account_plan"):
        assert grades(cohort.course, "right", assignment) is not None


def test_a_notebook_that_is_not_json_scores_zero_and_is_flagged(cohort):
    found = grades(cohort.course, "not_json", ADVERSARIAL)
    assert found and all(g["auto"] is None and g["needs_manual"] for g in found.values())  # score 0, flagged
    assert not (cohort.course / "autograded" / "not_json" / ADVERSARIAL).exists()


def test_a_missing_notebook_records_nothing(cohort):
    assert grades(cohort.course, "missing_notebook", ADVERSARIAL) is None
    assert "No notebooks were matched by" in cohort.runs["autograde"].stderr


def test_edited_and_deleted_test_cells_are_restored_with_their_hidden_tests(cohort):
    for student in ("tests_edited_to_pass", "tests_deleted", "answer_and_test_deleted"):
        nb = autograded(cohort, student)
        for gid in cohort.cases["right"].expected:
            assert "### BEGIN HIDDEN TESTS" in cell(nb, gid).source, (student, gid)


def test_an_infinite_loop_is_interrupted_after_30_seconds_with_a_chinese_message(cohort):
    nb = autograded(cohort, "infinite_loop")
    loop = next(c for c in nb.cells if "while True" in c.source)
    errors = [o for o in loop.outputs if o.output_type == "error"]
    assert any(o.ename == "CellTimeoutError" and f"超过 {CELL_TIMEOUT} 秒" in o.traceback[0] for o in errors)


@pytest.mark.parametrize(
    "student, error",
    [
        ("kernel_killed", "DeadKernelError"),
        ("kernel_exit", "DeadKernelError"),
        ("unresponsive_kernel", "CellTimeoutError"),
    ],
)
def test_a_dead_or_deaf_kernel_fails_its_cell_and_marks_the_rest_not_executed(cohort, student, error):
    nb = autograded(cohort, student)
    names = [o.ename for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert names.count(error) == 1
    first = names.index(error)
    assert names[first + 1 :] and set(names[first + 1 :]) == {"CellNotExecuted"}


def test_a_million_printed_lines_keep_1000_in_the_autograded_notebook(cohort):
    nb = autograded(cohort, "million_lines")
    loud = next(c for c in nb.cells if "range(1_000_000)" in c.source)
    printed = "".join(o.text for o in loud.outputs if o.output_type == "stream")
    assert printed.count("\n") <= 1000 and printed.endswith("... Output truncated ...")


def test_extra_files_with_chinese_names_are_kept(cohort):
    folder = cohort.course / "autograded" / "extra_chinese_files" / ADVERSARIAL
    assert (folder / "客户拜访记录.txt").read_text(encoding="utf-8").startswith("3 月 5 日")
    assert (cohort.course / "feedback" / "extra_chinese_files" / ADVERSARIAL / "客户拜访记录.txt").is_file()


def test_feedback_of_every_graded_case_hides_the_tests(cohort):
    for student in GRADED:
        page = cohort.course / "feedback" / student / ADVERSARIAL / f"{ADVERSARIAL}.html"
        text = page.read_text(encoding="utf-8")
        assert find_leaks(text, tuple(hidden_lines(ADVERSARIAL))) == [], student


# ------------------------------------------------------------------ the stripping itself (no nbgrader run)
def _test_cell(source, outputs):
    c = new_code_cell(source, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})
    c.outputs = outputs
    return c


def test_strip_notebook_removes_hidden_tests_mark_schemes_and_telling_tracebacks():
    source = 'check(x)\n### BEGIN HIDDEN TESTS\nassert x == "秘密"\n### END HIDDEN TESTS'
    error = new_output(
        "error", ename="AssertionError", evalue="", traceback=['----> 3 assert x == "秘密"', "AssertionError: "]
    )
    hint = new_output("stream", name="stdout", text="✔ x 写法正确。\n")
    noise = new_output("stream", name="stderr", text='  assert x == "秘密"\n')
    safe = new_output("error", ename="CellTimeoutError", evalue="", traceback=["超时"])
    nb = nbformat.v4.new_notebook(
        cells=[
            _test_cell(source, [hint, noise, error, safe]),
            nbformat.v4.new_markdown_cell("问题\n### BEGIN MARK SCHEME\n要点：机密\n### END MARK SCHEME\n"),
            _test_cell('### BEGIN HIDDEN TESTS\nassert y == "暗号"', []),  # unterminated: cut to the end
        ]
    )
    text = nbformat.writes(strip_notebook(nb))
    assert "秘密" not in text and "机密" not in text and "暗号" not in text
    test = nb.cells[0]
    assert test.source == "check(x)"
    assert [o.output_type for o in test.outputs] == ["stream", "error", "error"]
    assert test.outputs[0].text == hint.text
    assert test.outputs[1].ename == "AssertionError" and "答案不正确" in test.outputs[1].traceback[0]
    assert test.outputs[2] == safe and "CellTimeoutError" in SAFE_ERRORS
    assert nb.cells[1].source.strip() == "问题"
    plain = nbformat.v4.new_notebook(cells=[_test_cell("x = 1", [error])])  # no hidden tests: kept
    assert strip_notebook(plain).cells[0].outputs == [error]


@pytest.mark.slow
def test_grade_and_solution_flags_come_back_from_the_gradebook(template):
    """A learner flips a graded answer to 'not an answer' and a test cell to 'not graded'."""
    from kamlib.grading.preprocessors import SafeOverwriteCells

    nb = read_notebook(template / "release" / "ps1" / "ps1.ipynb")
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}
    cells["essay"].metadata["nbgrader"]["solution"] = False
    cells["test_answer"].metadata["nbgrader"]["grade"] = False
    del cells["test_answer"].metadata["nbgrader"]["points"]
    cells["answer"].metadata["nbgrader"].update(grade=True, points=5)
    info = {"notebook": "ps1", "assignment": "ps1", "db_url": f"sqlite:///{template / 'gradebook.db'}"}
    nb, _ = SafeOverwriteCells().preprocess(nb, {"nbgrader": info})
    meta = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata}
    assert (meta["essay"]["grade"], meta["essay"]["solution"]) == (True, True)
    assert (meta["test_answer"]["grade"], meta["test_answer"]["solution"], meta["test_answer"]["points"]) == (
        True,
        False,
        2,
    )
    assert (meta["answer"]["grade"], meta["answer"]["solution"]) == (False, True)


def test_a_written_answer_s_html_is_shown_as_text_not_run():
    from kamlib.grading.preprocessors import _defuse_learner_html

    answer = nbformat.v4.new_markdown_cell(
        "客户很重要。<img src=x onerror=alert(1)><script>fetch('/formgrader')</script>",
        metadata={"nbgrader": {"solution": True, "grade": True, "grade_id": "essay", "points": 5}},
    )
    # the trainer's own text (a locked cell nbgrader restores from the gradebook) stays as written
    question = nbformat.v4.new_markdown_cell(
        "<b>第 8 题</b>", metadata={"nbgrader": {"locked": True, "grade_id": "q8", "solution": False, "grade": False}}
    )
    nb = nbformat.v4.new_notebook(cells=[question, answer])
    _defuse_learner_html(nb)
    assert nb.cells[0].source == "<b>第 8 题</b>"
    assert nb.cells[1].source.startswith("客户很重要。") and "<img" not in nb.cells[1].source
    assert "<script" not in nb.cells[1].source and "&lt;script&gt;" in nb.cells[1].source


def test_nothing_a_learner_wrote_runs_in_the_trainers_browser():
    """Text cells the learner added or edited (no gradebook copy to restore them from), links
    whose address runs code, and an image's size made into an HTML attribute: all rendered harmless."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from kamlib.grading.preprocessors import _defuse_learner_html

    added = nbformat.v4.new_markdown_cell('笔记 <svg onload="go()"></svg> <img src=x onerror="go()">')
    link = nbformat.v4.new_markdown_cell(
        "我的答案：[点我](javascript:go()) [再点](&#106;avascript:go()) <javascript:go()>",
        metadata={"nbgrader": {"solution": True, "grade": True, "grade_id": "essay", "points": 5}},
    )
    fine = nbformat.v4.new_markdown_cell("见 [课件](https://example.com/deck) 与 [第三课](03.ipynb)，a < b & c")
    image = nbformat.v4.new_output(
        "display_data",
        data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
        metadata={"image/png": {"width": "1 onerror=go()", "height": 300}, "kam": "x"},
    )
    code = nbformat.v4.new_code_cell("show()", outputs=[image])
    nb = nbformat.v4.new_notebook(cells=[added, link, fine, code])
    _defuse_learner_html(nb)
    shown = [markdown2html_mistune(c.source) for c in nb.cells[:3]]
    assert "<svg" not in shown[0] and "<img" not in shown[0] and "&lt;img" in shown[0], shown[0]
    assert "href" not in shown[1] and "[点我](javascript:go())" in shown[1], shown[1]
    assert nb.cells[2].source == fine.source  # harmless text and links are left as written
    assert nb.cells[3].outputs[0].metadata == {"image/png": {"height": 300}}


def test_find_leaks_sees_through_html_highlighting():
    page = '<span class="k">assert</span> <span class="n">x</span> <span class="o">==</span> <span class="mi">42</span>'
    assert find_leaks(page, ("assert x == 42",)) == ["assert x == 42"]
    assert find_leaks("### BEGIN HIDDEN TESTS", ()) == ["BEGIN HIDDEN TESTS"]
    assert find_leaks("check(x)", ("assert x == 42",)) == []


def test_a_forged_reply_of_the_kernel_is_not_parsed(monkeypatch):
    """The kernel replies with the repr of one JSON string. A forged list literal of millions of items
    cost the grader 450 times its length in memory to parse (outside the sandbox's limits): anything
    that is not a string literal of at most four times the export limit is refused unparsed."""
    import ast

    from kamlib.grading import preprocessors
    from kamlib.grading.answers import MAX_EXPORT_CHARS, AnswerFormatError, export

    good = repr(export(["x"], {"x": [1, "合作伙伴关系"]}))
    assert preprocessors._string_literal(good) == export(["x"], {"x": [1, "合作伙伴关系"]})
    parsed = []
    monkeypatch.setattr(ast, "literal_eval", lambda text: parsed.append(text))
    for forged in ("[" + "1," * 1000 + "]", "'" + "x" * (4 * MAX_EXPORT_CHARS) + "'", None, {"x": 1}):
        with pytest.raises(AnswerFormatError):
            preprocessors._string_literal(forged)
    assert parsed == []
    monkeypatch.undo()
    with pytest.raises(AnswerFormatError):
        preprocessors._string_literal("'a', 'b'")  # parses, but is not one string
