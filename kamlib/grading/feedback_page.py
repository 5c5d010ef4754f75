"""The learner's feedback page in Chinese: one verdict per question, and what to review.

:class:`~kamlib.grading.preprocessors.ExplainGrades` (an nbgrader preprocessor for
``GenerateFeedback.preprocessors``, after ``GetGrades`` and ``StripHiddenTests``) uses the rules
here. For each
graded cell it writes ``metadata["kam_feedback"]``: the question's title, its score (or
“待批改”), one verdict — 正确, 部分正确, 不正确, 格式不对 (the answer has the wrong type or
form, or its cell was changed but defines no answer, e.g. a slip made it raise an error), 未作答
(the answer cell left as released), 待批改 (a written answer not graded yet) or 无法评分 — with a
reason, and the review
pointer of its topic. It drops the check cells' outdated “写法正确……提交评分后才知道” lines
and their error summaries (the verdict says it once). With the assignment listed in
:attr:`~kamlib.grading.preprocessors.ExplainGrades.show_answers` it also adds the reference answer and the explanation
written in the source notebook (``metadata["kam"]["explanation"]`` of the graded cell).

:class:`FeedbackExporter` renders the page with the Chinese template in
``kamlib/grading/templates/kam_feedback``; ``GenerateFeedback.exporter_class`` selects it.
"""

from __future__ import annotations

import re
from importlib.resources import files

from nbconvert.exporters import HTMLExporter
from nbformat.notebooknode import NotebookNode
from traitlets.config import Config

from .hidden_tests import ANSWER_STATE, CHANGED, RELEASED, SAFE_ERRORS
from .questions import NO_RESPONSE

TEMPLATE_NAME = "kam_feedback"
OUTDATED = ("写法正确", "提交评分后才知道")  # the visible check's "form is right" line, outdated once graded
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

RIGHT, PARTLY, WRONG, FORM, PENDING, UNGRADED = "正确", "部分正确", "不正确", "格式不对", "待批改", "无法评分"
BLANK = "未作答"  # the same word, and the same rule, as the report's status (kamlib.grading.cohort)
FORM_REASON = "答案的类型或写法不符合题目要求，请对照上面的提示和题目中的作答格式。"
VERDICT_CLASS = {
    BLANK: "blank",
    RIGHT: "right",
    PARTLY: "partly",
    WRONG: "wrong",
    FORM: "form",
    PENDING: "pending",
    UNGRADED: "ungraded",
}


def template_dir() -> str:
    """The folder holding the Chinese feedback template (an nbconvert template base directory)."""
    return str(files("kamlib") / "grading" / "templates")


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with the Chinese feedback template (and nbgrader's Bootstrap CSS)."""

    def __init__(self, config: Config | None = None, **kwargs):
        own = Config()
        own.merge(config or Config())
        # this class's section outranks the HTMLExporter section nbgrader writes (template "feedback")
        own.FeedbackExporter.template_name = TEMPLATE_NAME
        own.FeedbackExporter.extra_template_basedirs = [template_dir()]
        own.FeedbackExporter.exclude_input_prompt = True  # no "In [3]:" labels
        own.FeedbackExporter.exclude_output_prompt = True
        super().__init__(config=own, **kwargs)


def cell_text(source) -> str:
    return "".join(source) if isinstance(source, list) else (source or "")


def points_text(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def verdict(cell: NotebookNode, needs_manual_grade: bool) -> tuple[str, str]:
    """(verdict, Chinese reason) of one graded cell, from its score and its outputs."""
    meta = cell.metadata.nbgrader
    score, points = meta.get("score"), meta.get("points") or 0
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    ename = errors[0].get("ename") if errors else None
    written = bool(meta.get("solution"))
    if ename in SAFE_ERRORS:
        return UNGRADED, _ANSI.sub("", "".join(errors[0].get("traceback", []))).strip()
    if needs_manual_grade or (written and score is None):
        # nbgrader's total still counts the score the question had (e.g. an old hand score of an answer since changed)
        held = f"批改前，页首的总分暂时仍按原来的 {score:g} 分计算。" if needs_manual_grade and score else ""
        return PENDING, ("这道题由讲师批改，批改后会更新。" if written else "讲师正在复核这道题的得分。") + held
    if score is None:
        return UNGRADED, "这道题没能评分，请联系讲师。"
    if score >= points:
        return RIGHT, ""
    if score > 0:
        return PARTLY, f"得到 {score:g} 分（满分 {points:g} 分）。"
    if written:
        return WRONG, ""
    answered = cell.metadata.get(ANSWER_STATE)  # set by hidden_tests.strip_notebook from the answer cells
    if answered == RELEASED:
        return BLANK, "这道题还没有作答，得 0 分。"
    if answered == CHANGED and ename == "NameError":
        return FORM, "作答单元格没有得出答案（运行时出错，或答案的变量名写错了）。" + FORM_REASON
    shown = "".join(cell_text(o.get("text")) for o in outputs if o.get("output_type") == "stream")
    if ename == "NameError":
        return WRONG, "没有找到答案：作答单元格可能没有运行、运行时出错，或变量名写错了。"
    if "✘" in shown or (ename is not None and ename != "AssertionError"):
        return FORM, FORM_REASON
    return WRONG, ""


def keep_output(output: NotebookNode) -> NotebookNode | None:
    if output.get("output_type") == "error":
        return None
    if output.get("output_type") == "stream":
        lines = [
            line
            for line in cell_text(output.get("text")).splitlines(keepends=True)
            if not any(marker in line for marker in OUTDATED)
        ]
        if not "".join(lines).strip():
            return None
        output["text"] = "".join(lines)
    return output


_UNANSWERED = ("raise NotImplementedError()", "YOUR ANSWER HERE", "（在此写下你的答案）")


def is_unanswered(cell: NotebookNode) -> bool:
    return cell.metadata.nbgrader.get("comment") == NO_RESPONSE or any(
        stub in cell_text(cell.get("source")) for stub in _UNANSWERED
    )


def slip_lines(output: NotebookNode) -> list[str]:
    """The “✘ …” lines kamlib.slips wrote into an error output's traceback, without colour codes."""
    text = _ANSI.sub("", "\n".join(cell_text(part) for part in output.get("traceback", []) or []))
    return [line.strip() for line in text.splitlines() if line.strip().startswith("✘")]


def answer_cell(cell: NotebookNode) -> None:
    """Chinese in place of nbgrader's automatic comment and of the answer cell's traceback."""
    meta = cell.metadata.nbgrader
    if meta.get("comment") == NO_RESPONSE:
        meta["comment"] = None
    if cell.cell_type != "code":
        return
    outputs = []
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            outputs.append(output)
            continue
        ename = output.get("ename", "")
        explained = slip_lines(output)
        if explained:  # kamlib.slips's own Chinese explanation of the error
            line = "\n".join(explained)
        elif ename == "NotImplementedError":
            line = "这里还没有作答：单元格里仍是题目给的占位代码。"
        else:
            evalue = _ANSI.sub("", str(output.get("evalue", ""))).strip().splitlines()
            line = f"这个单元格运行时出错（{ename}{'：' + evalue[0] if evalue else ''}）。"
        outputs.append(NotebookNode(output_type="stream", name="stderr", text=line + "\n"))
    cell.outputs = outputs
