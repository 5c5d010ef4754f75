"""Hidden tests and mark schemes out of what a learner receives: the notebook rewrite and the leak scan.

nbgrader puts the hidden tests back into every test cell when it autogrades, so the
feedback HTML made from the autograded notebook shows them (nbgrader issue #917, open
and unchanged in nbgrader 0.9.6). A test cell's traceback quotes the lines around the
failing one, so the cell's error outputs leak them too. :class:`~kamlib.grading.preprocessors.StripHiddenTests`
(an nbgrader preprocessor for ``GenerateFeedback.preprocessors``) applies
:func:`strip_notebook`, which removes the hidden-test and mark-scheme regions from every cell and, in
each cell that had hidden tests, keeps only the printed hints and a Chinese one-line
summary of each error. It also marks each autograded test cell with how its answer cells
stand (:data:`ANSWER_STATE`): all as released, or changed by the learner.

:func:`find_leaks` lists the markers a learner-facing text must not contain.
"""

from __future__ import annotations

import html
import re

from nbformat.notebooknode import NotebookNode, from_dict

from .questions import NO_RESPONSE, answers_of_tests
from .regions import HIDDEN, LEAK_MARKERS, MARK_SCHEME, remove_regions

__all__ = ["strip_notebook", "strip_cell", "find_leaks", "LEAK_MARKERS", "SAFE_ERRORS"]

#: Errors written by the grading machinery itself (see kamlib.grading.preprocessors):
#: their tracebacks are fixed Chinese texts that quote no code, so they are kept as they are.
SAFE_ERRORS = frozenset({"CellTimeoutError", "DeadKernelError", "CellNotExecuted"})

_ERROR_TEXT = {
    "AssertionError": "本题的评分测试未通过：答案不正确。",
    "NameError": "本题的评分测试未通过：用到的变量还没有定义——请确认作答单元格已经运行，"
    "并且变量名与题目要求的完全一致。",
    "KeyboardInterrupt": "本题的评分测试运行超时，被中断了。",
}
#: Key of a test cell's metadata: RELEASED when all the answer cells before it (since the previous
#: graded cell) are as released (nbgrader's comment "No response."), CHANGED when one was changed.
ANSWER_STATE = "kam_answer"
RELEASED, CHANGED = "released", "changed"

_OTHER_ERROR = "本题的评分测试未通过：运行测试时出错（{ename}）。"
_NOTE = "（评分测试的内容不在反馈中显示。）"


def _summary(output: NotebookNode) -> NotebookNode:
    ename = str(output.get("ename", "Error"))
    text = _ERROR_TEXT.get(ename, _OTHER_ERROR.format(ename=ename))
    evalue = str(output.get("evalue", "")) if ename == "NameError" else ""
    detail = f"（{evalue}）" if evalue else ""
    line = f"\x1b[0;31m{ename}\x1b[0m：{text}{detail}{_NOTE}"
    return from_dict({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [line]})


def strip_cell(cell: NotebookNode) -> bool:
    """Strip one cell in place; return True when it held hidden tests."""
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    source, had_tests = remove_regions(source, *HIDDEN)
    source, _ = remove_regions(source, *MARK_SCHEME)
    cell["source"] = source
    if had_tests and cell.get("cell_type") == "code":
        kept = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                kept.append(output)
            elif kind == "error":
                kept.append(output if output.get("ename") in SAFE_ERRORS else _summary(output))
        cell["outputs"] = kept
    return had_tests


def strip_notebook(nb: NotebookNode) -> NotebookNode:
    """Strip every cell of ``nb`` in place, mark its test cells (:data:`ANSWER_STATE`) and return it."""
    for cell in nb.cells:
        strip_cell(cell)
    for test, answers in answers_of_tests(nb.cells):
        released = all(a.metadata.get("nbgrader", {}).get("comment") == NO_RESPONSE for a in answers)
        test.metadata[ANSWER_STATE] = RELEASED if released else CHANGED
    return nb


def find_leaks(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The markers (and ``extra`` strings, e.g. hidden assertions) found in ``text``.

    ``text`` may be a notebook or an HTML page: HTML is also read without its tags (code
    is split into highlighting spans) and entities, with runs of blanks made one space.
    """
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    haystacks = {_squash(text), _squash(plain)}
    return [item for item in (*LEAK_MARKERS, *extra) if any(_squash(item) in h for h in haystacks)]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)
