"""The self-study build of the exercises: right or wrong at once, no answer in plain text, nothing overwritten."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kamlib import answer_key
from kamlib.grading.regions import HIDDEN, MARK_SCHEME, SOLUTION
from kamlib.grading.topics import review_pointer
from kamlib.grading.verdicts import names_used
from kamlib.selfstudy import FOLDER, build
from tests.support.courses import ASSIGNMENTS
from tests.support.submissions import hidden_lines, mark_scheme_lines, solution_lines, source

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
AUTOGRADED = ["ex01_concepts", "ex02_roles", "ex03_relationship_tiers", "ex04_foundations"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Wrong but well-formed answers, made from the right value by this kernel-side helper.
WRONG = """
from kamlib.roles import DUTIES
from kamlib.tiers import Tier as _Tier
def _wrong(value):
    roles = ["account_manager", "executive_sponsor", "sales_manager"]
    if type(value) is _Tier:
        return _Tier(int(value) % 4 + 1)
    if type(value) is str and value in roles:
        return roles[(roles.index(value) + 1) % 3]
    if type(value) is str:
        return "A" if value != "A" else "B"
    if type(value) is list:
        spare = next(d.id for d in DUTIES if d.id not in value)
        return value[:-1] + [spare]
    if type(value) is dict:
        return {k: v % 4 + 1 for k, v in value.items()}
    return value + 1
"""


def course_copy(dest: Path) -> Path:
    """A course root with the source notebooks and the config, as a clone has them."""
    root = dest / "exercises"
    root.mkdir(parents=True)
    shutil.copytree(EXERCISES / "source", root / "source")
    shutil.copy(EXERCISES / "nbgrader_config.py", root)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = course_copy(tmp_path_factory.mktemp("selfstudy"))
    build(root)
    return root


def _notebook(root: Path, assignment: str) -> Path:
    return root / FOLDER / assignment / f"{assignment}.ipynb"


def test_every_assignment_gets_a_self_study_notebook_and_nothing_else_is_made(built):
    for folder in sorted((EXERCISES / "source").iterdir()):
        assert _notebook(built, folder.name).exists()
    assert sorted(p.name for p in built.iterdir()) == ["nbgrader_config.py", FOLDER, "source"]


def test_no_solution_hidden_test_mark_scheme_or_explanation_in_plain_text(built):
    for assignment in ASSIGNMENTS:
        secrets = hidden_lines(assignment) + mark_scheme_lines(assignment) + solution_lines(assignment)
        secrets += [
            c.metadata["kam"]["explanation"]
            for c in source(assignment).cells
            if "explanation" in c.metadata.get("kam", {})
        ]
        assert len(secrets) > 20, f"{assignment}: the instructor version's secrets were not found"
        path = _notebook(built, assignment)
        # The file as stored and as read: in the JSON a quote is \", so `answer_1 = "B"` is found in the cells.
        built_nb = nbformat.read(path, as_version=4)
        text = "\n".join(
            [path.read_text(encoding="utf-8")]
            + [c.source + json.dumps(c.metadata, ensure_ascii=False) for c in built_nb.cells]
        )
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{assignment}: {leaked[:3]}"
        assert not any(marker in text for marker in (*SOLUTION, *HIDDEN, *MARK_SCHEME))
        assert '"explanation"' not in text


def test_rebuilding_keeps_an_answered_notebook(built):
    path = _notebook(built, "ex03_relationship_tiers")
    nb = nbformat.read(path, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex03_q1_answer")
    answer.source = "tier_q1 = Tier.VENDOR"
    nbformat.write(nb, path)
    before = path.read_bytes()
    results = dict(build(built))
    assert results[path] is False and path.read_bytes() == before
    path.unlink()  # a deleted notebook is made again
    assert dict(build(built))[path] is True


def answered(root: Path, assignment: str, wrong: bool) -> nbformat.NotebookNode:
    """The self-study notebook with the source's solutions typed in (then spoiled when ``wrong``)."""
    source = nbformat.read(EXERCISES / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    tests = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }
    nb = nbformat.read(_notebook(root, assignment), as_version=4)
    cells = [nbformat.v4.new_code_cell(WRONG)] if wrong else []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in solutions:
            cell.source = solutions[gid].replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", "")
        if gid in tests and wrong:
            spoil = "\n".join(f"{n} = _wrong({n})" for n in names_used(tests[gid]))
            cells.append(nbformat.v4.new_code_cell(spoil))
        cells.append(cell)
    if wrong:  # the setup cell must run before the helper
        cells.insert(0, cells.pop(next(i for i, c in enumerate(cells) if "nbgrader" in c.metadata)))
    nb.cells = cells
    return nb


def _run(nb, folder: Path, tmp_path: Path) -> list[tuple[str, str]]:
    """(grade_id, printed text) of each check cell, after running ``nb`` top to bottom in a fresh kernel."""
    NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
    ).execute()
    return check_outputs(nb)


def check_outputs(nb) -> list[tuple[str, str]]:
    """(grade_id, printed text and Chinese error) of each check cell of an executed notebook."""
    found = []
    for cell in nb.cells:
        info = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and info.get("grade"):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            errors = [ANSI.sub("", "".join(o.traceback)) for o in cell.outputs if o.output_type == "error"]
            found.append((info["grade_id"], text + "".join(errors)))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["ex03_relationship_tiers"])
def test_right_answers_get_a_tick_and_wrong_ones_a_cross_with_a_review_hint(built, assignment, tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(tmp_path / "progress.json"))
    folder = _notebook(built, assignment).parent
    right = _run(answered(built, assignment, wrong=False), folder, tmp_path)
    assert right and all("\n✔ 正确" in text and "✗" not in text for _, text in right), right
    progress = json.loads((tmp_path / "progress.json").read_text(encoding="utf-8"))
    assert progress["exercises"][assignment]["total"] == len(right)
    assert sorted(progress["exercises"][assignment]["done"]) == sorted(g for g, _ in right)
    wrong = _run(answered(built, assignment, wrong=True), folder, tmp_path)
    assert len(wrong) == len(right)
    topics = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata.get("kam", {}).get("topic")
        for c in source(assignment).cells
        if "nbgrader" in c.metadata
    }
    for gid, text in wrong:
        assert "\n✗ 还不对" in text and "✔ 正确" not in text, (gid, text)
        assert review_pointer(topics[gid]).startswith("复习：第三课") and review_pointer(topics[gid]) in text, (
            gid,
            text,
        )
        assert "Traceback" not in text


@pytest.mark.slow
def test_unanswered_question_says_so_in_chinese(built, tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(tmp_path / "progress.json"))
    folder = _notebook(built, "ex01_concepts").parent
    nb = nbformat.read(_notebook(built, "ex01_concepts"), as_version=4)
    checks = _run(nb, folder, tmp_path)
    assert checks
    for gid, text in checks:
        assert "还没有作答" in text and "请先运行上面的单元格" in text, (gid, text)
        assert "Traceback" not in text and "NameError" not in text


def test_a_key_is_opaque_and_round_trips():
    value = {"answer": ["B"], "explanation": "政府或其他企业"}
    key = answer_key.encode(value)
    assert "政府" not in key and '"B"' not in key and key.startswith("kam1:")
    assert answer_key.decode(key) == value
    with pytest.raises(answer_key.AnswerKeyError, match="答案密钥"):
        answer_key.decode(key[:-6] + "AAAAAA")


@pytest.mark.slow
def test_validate_flags_every_unanswered_question_in_chinese(built):
    """nbgrader's Validate on an unfinished self-study notebook: every question named, no traceback."""
    from tests.support.commands import run_nbgrader

    nb = f"{FOLDER}/ex03_relationship_tiers/ex03_relationship_tiers.ipynb"
    fresh = built.parent / "validate"
    shutil.copytree(built, fresh)
    answered_one = nbformat.read(fresh / nb, as_version=4)
    for cell in answered_one.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex03_q1_answer":
            cell.source = "tier_q1 = Tier.STRATEGIC_ALLIANCE"  # answered (wrongly): not flagged
    nbformat.write(answered_one, fresh / nb)
    run = run_nbgrader(fresh, "validate", nb)
    out = ANSI.sub("", run.stdout)
    assert "验证未通过" in out and "不检查答案对不对" in out, out[-3000:]
    for number in range(2, 8):
        assert f"第 {number} 题还没有作答" in out, number
    assert "第 1 题还没有作答" not in out
    assert out.count("这道题还没有作答：请在这个单元格里写下答案，并删除 raise NotImplementedError()") == 6
    # The written question 8 runs no code: Validate knows it unanswered by its checksum, as in
    # the trainer's release (the toolbar's 验证 names it; see lab/validate).
    [written] = [block for block in out.split("=" * 40) if "（在此写下你的答案）" in block]
    assert "You did not provide a response" in written, written
    assert "Traceback" not in out


def test_written_question_shows_the_mark_scheme_once_answered(built, capsys):
    from kamlib.selfstudy import self_assess

    path = _notebook(built, "ex03_relationship_tiers")
    nb = nbformat.read(path, as_version=4)
    [cell] = [c for c in nb.cells if "self_assess(" in c.source]
    key = re.search(r'self_assess\("([^"]+)"\)', cell.source).group(1)
    self_assess(key, path.parent)
    out = capsys.readouterr().out
    assert "先在上面的答案单元格里写下你的答案" in out and "☐" not in out
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex03_q8_answer")
    answer.source = "价格要纳入框架协议一起谈；在客户内部办技术交流会。"
    nbformat.write(nb, path)
    self_assess(key, path.parent)
    out = capsys.readouterr().out
    items = [line for line in out.splitlines() if line.startswith("☐ ")]
    assert len(items) == 3 and "课件描述" in items[0] and "仅讲师可见" not in out, out


def test_explain_on_request(built, capsys):
    from kamlib.selfstudy import check, explain

    path = _notebook(built, "ex03_relationship_tiers")
    keys = [
        re.search(r'check\("([^"]+)"\)', c.source).group(1)
        for c in nbformat.read(path, as_version=4).cells
        if 'check("' in c.source
    ]
    explain(1)
    assert "请先运行这道题的检查单元格" in capsys.readouterr().out
    from kamlib.tiers import Tier

    check(keys[0], {"tier_q1": Tier.PARTNERSHIP})
    out = capsys.readouterr().out
    assert "✗ 还不对" in out and "讲解：" not in out and "explain(1)" in out
    explain(1)
    assert capsys.readouterr().out.startswith("讲解：")


def test_the_explanation_comes_after_three_wrong_tries(built, capsys):
    from kamlib.selfstudy import MAX_TRIES, check
    from kamlib.tiers import Tier

    path = _notebook(built, "ex03_relationship_tiers")
    keys = [
        re.search(r'check\("([^"]+)"\)', c.source).group(1)
        for c in nbformat.read(path, as_version=4).cells
        if 'check("' in c.source
    ]
    outs = []
    for _ in range(MAX_TRIES):
        check(keys[6], {"tier_q7": Tier.VENDOR})
        outs.append(capsys.readouterr().out)
    assert all("讲解：" not in o for o in outs[:-1]) and "讲解：" in outs[-1]
    check(keys[6], {"tier_q7": Tier.STRATEGIC_ALLIANCE})
    assert "✔ 正确" in capsys.readouterr().out
