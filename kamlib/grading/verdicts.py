"""Decide a test cell's score in the grader, on answer values, where no learner code has run.

A test cell (its visible checks and its hidden tests, as the gradebook holds them) runs
here in a fresh namespace holding only the answer values handed over by the learner's
kernel (:mod:`.answers`). The rule is nbgrader's: the cell scores full points when it
runs without an error, 0 when it raises, and the value of its last line when that is a
number (partial credit). Printed hints are discarded.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["Verdict", "names_used", "judge"]

_BUILTINS = frozenset(dir(builtins))

#: Chinese one-line verdicts per error type; the tests' own text is never shown.
_WHY = {
    "AssertionError": "本题的评分测试未通过：答案不正确。",
    "NameError": "本题的评分测试未通过：找不到答案变量——作答单元格是否还没有运行、运行时出错，或变量名写错了？",
}
_WHY_FORMAT = "本题的评分测试未通过：答案的写法（类型或格式）不对（{ename}）。"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one test cell: a score, or an error (name and Chinese message)."""

    score: float
    points: float
    ename: str | None = None
    message: str = ""
    partial: bool = False

    @property
    def passed(self) -> bool:
        return self.ename is None


def names_used(source: str) -> list[str]:
    """Names a test cell reads but neither binds itself nor gets from Python's builtins.

    These are the answer variables the learner's kernel is asked to hand over.
    A cell that does not parse uses nothing (and will fail in :func:`judge`).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    loaded, bound = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loaded.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return list(dict.fromkeys(n for n in loaded if n not in bound and n not in _BUILTINS))


def judge(source: str, values: dict[str, Any], points: float) -> Verdict:
    """Run test cell ``source`` on ``values`` (name -> answer value) and score it out of ``points``."""
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__kam_verdict__", **values}
    try:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(tree, "<评分测试>", "exec"), namespace)
            result = eval(compile(ast.Expression(last.value), "<评分测试>", "eval"), namespace) if last else None
    except Exception as exc:  # any failure of the test is a failed test, as in nbgrader
        ename = type(exc).__name__
        return Verdict(0.0, points, ename, _WHY.get(ename, _WHY_FORMAT.format(ename=ename)))
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        score = min(max(float(result), 0.0), points)
        return Verdict(score, points, partial=True)
    return Verdict(points, points)
