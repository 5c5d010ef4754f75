"""Novice slips explained in Chinese in the notebook, and graded exactly as before."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from kamlib.slips import LearnerKernelSpec, QuestionError, explain
from kamlib.tiers import Tier
from tests.support.courses import LEARNER_CONFIG

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BIN = Path(sys.executable).parent


def _error_of(code: str) -> BaseException:
    try:
        exec(compile(code, "<cell>", "exec"), {"Tier": Tier})
    except BaseException as exc:  # noqa: BLE001 (the slip under test)
        return exc
    raise AssertionError(f"{code!r} did not fail")


@pytest.mark.parametrize(
    "code, words",
    [
        ("tier_q1 = Tier.partnership", ["全大写", "Tier.PARTNERSHIP"]),
        ("tier_q1 = Tier.partner", ["全大写", "Tier.STRATEGIC_ALLIANCE"]),
        ("tier_q1 = Tier.VENDOR：", ["中文标点", "“：”", "英文输入法"]),
        ('scores = {"competition"： 2}', ["中文标点", "“：”"]),
        ("answer_1 = “B”", ["中文标点", "“”"[0]]),
        ("print（1）", ["中文标点", "“（”"]),
        ("raise NotImplementedError()", ["还没有作答", "raise NotImplementedError()"]),
        ("x = tier_q1", ["找不到 tier_q1", "请先运行上面的单元格"]),
        ("del Tier\nx = Tier.VENDOR", ["找不到 Tier", "请先运行上面的单元格"]),
        ("assert False, '请按上面的提示修改答案。'", ["请按上面的提示修改答案"]),
    ],
)
def test_each_slip_gets_a_chinese_explanation(code, words):
    text = explain(_error_of(code))
    assert text is not None and all(w in text for w in words), text


@pytest.mark.parametrize("code", ["1 / 0", "[].pop()", "assert 1 == 2", "int('x')"])
def test_other_errors_keep_pythons_traceback(code):
    assert explain(_error_of(code)) is None


@pytest.mark.slow
def test_in_a_kernel_the_cell_still_fails_but_shows_chinese(tmp_path):
    cells = [
        "import kamlib.checks",
        "tier_q1 = Tier.partnership",
        "from kamlib.tiers import Tier",
        "tier_q1 = Tier.partnership",
        "tier_q1 = Tier.VENDOR：",
        "raise NotImplementedError()",
        "print(tier_q2)",
        "1 / 0",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [[o for o in c.outputs if o.output_type == "error"] for c in nb.cells]
    assert errors[0] == [] and errors[2] == []
    expected = {
        1: ("NameError", "找不到 Tier"),
        3: ("AttributeError", "全大写"),
        4: ("SyntaxError", "中文标点"),
        5: ("NotImplementedError", "还没有作答"),
        6: ("NameError", "找不到 tier_q2"),
    }
    for index, (ename, words) in expected.items():
        [error] = errors[index]
        text = ANSI.sub("", "\n".join(error.traceback))
        assert error.ename == ename and words in text and "Traceback" not in text, (index, text)
    [other] = errors[7]
    assert other.ename == "ZeroDivisionError" and "Traceback" in ANSI.sub("", "\n".join(other.traceback))


def test_question_error_is_shown_as_its_message():
    assert explain(QuestionError("第 1 题还没有作答")) == "第 1 题还没有作答"


# A submission full of slips, and a probe that scores only if its grading kernel did not start
# with kamlib.slips, are graded with the red team's cohort (Kit.slips and Kit.slips_probe in
# tests/support/submissions.py), whose graders run with a learner's settings (deploy/learner)
# on their Jupyter config path: each slip scores 0, as before, and the probe full marks.


def test_a_learner_servers_kernels_load_the_slips_extension():
    """deploy/learner's server setting (also make lab's) adds the extension to IPython kernels only."""
    config = json.loads((LEARNER_CONFIG / "jupyter_server_config.json").read_text(encoding="utf-8"))
    spec_class = config["KernelSpecManager"]["kernel_spec_class"]
    assert spec_class == f"{LearnerKernelSpec.__module__}.{LearnerKernelSpec.__name__}"
    ipython = LearnerKernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert ipython.argv[-1] == "--ext=kamlib.slips"
    assert LearnerKernelSpec(argv=ipython.argv).argv.count("--ext=kamlib.slips") == 1
    other = ["R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"]
    assert LearnerKernelSpec(argv=other).argv == other


@pytest.mark.slow
def test_the_extension_explains_a_slip_before_any_import(tmp_path):
    """A kernel started as a learner's server starts it: the first cell, before the setup cell, is explained."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager(kernel_spec_class=LearnerKernelSpec)
    probe = 'print("kamlib.slips" in get_ipython().extension_manager.loaded)'  # what Kit.slips_probe asks
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in ("tier_q1 = Tier.VENDOR", probe)])
    kernel = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    NotebookClient(
        nb, km=kernel, timeout=60, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    [error] = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    text = ANSI.sub("", "\n".join(error.traceback))
    assert error.ename == "NameError" and "找不到 Tier" in text and "Traceback" not in text, text
    assert nb.cells[1].outputs[0].text.strip() == "True"
