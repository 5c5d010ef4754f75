"""exercises/ is an nbgrader course a trainer can use as is.

The source notebooks keep their grade ids and points; nbgrader's own commands generate
every learner version, validate the solutions (and fail the unanswered learner
versions), give the solutions full autograded points and an untouched learner version
zero; and nothing a learner receives holds a solution, a hidden test or a mark scheme.
The nbgrader runs are shared with test_grading_robustness.py (one cohort, one autograde).
"""

from __future__ import annotations

import os
import re

import pytest
from traitlets.config.loader import PyFileConfigLoader

from kamlib.grading.hidden_tests import LEAK_MARKERS, find_leaks
from kamlib.grading.regions import SOLUTION
from kamlib.grading.regions import region_lines as cell_region_lines
from tests.support.commands import run_nbgrader
from tests.support.courses import ASSIGNMENTS, EXERCISES
from tests.support.submissions import (
    grade_id,
    grades,
    hidden_lines,
    is_test,
    mark_scheme_lines,
    nbgrader_meta,
    read_notebook,
    solution_lines,
    source,
    test_scores,
    without_markers,
)

# Stable grade ids and points: trainers' gradebooks refer to them; change them only on purpose.
TESTS = {
    "ex01_concepts": {**{f"ex01_q{i}_test": 2 for i in range(1, 8)}},
    "ex02_roles": {**{f"ex02_q{i}_test": 2 for i in range(1, 8)}},
    "ex03_relationship_tiers": {
        "ex03_q1_test": 2,
        "ex03_q2_test": 2,
        "ex03_q3_test": 2,
        "ex03_q4_test": 3,
        "ex03_q5_test": 2,
        "ex03_q6_test": 2,
        "ex03_q7_test": 2,
    },
    "ex04_foundations": {**{f"ex04_q{i}_test": 2 for i in range(1, 8)}},
    "ex05_account_plan": {},
}
WRITTEN = {
    "ex01_concepts": {"ex01_q8_answer": 6},
    "ex02_roles": {"ex02_q8_answer": 6},
    "ex03_relationship_tiers": {"ex03_q8_answer": 5},
    "ex04_foundations": {"ex04_q8_answer": 6},
    "ex05_account_plan": {f"ex05_part{i}_answer": 4 for i in range(1, 6)},
}
TOTAL = 20


# ------------------------------------------------------------------ the source notebooks
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_ids_and_points_are_stable(assignment):
    nb = source(assignment)
    tests = {grade_id(c): nbgrader_meta(c)["points"] for c in nb.cells if is_test(c)}
    written = {
        grade_id(c): nbgrader_meta(c)["points"]
        for c in nb.cells
        if c.cell_type == "markdown" and nbgrader_meta(c).get("grade")
    }
    assert tests == TESTS[assignment]
    assert written == WRITTEN[assignment]
    assert sum(tests.values()) + sum(written.values()) == TOTAL


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebooks_are_clean_and_laid_out_for_nbgrader(assignment):
    nb = source(assignment)
    assert nb.metadata.kernelspec.name == "python3"
    previous = None
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "committed without outputs"
        meta = nbgrader_meta(cell)
        if is_test(cell):
            # nbgrader re-adds a deleted test cell after the cell before it in the source:
            # that must be its answer cell.
            assert nbgrader_meta(previous).get("solution"), grade_id(cell)
            visible, _, hidden = cell.source.partition("### BEGIN HIDDEN TESTS")
            assert "from kamlib.checks import check_" in visible
            assert hidden and "### END HIDDEN TESTS" in hidden
            first = next(line for line in hidden.split("\n") if line.startswith("assert"))
            assert first.startswith("assert type("), "the type is checked before the value"
        if cell.cell_type == "markdown" and meta.get("grade"):
            # A written answer sits right below its read-only question with a mark scheme.
            assert nbgrader_meta(previous).get("locked") and "### BEGIN MARK SCHEME" in previous.source
            assert "### END MARK SCHEME" in previous.source
        if nbgrader_meta(cell):
            previous = cell
        elif cell.cell_type == "code":
            previous = cell


def test_the_config_says_what_the_readme_says():
    saved = dict(os.environ)  # the config sets PATH and UTF-8 mode for nbgrader's kernels
    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(EXERCISES)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert config.CourseDirectory.course_id == "kam_course"
    assert config.CourseDirectory.db_url == f"sqlite:///{EXERCISES / 'gradebook.db'}"
    assert config.Execute.timeout == 30 and config.Execute.interrupt_on_timeout is True
    assert config.OverwriteCells.add_missing_cells is True
    assert config.LimitOutput.max_lines == 1000
    names = [cls.__name__ for cls in config.GenerateFeedback.preprocessors]
    assert names.index("GetGrades") < names.index("StripHiddenTests")
    readme = (EXERCISES / "README.md").read_text(encoding="utf-8")
    for assignment in ASSIGNMENTS:
        assert re.search(rf"`{assignment}`[^\n]*\| {TOTAL} \|", readme), assignment
    assert "nbgrader generate_assignment --force" in readme


# ------------------------------------------------------------------ nbgrader's commands
def test_generate_assignment_makes_every_learner_version(cohort):
    assert cohort.runs["generate"].returncode == 0, cohort.runs["generate"].stderr[-3000:]
    for assignment in ASSIGNMENTS:
        assert (cohort.course / "release" / assignment / f"{assignment}.ipynb").is_file()
        found = grades(cohort.course, "right", assignment)
        assert sum(g["max"] for g in found.values()) == TOTAL


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_learner_versions_hold_no_solution_hidden_test_or_mark_scheme(cohort, assignment):
    path = cohort.course / "release" / assignment / f"{assignment}.ipynb"
    nb = read_notebook(path)
    text = path.read_text(encoding="utf-8") + "\n".join(cell.source for cell in nb.cells)
    secrets = hidden_lines(assignment) + mark_scheme_lines(assignment) + solution_lines(assignment) + ["参考答案"]
    assert len(secrets) > 10, f"{assignment}: the instructor version's secrets were not found"
    assert find_leaks(text, tuple(secrets)) == []
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution"):
            assert "NotImplementedError" in cell.source or "在此写下你的答案" in cell.source


def test_validate_passes_on_every_solution_and_fails_on_every_learner_version(cohort):
    solutions = run_nbgrader(cohort.course, "validate", *(f"source/{a}/{a}.ipynb" for a in ASSIGNMENTS))
    learner = run_nbgrader(cohort.course, "validate", *(f"release/{a}/{a}.ipynb" for a in ASSIGNMENTS))
    assert solutions.stdout.count("Success! Your notebook passes all the tests.") == 5, solutions.stdout[-3000:]
    assert "Success!" not in learner.stdout
    assert learner.stdout.count("验证未通过") == 5, learner.stdout[-3000:]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_score_full_and_untouched_learner_versions_zero(cohort, assignment):
    assert test_scores(cohort.course, "right", assignment) == TESTS[assignment]
    assert test_scores(cohort.course, "blank", assignment) == {t: 0.0 for t in TESTS[assignment]}
    blank = grades(cohort.course, "blank", assignment)
    right = grades(cohort.course, "right", assignment)
    # Scored 0 by the tests, not left ungraded (test_scores reads an ungraded None as 0 too).
    assert {t: blank[t]["auto"] for t in TESTS[assignment]} == {t: 0 for t in TESTS[assignment]}
    for gid in WRITTEN[assignment]:
        assert blank[gid]["auto"] == 0 and not blank[gid]["needs_manual"]  # nothing written
        assert right[gid]["auto"] is None and right[gid]["needs_manual"]  # for the trainer


def test_feedback_holds_no_hidden_test_mark_scheme_or_solution(cohort):
    assert cohort.runs["feedback"].returncode == 0, cohort.runs["feedback"].stderr[-3000:]
    files = sorted((cohort.course / "feedback").glob("*/*/*.html"))
    assert len(files) >= 2 * len(ASSIGNMENTS)
    secrets = {a: tuple(hidden_lines(a) + mark_scheme_lines(a)) for a in ASSIGNMENTS}
    for path in files:
        assignment = path.parent.name
        text = path.read_text(encoding="utf-8")
        assert find_leaks(text, secrets[assignment]) == [], path
        assert "仅讲师可见" not in text, path
        if path.parent.parent.name == "blank":  # what the learner did not write: the solutions, the model answers
            assert find_leaks(text, (*solution_lines(assignment), "参考答案")) == [], path
    assert any(p.parent.parent.name == "blank" for p in files)


def test_markers_the_scan_looks_for_are_the_ones_nbgrader_uses():
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
        assert marker in LEAK_MARKERS
    assert all(hidden_lines(a) for a in ASSIGNMENTS[:4])
    assert all(mark_scheme_lines(a) for a in ASSIGNMENTS)


def test_feedback_shows_the_learner_their_hints_and_scores(cohort):
    path = cohort.course / "feedback" / "blank" / "ex03_relationship_tiers" / "ex03_relationship_tiers.html"
    text = path.read_text(encoding="utf-8")
    assert "得分 0.0 / 20.0" in text
    assert "结论：不正确" in text and "没有作答" in text
    right = cohort.course / "feedback" / "right" / "ex03_relationship_tiers" / "ex03_relationship_tiers.html"
    right = right.read_text(encoding="utf-8")
    assert "kam-verdict kam-right" in right and "kam-verdict kam-wrong" not in right
    assert "✔ tier_q1" not in right  # "写法正确……提交评分后才知道" is outdated once graded


# ------------------------------------------------------------------ what the graded cells judge
try:  # the shared vocabulary of topics, once it lives in the package
    from kamlib.grading.topics import TOPICS
except ImportError:
    TOPICS = (
        "concepts",
        "roles.account_manager",
        "roles.executive_sponsor",
        "roles.sales_manager",
        "roles.team",
        "tiers.types",
        "tiers.indicators",
        "tiers.rule",
        "foundations.know",
        "foundations.analyse",
        "foundations.prioritise",
        "foundations.direction",
        "foundations.proactive",
        "foundations.plan",
        "foundations.team",
        "account_plan",
    )


def graded_cells(assignment: str):
    return [c for c in source(assignment).cells if nbgrader_meta(c).get("grade")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_cell_carries_a_topic(assignment):
    untagged = {
        grade_id(c): c.metadata.get("kam")
        for c in graded_cells(assignment)
        if c.metadata.get("kam", {}).get("topic") not in TOPICS
    }
    assert not untagged, untagged


def _free_names(code: str) -> set[str]:
    """Names a cell reads without importing or assigning them itself (builtins excluded)."""
    import ast
    import builtins

    tree = ast.parse(code)
    bound = {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    bound |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used - bound - set(dir(builtins))


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:4])
def test_test_cells_read_only_their_answer(assignment):
    """Hidden tests run on the answer's value in a trusted process: no other notebook state."""
    for cell in source(assignment).cells:
        if is_test(cell):
            answer = re.search(r"check_\w+\((\w+)", cell.source)
            assert answer, f"{grade_id(cell)}: no visible check_…(answer) call"
            assert _free_names(cell.source) == {answer[1]}, (grade_id(cell), _free_names(cell.source))


def _score(cell_source: str, **answer) -> float:
    """Run a test cell on an answer and return its last expression (nbgrader's partial credit)."""
    import ast
    import contextlib
    import io

    tree = ast.parse(cell_source)
    last = tree.body.pop()
    assert isinstance(last, ast.Expr), "partial credit: the last line is the score"
    namespace = dict(answer)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(tree, "<test cell>", "exec"), namespace)
        return eval(compile(ast.Expression(last.value), "<score>", "eval"), namespace)


def test_indicator_scoring_gives_credit_per_indicator():
    """ex03 Q4: one defensible disagreement costs half a point, not the question."""
    nb = source("ex03_relationship_tiers")
    test = next(c for c in nb.cells if grade_id(c) == "ex03_q4_test")
    solution = next(c for c in nb.cells if grade_id(c) == "ex03_q4_answer")
    namespace: dict = {}
    exec(without_markers(solution.source), namespace)
    right = namespace["scores_q4"]
    assert _score(test.source, scores_q4=right) == 3
    for key in right:
        one_off = {**right, key: right[key] % 4 + 1}
        assert _score(test.source, scores_q4=one_off) == 2.5, key
    assert _score(test.source, scores_q4={k: 4 if v != 4 else 1 for k, v in right.items()}) == 0


def test_scenario_of_indicator_scoring_is_consistent():
    """ex03 Q4: no agreement on price while every contract is still fought for (issue: price 3, contract 1)."""
    nb = source("ex03_relationship_tiers")
    solution = next(c for c in nb.cells if grade_id(c) == "ex03_q4_answer")
    namespace: dict = {}
    exec(without_markers(solution.source), namespace)
    scores = namespace["scores_q4"]
    assert not (scores["pricing"] >= 3 and scores["contract"] <= 2), scores


def _questions(assignment: str) -> list[str]:
    return [c.source for c in source(assignment).cells if c.cell_type == "markdown" and c.source.startswith("### 第")]


def test_no_later_question_says_which_tier_a_named_customer_is():
    """A question about 客户甲 … 客户辛 is not answered by a later question's wording."""
    from kamlib.tiers import Tier

    named = []
    for assignment in ASSIGNMENTS:
        questions = _questions(assignment)
        for i, text in enumerate(questions):
            later = "\n".join(questions[i + 1 :])
            for word in re.findall(r"客户[甲乙丙丁戊己庚辛]", text):
                named.append(word)
                for tier in Tier:
                    assert not re.search(rf"{word}[^。\n]*(被判定为|是|属于){tier.label_zh}", later), (word, tier)
    assert len(set(named)) >= 5, "the named customers of the relationship-tier exercise were not found"


def test_no_later_question_states_a_count_an_earlier_one_asks_for():
    """The counts of customers asked for (government customers; the fewest that make 80 % of
    sales) appear in no later question of the same exercise."""
    from kamlib.data import load_accounts
    from kamlib.priorities import smallest_set_for_share

    accounts = load_accounts()
    counts = {
        ("ex01_concepts", "第 7 题"): int((accounts["customer_type"] == "政府").sum()),
        ("ex04_foundations", "第 4 题"): len(smallest_set_for_share(accounts, 0.8)),
    }
    for (assignment, title), count in counts.items():
        questions = _questions(assignment)
        asking = next(i for i, text in enumerate(questions) if text.startswith(f"### {title}"))
        assert "家" in questions[asking] or "几" in questions[asking], (assignment, title)
        for later in questions[asking + 1 :]:
            assert not re.search(rf"(?<![\d.]){count}\s*家", later), (assignment, title, count, later[:80])


def test_at_most_a_few_autograded_points_grade_writing_code():
    """Most autograded points judge the deck; code is one obvious line, taught in a lesson first."""
    coding = []
    for assignment in ASSIGNMENTS:
        nb = source(assignment)
        for cell in nb.cells:
            if nbgrader_meta(cell).get("solution") and cell.cell_type == "code":
                inside = re.sub(r"\bTier\.[A-Z_]+", "", "\n".join(cell_region_lines(cell.source, *SOLUTION)))
                if re.search(r"[\w\]\)]\s*[\.\[(]", inside):  # a call, an index or an attribute
                    coding.append(grade_id(cell))
    assert coding == ["ex04_q4_answer"], coding


# ------------------------------------------------------------------ reference answers agree with the data
def _cell_text(assignment: str, gid: str) -> str:
    return next(c.source for c in source(assignment).cells if grade_id(c) == gid)


def _a30():
    from kamlib.data import load_accounts

    accounts = load_accounts().set_index("account_id")
    return accounts, accounts.loc["A30"]


def test_growth_goals_for_a30_imply_a_growing_customer():
    """Issue: 600 万 at 35 % and 560 万 at 30 % meant A30 buys less in total, yet it grows."""
    from pathlib import Path

    import nbformat

    _, a30 = _a30()
    now = a30["annual_revenue"] / a30["share_of_wallet"]  # the customer's purchases today
    lesson = nbformat.read(Path(__file__).resolve().parents[1] / "course" / "04_foundations.ipynb", as_version=4)
    texts = ["\n".join(c.source for c in lesson.cells), _cell_text("ex05_account_plan", "ex05_part3_answer")]
    for text in texts:
        share = re.search(r"提高到 (\d+)%", text)
        sales = re.search(r"销售额达到约 (\d+) 万元", text)
        assert share and sales, text[:200]
        goal = int(sales[1]) / (int(share[1]) / 100)
        assert goal > now, (goal, now)


def test_account_plan_reference_data_is_the_case_data():
    from kamlib.data import load_accounts
    from kamlib.priorities import service_plan
    from kamlib.tiers import INDICATORS

    accounts, a30 = _a30()
    scheme = _cell_text("ex05_account_plan", "ex05_part1_question")
    for key, indicator in INDICATORS.items():
        assert f"{indicator.label_zh} {int(a30[key])}" in scheme, indicator.label_zh
    plan = service_plan(load_accounts(), 400)
    part2 = _cell_text("ex05_account_plan", "ex05_part2_question")
    assert f"分到 {plan.loc['A30', 'hours']} 小时" in part2
    assert f"优先得分排名第 {list(plan.index).index('A30') + 1}" in part2


def test_account_plan_parts_raise_the_same_indicators():
    """Issue: Part 1 named competition and information, Part 3 price and contract."""
    from kamlib.tiers import INDICATORS

    labels = [ind.label_zh for ind in INDICATORS.values()]
    part1 = _cell_text("ex05_account_plan", "ex05_part1_answer").split("最需要补强的是")[1].split("：")[0]
    part3 = re.findall(r"（([^）]*)升到第 3 级）", _cell_text("ex05_account_plan", "ex05_part3_answer"))[0]
    assert {x for x in labels if x in part1} == {x for x in labels if x in part3} != set()


def test_a31_reference_matches_its_tier_and_contacts():
    """Issue: ex02 Q8's reference called A31 not yet a partner without top-level contact."""
    from kamlib.data import load_accounts, load_contacts
    from kamlib.tiers import classify_accounts

    accounts = classify_accounts(load_accounts()).set_index("account_id")
    contacts = load_contacts()
    top = contacts[(contacts["account_id"] == "A31") & (contacts["level"] == "高层")]
    reference = _cell_text("ex02_roles", "ex02_q8_answer")
    assert f"已经是{accounts.loc['A31', 'tier_label']}" in reference
    assert not top.empty and top.iloc[0]["title"] in reference
