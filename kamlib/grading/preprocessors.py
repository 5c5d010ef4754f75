"""All of kam's nbgrader preprocessors: grading learner code as hostile, and feedback in Chinese.

* :class:`SandboxedExecute` (for ``Autograde.autograde_preprocessors``, in place of
  ``Execute``) runs the learner's notebook in a sandboxed kernel
  (:mod:`~kamlib.grading.sandbox`) and decides every test cell OUTSIDE it. The kernel
  gets each test cell without its hidden tests (so it never sees them), runs the
  visible checks for the printed hints, and then hands over only the values of the
  names the cell uses, as plain data (:mod:`~kamlib.grading.answers`). The whole test
  cell, as the gradebook holds it, then runs in the grader on those values
  (:mod:`~kamlib.grading.verdicts`); its outcome alone becomes the cell's error or
  partial-credit output, which nbgrader's ``SaveAutoGrades`` reads. Whatever the
  learner's code does to its own kernel — IPython hooks, input or AST transformers,
  patched builtins or kamlib, objects equal to everything, hidden tracebacks, fake
  results — only changes the values it hands over.
  When the kernel dies or stops responding, the cell gets a Chinese error, the kernel
  is stopped and every later cell is "not executed": earlier questions keep their
  score (stock nbgrader would leave the whole submission ungraded).
* :class:`SaveAnswers` (after ``SaveAutoGrades``) records each test cell's answer
  rendering in the gradebook database (:mod:`~kamlib.grading.answer_store`).
* :class:`SafeOverwriteCells` (for ``Autograde.sanitize_preprocessors``, in place of
  ``OverwriteCells``): a deleted test cell goes back after the nearest cell before it
  (in the source) that the submission still has — also when its answer cell is gone
  too, where stock nbgrader fails the submission with a ``KeyError``.

* :class:`StripHiddenTests` (for ``GenerateFeedback.preprocessors``, after ``GetGrades``) takes
  hidden tests, mark schemes and their tracebacks out of feedback (:mod:`~kamlib.grading.hidden_tests`).
* :class:`ExplainGrades` (after it) gives each question of the feedback page its Chinese title,
  verdict and review pointer (:mod:`~kamlib.grading.feedback_page`).
* :class:`StripExplanations` (appended to ``GenerateAssignment.preprocessors``) takes the answer
  explanations (``metadata["kam"]["explanation"]``, shown by the self-study build and, when the
  trainer opts in, by feedback) out of the trainer's learner version.

They subclass nbgrader's classes, so ``Execute.*`` and ``OverwriteCells.*`` settings
still apply.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from jupyter_client.kernelspec import NATIVE_KERNEL_NAME
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Enum, List, Unicode

from .answer_store import (
    NOT_RUN,
    AnswerRecord,
    JudgedAnswer,
    clear_failure,
    now_utc,
    record_answers,
    record_judged,
)
from .answers import MAX_EXPORT_CHARS, AnswerFormatError, decode_export, export_expression, render
from .failures import RefusedSubmission
from .feedback_page import (
    FORM,
    PARTLY,
    PENDING,
    VERDICT_CLASS,
    WRONG,
    answer_cell,
    cell_text,
    is_unanswered,
    keep_output,
    points_text,
    verdict,
)
from .hidden_tests import strip_notebook
from .manual import judged_answers
from .regions import HIDDEN, SOLUTION, region_text, remove_regions
from .sandbox import Sandbox, SandboxedKernelManager
from .topics import review_pointer
from .verdicts import Verdict, judge, names_used

__all__ = [
    "SandboxedExecute",
    "SaveAnswers",
    "SafeOverwriteCells",
    "StripHiddenTests",
    "ExplainGrades",
    "StripExplanations",
    "ANSWER_KEYS",
    "secure_autograde",
    "start_kernel_early",
    "stop_early_kernels",
]


def _error(ename: str, text: str) -> NotebookNode:
    line = f"\x1b[0;31m{ename}\x1b[0m：{text}"
    return from_dict({"output_type": "error", "ename": ename, "evalue": text, "traceback": [line]})


class SandboxedExecute(Execute):
    """``Execute`` in a sandboxed kernel, with every test cell decided in the grader."""

    shutdown_kernel = Enum(
        ["graceful", "immediate"],
        default_value="immediate",
        help="How the kernel is stopped after the last cell: its state is thrown away, so at once.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict | None = None, km=None):
        self._stop_reason: str | None = None
        resources = resources if resources is not None else {}
        info = resources.get("nbgrader", {})
        self._tests = _trusted_tests(info) if info.get("db_url") else {}
        self._prepare(info, resources.get("metadata", {}).get("path"))
        resources.setdefault("kam", {})["answers"] = {}
        resources["kam"]["sandboxed"] = self._sandbox.enabled
        self._decided: dict[int, list] = {}
        early = _EARLY.pop(_early_key(info), None) if km is None else None
        wanted = self.kernel_name or nb.metadata.get("kernelspec", {}).get("name") or NATIVE_KERNEL_NAME
        if early is not None and (type(early) is not self.kernel_manager_class or early.kernel_name != wanted):
            _stop_kernel(early)
            early = None
        try:
            nb, resources = super().preprocess(nb, resources, km or early)
        finally:
            if early is not None and self.km is not None:
                self._cleanup_kernel()  # nbclient stops only the kernels it started itself
        # A later cell can still change an earlier cell's outputs (update_display_data with a
        # display id shown there): each test cell ends with exactly the outputs decided for it.
        for index, outputs in self._decided.items():
            nb.cells[index].outputs = copy.deepcopy(outputs)
        _defuse_learner_html(nb)
        return nb, resources

    def _prepare(self, info: dict, folder: str | None) -> None:
        """Choose the kernel manager; for a submission, take out the files copied through links."""
        self._sandbox = Sandbox(parent=self)
        if self._sandbox.enabled:
            self.kernel_manager_class = SandboxedKernelManager
        self._learner_folder = None
        if info.get("student") and folder:
            self._learner_folder = self._submitted(info)
            _refuse_linked_notebook(self._learner_folder, info)
            self._drop_linked_files(Path(folder))

    def create_kernel_manager(self):
        """The kernel's folder gets the learner's own notebooks (see :class:`SandboxedKernelManager`)."""
        km = super().create_kernel_manager()
        if isinstance(km, SandboxedKernelManager):
            km.learner_folder = self._learner_folder
        return km

    def _submitted(self, info: dict) -> Path:
        cd = CourseDirectory(config=self.config)
        return Path(cd.format_path(cd.submitted_directory, info["student"], info["assignment"]))

    def _drop_linked_files(self, folder: Path) -> None:
        """Remove what nbgrader copied through symbolic links of the submission.

        nbgrader copies a submission's files following links, so a link to
        ``source/…`` would put the answer key into the kernel's folder.
        """
        submitted = self._learner_folder
        for dirpath, dirnames, filenames in os.walk(submitted):
            for name in dirnames + filenames:
                path = Path(dirpath, name)
                if path.is_symlink():
                    copied = folder / path.relative_to(submitted)
                    self.log.warning("提交中的 %s 是符号链接，评分时不使用它。", path.relative_to(submitted))
                    if copied.is_dir() and not copied.is_symlink():
                        shutil.rmtree(copied, ignore_errors=True)
                    else:
                        copied.unlink(missing_ok=True)

    def on_cell_executed(self, **kwargs) -> None:
        """A cell the kernel reports as failed keeps no ``execute_result`` (see nbgrader's scoring)."""
        super().on_cell_executed(**kwargs)
        if kwargs["execute_reply"]["content"]["status"] == "error":
            cell = kwargs["cell"]
            cell.outputs = [out for out in cell.outputs if out.output_type != "execute_result"]

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        test = self._tests.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if self._stop_reason is not None:
            cell.outputs = [_error("CellNotExecuted", f"此单元格没有运行：{self._stop_reason}")]
            if test:
                resources["kam"]["answers"][test.grade_id] = (NOT_RUN, True)
            return cell, resources
        if test is None:
            return self._run(cell, resources, index)
        full_source = cell.source
        cell.source, _ = remove_regions(full_source, *HIDDEN)
        try:
            self._run(cell, resources, index)
        finally:
            cell.source = full_source
        values = self._export(test.names) if self._stop_reason is None else {}
        verdict = judge(test.source, values, test.points)
        cell.outputs = _learner_outputs(cell.outputs) + _verdict_outputs(verdict, cell.execution_count)
        self._decided[index] = copy.deepcopy(cell.outputs)
        shown = [
            render(values[n]) if len(test.names) == 1 else f"{n} = {render(values[n])}"
            for n in test.names
            if n in values
        ]
        resources["kam"]["answers"][test.grade_id] = ("；".join(shown), not shown)
        return cell, resources

    def _run(self, cell: NotebookNode, resources: dict, index: int):
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.log.error("第 %d 个单元格运行时内核退出，之后的单元格不再运行。", index + 1)
            self._stop_reason = f"内核在运行第 {index + 1} 个单元格时退出了。"
            cell.outputs.append(
                _error(
                    "DeadKernelError",
                    "运行此单元格时内核（Python 进程）退出了，例如代码调用了 os._exit() 或结束了自身进程，"
                    "或用尽了内存。之后的单元格都没有运行，不计分。",
                )
            )
        except CellTimeoutError:
            self.log.error("第 %d 个单元格超时且无法中断，已停止内核，之后的单元格不再运行。", index + 1)
            self._stop(f"第 {index + 1} 个单元格超时且无法中断，内核已被停止。")
            cell.outputs.append(
                _error(
                    "CellTimeoutError",
                    f"此单元格运行超过 {self.timeout} 秒，且不响应中断（例如屏蔽了中断信号的死循环），"
                    "内核已被停止。之后的单元格都没有运行，不计分。",
                )
            )
        return cell, resources

    def _stop(self, reason: str) -> None:
        self._stop_reason = reason
        run_sync(self.km.shutdown_kernel)(now=True)

    def _export(self, names: list[str]) -> dict:
        """The values of ``names`` in the learner's kernel, rebuilt as plain data (missing ones left out)."""
        if not names:
            return {}
        msg_id = self.kc.execute(
            "", silent=True, store_history=False, allow_stdin=False, user_expressions={"kam": export_expression(names)}
        )
        try:
            reply = run_sync(self.async_wait_for_reply)(msg_id)
        except (TimeoutError, CellTimeoutError, DeadKernelError, RuntimeError):
            self.log.error("学员内核没有交出答案，之后的单元格不再运行。")
            self._stop("学员内核在交出答案时没有响应，已被停止。")
            return {}
        result = ((reply or {}).get("content", {}).get("user_expressions") or {}).get("kam", {})
        text = (result.get("data") or {}).get("text/plain") if result.get("status") == "ok" else None
        try:
            return decode_export(_string_literal(text), names)
        except (AnswerFormatError, ValueError, TypeError, OverflowError, SyntaxError, MemoryError, RecursionError):
            return {}  # a forged or broken export is no answer (and does not fail the notebook)


def _string_literal(text: object) -> str:
    """The string whose ``repr`` the kernel replied with (the export is a JSON string). Anything else
    raises before it is parsed: a forged reply such as a list literal of millions of items costs
    the grader hundreds of times its length in memory to parse, outside the sandbox's limits."""
    if not isinstance(text, str) or len(text) > 4 * MAX_EXPORT_CHARS or not text.startswith(("'", '"')):
        raise AnswerFormatError("学员内核交回的不是答案数据")
    value = ast.literal_eval(text)
    if type(value) is not str:
        raise AnswerFormatError("学员内核交回的不是答案数据")
    return value


#: Output formats shown as they are; every other one can carry a script (HTML, JavaScript, SVG, widgets).
_SAFE_OUTPUT = frozenset({"text/plain", "text/latex", "image/png", "image/jpeg", "application/json"})
#: Link and image addresses a trainer's browser may follow from a learner's text (relative ones too).
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "attachment"})
_SAFE_DATA_IMAGES = ("data:image/png", "data:image/jpeg", "data:image/gif")


def _defuse_learner_html(nb: NotebookNode) -> None:
    """Make what the learner wrote or printed safe to show to the trainer.

    The autograded notebook is what the formgrader and the feedback pages render: a
    script in an output (``display(Javascript(...))``, an ``<img onerror=…>`` in HTML, in
    a written answer or in any text cell the learner edited or added, a ``javascript:``
    link) would run in the trainer's browser, with the formgrader's right to set grades.
    Outputs keep their plain text and images (a table shows as text) and, of their
    metadata, only the images' numeric sizes (nbconvert writes them into the ``<img>`` tag
    unquoted). Every text cell whose source nbgrader did not restore from the gradebook
    (locked cells) has its HTML escaped (nbconvert's ``SanitizeHTML``); one that would
    still render a link or image address that can run code is shown as its literal text.
    """
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    for cell in nb.cells:
        if cell.cell_type == "code":
            for out in cell.outputs:
                data = out.get("data")
                if data is None:
                    continue
                if any(key not in _SAFE_OUTPUT for key in data):
                    kept = {k: v for k, v in data.items() if k in _SAFE_OUTPUT}
                    out["data"] = from_dict(kept or {"text/plain": "（这里原本显示网页内容，评分时不显示）"})
                if "metadata" in out:
                    out["metadata"] = from_dict(_image_sizes(out["metadata"]))
        elif cell.cell_type == "markdown" and not _restored(cell):
            source = SanitizeHTML().sanitize_html_tags(cell.source)
            cell.source = _as_literal_text(source) if _links_run_code(source) else source


def _restored(cell: NotebookNode) -> bool:
    """True for a locked cell that nbgrader's OverwriteCells matched in the gradebook: its source is the trainer's."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade_id")) and bool(meta.get("locked"))


def _image_sizes(metadata: dict) -> dict:
    """Of an output's metadata, only the images' width and height, and only where they are numbers."""
    return {
        mime: {k: v for k, v in sizes.items() if k in ("width", "height") and type(v) in (int, float)}
        for mime, sizes in metadata.items()
        if mime in ("image/png", "image/jpeg") and isinstance(sizes, dict)
    }


def _links_run_code(markdown: str) -> bool:
    """True when ``markdown``, rendered as nbconvert renders it, links to or shows an address
    whose scheme can run code (``javascript:``, ``vbscript:``, ``data:text/html`` …)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    found = []

    class Addresses(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            for name, value in attrs:
                if name in ("href", "src") and value:
                    url = re.sub(r"[\x00-\x20]", "", value)  # browsers skip these inside a scheme
                    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
                    if scheme and scheme[1].lower() not in _SAFE_SCHEMES:
                        if not (tag == "img" and url.lower().startswith(_SAFE_DATA_IMAGES)):
                            found.append(url)

    Addresses().feed(markdown2html_mistune(markdown))
    return bool(found)


def _as_literal_text(markdown: str) -> str:
    """``markdown`` with every ASCII punctuation mark backslash-escaped: it renders as the text
    the learner typed, with no link, image, HTML or emphasis."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", markdown)


def _refuse_linked_notebook(submitted: Path, info: dict) -> None:
    """Refuse a notebook that is a link (to the answer key, another learner's work …) or not a file.

    nbgrader reads the submitted notebook through any link: a notebook linked to
    ``source/`` would be graded as the answer key and its feedback would show it.
    """
    notebook = submitted / f"{info['notebook']}.ipynb"
    linked = [p for p in (notebook, submitted, submitted.parent) if p.is_symlink()]
    if linked or not notebook.is_file():
        raise RefusedSubmission(
            f"提交的笔记本 {notebook.name} 或它所在的文件夹是符号链接（或不是普通文件），不予评分；"
            "请学员重新提交笔记本文件本身"
        )


#: Kernels started ahead of their notebook by :func:`start_kernel_early`, by (assignment, student, notebook).
_EARLY: dict[tuple[str, str, str], object] = {}


def _early_key(info: dict) -> tuple[str, str, str]:
    return (info.get("assignment", ""), info.get("student", ""), info.get("notebook", ""))


def start_kernel_early(parent, info: dict, folder: Path) -> None:
    """Start the kernel of notebook ``info`` (nbgrader's resources) now, in its autograded ``folder``.

    ``kam grade`` calls it before nbgrader sanitises the notebook, so that the kernel
    starts up while nbgrader sanitises and records the submission; :class:`SandboxedExecute`
    then runs the notebook on it, when it is the kernel it would start itself (same
    manager, same kernel). A kernel that does not start here is left to start the
    ordinary way, which reports the error. Call :func:`stop_early_kernels` afterwards.
    """
    execute = SandboxedExecute(parent=parent)
    try:
        execute._prepare(info, str(folder))
    except RefusedSubmission:
        return  # SandboxedExecute refuses it again, where nbgrader records the failure
    if not execute.kernel_name:
        with Gradebook(info["db_url"]) as gb:
            spec = gb.find_notebook(info["notebook"], info["assignment"]).kernelspec
        execute.kernel_name = (json.loads(spec) if spec else {}).get("name") or NATIVE_KERNEL_NAME
    execute.resources = {"metadata": {"path": str(folder)}}
    km = execute.create_kernel_manager()
    try:
        execute.start_new_kernel()
    except Exception as exc:  # noqa: BLE001 - started again, and reported, by SandboxedExecute
        execute.log.debug("Kernel not started ahead: %s", exc)
        _stop_kernel(km)
        return
    _EARLY[_early_key(info)] = km


def stop_early_kernels() -> None:
    """Stop the kernels started ahead whose notebook never ran (e.g. it failed to sanitise)."""
    while _EARLY:
        _stop_kernel(_EARLY.popitem()[1])


def _stop_kernel(km) -> None:
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - a kernel that is already gone
        run_sync(km.cleanup_resources)()


class _Test:
    """A test cell as the gradebook holds it: the code that decides, and the names it needs."""

    def __init__(self, grade_id: str, source: str, points: float) -> None:
        self.grade_id, self.source, self.points = grade_id, source, points
        self.names = names_used(source)


def _trusted_tests(info: dict) -> dict[str, _Test]:
    """grade_id -> test cell, read from the gradebook (never from the submission)."""
    with Gradebook(info["db_url"]) as gb:
        notebook = gb.find_notebook(info["notebook"], info["assignment"])
        sources = {cell.name: cell.source for cell in notebook.source_cells}
        return {
            cell.name: _Test(cell.name, sources.get(cell.name, ""), float(cell.max_score))
            for cell in notebook.grade_cells
            if cell.cell_type == "code" and cell.name not in {c.name for c in notebook.solution_cells}
        }


def _learner_outputs(outputs: list) -> list:
    """What the learner's kernel printed in a test cell, minus anything that could score.

    Errors and results are dropped (the verdict replaces them); stderr is shown as
    ordinary text, since nbgrader would read any stderr as a failed test.
    """
    kept = []
    for out in outputs:
        if out.output_type in ("error", "execute_result"):
            continue
        if out.output_type == "stream" and out.get("name") == "stderr":
            out = from_dict({**out, "name": "stdout"})
        kept.append(out)
    return kept


def _verdict_outputs(verdict: Verdict, execution_count: int | None) -> list:
    if not verdict.passed:
        return [_error(verdict.ename, verdict.message)]
    if verdict.partial:
        return [
            from_dict(
                {
                    "output_type": "execute_result",
                    "execution_count": execution_count,
                    "metadata": {},
                    "data": {"text/plain": repr(verdict.score)},
                }
            )
        ]
    return []


class SaveAnswers(NbGraderPreprocessor):
    """Record the answer rendering of every test cell, and what every graded cell judged
    (:mod:`.manual`), beside nbgrader's scores; a submission scored again is no longer one
    that could not be graded (also when plain ``nbgrader autograde`` scored it)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info, kam = resources["nbgrader"], resources.get("kam", {})
        clear_failure(info["db_url"], info["assignment"], info["student"])
        recorded_at = now_utc()
        judged = [
            JudgedAnswer(info["assignment"], info["notebook"], info["student"], grade_id, answer, recorded_at)
            for grade_id, answer in judged_answers(nb.cells).items()
        ]
        if judged:
            record_judged(info["db_url"], judged)
        records = [
            AnswerRecord(
                info["assignment"],
                info["notebook"],
                info["student"],
                grade_id,
                answer,
                missing,
                bool(kam.get("sandboxed")),
                recorded_at,
            )
            for grade_id, (answer, missing) in kam.get("answers", {}).items()
        ]
        if records:
            record_answers(info["db_url"], records)
        return nb, resources


class SafeOverwriteCells(OverwriteCells):
    """``OverwriteCells`` that also restores each cell's grade and solution flags, and whose
    re-added test cells never fail the submission.

    nbgrader restores a cell's type, lock, points and locked source, but takes the
    submission's word for whether a cell is graded or an answer: a learner who turns a
    hand-graded code answer into an autograded cell would score it in full.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        flags = self._source_flags().get(grade_id) if grade_id is not None else None
        if flags is not None:
            meta = cell.metadata.nbgrader
            for name in ("grade", "solution"):
                if bool(meta.get(name, False)) != flags[name]:
                    self.report_change(grade_id, name, flags[name], meta.get(name))
                    meta[name] = flags[name]
            if flags["grade"]:
                meta.setdefault("points", flags["points"])  # nbgrader then checks the value
        return super().preprocess_cell(cell, resources, cell_index)

    def _source_flags(self) -> dict[str, dict]:
        """grade_id -> {"grade", "solution", "points"} of this notebook's cells, as the gradebook holds them."""
        key = (self.assignment_id, self.notebook_id)
        if getattr(self, "_flags_key", None) != key:
            source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
            points = {cell.name: float(cell.max_score) for cell in source_nb.grade_cells}
            answers = {cell.name for cell in source_nb.solution_cells}
            self._flags = {
                cell.name: {
                    "grade": cell.name in points,
                    "solution": cell.name in answers,
                    "points": points.get(cell.name, 0.0),
                }
                for cell in source_nb.source_cells
            }
            self._flags_key = key
        return self._flags

    def add_missing_grade_cells(self, nb: NotebookNode, resources: dict):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = {cell.name: cell for cell in source_nb.source_cells}
        order = list(source_cells)
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}

        for name in order:
            if name not in grade_cells:
                continue
            where = {
                cell.metadata["nbgrader"]["grade_id"]: i
                for i, cell in enumerate(nb.cells)
                if "grade_id" in cell.metadata.get("nbgrader", {})
            }
            if name in where:
                continue
            self.log.warning("提交中缺少评分单元格 %s，已从源笔记本恢复。", name)
            before = [where[prev] for prev in reversed(order[: order.index(name)]) if prev in where]
            position = before[0] + 1 if before else 0
            nb.cells.insert(
                position,
                self.missing_cell_transform(
                    source_cells[name],
                    grade_cells[name].max_score,
                    is_solution=name in solution_ids,
                ),
            )
        return nb, resources


def secure_autograde(config) -> None:
    """Make ``config``'s autograding pipeline grade as this course does, whatever its own config says.

    ``kam grade`` calls it, so that any course it grades runs learner code in the
    sandbox and records answers: nbgrader's ``Execute`` (or a subclass) becomes
    :class:`SandboxedExecute`, :class:`SaveAnswers` follows ``SaveAutoGrades``, and
    nbgrader's own ``OverwriteCells`` becomes :class:`SafeOverwriteCells`.
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import SaveAutoGrades
    from traitlets.utils.importstring import import_item

    configured = config.Autograde.get("autograde_preprocessors") or Autograde.autograde_preprocessors.default()
    steps = [import_item(step) if isinstance(step, str) else step for step in configured]
    steps = [SandboxedExecute if issubclass(step, Execute) else step for step in steps]
    if SaveAnswers not in steps:
        at = next((i + 1 for i, step in enumerate(steps) if issubclass(step, SaveAutoGrades)), len(steps))
        steps.insert(at, SaveAnswers)
    config.Autograde.autograde_preprocessors = steps
    sanitizing = config.Autograde.get("sanitize_preprocessors") or Autograde.sanitize_preprocessors.default()
    steps = [import_item(step) if isinstance(step, str) else step for step in sanitizing]
    config.Autograde.sanitize_preprocessors = [SafeOverwriteCells if step is OverwriteCells else step for step in steps]


class StripHiddenTests(NbGraderPreprocessor):
    """nbgrader preprocessor: hidden tests, mark schemes and their tracebacks out.

    Put it in ``GenerateFeedback.preprocessors`` after ``GetGrades`` (which reads the
    scores from the gradebook by grade id, not from the cell source).
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        return strip_notebook(nb), resources


class ExplainGrades(NbGraderPreprocessor):
    """nbgrader preprocessor: Chinese titles, verdicts and review pointers for the feedback page."""

    show_answers = List(
        Unicode(),
        default_value=[],
        help=(
            "Assignments whose feedback shows each question's reference answer and explanation "
            "(metadata kam.explanation of the graded cell in the source notebook). Off for all by default."
        ),
    ).tag(config=True)

    source_directory = Unicode("", help="The course's source folder; empty: taken from CourseDirectory.").tag(
        config=True
    )

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        assignment, notebook, student = info["assignment"], info["notebook"], info["student"]
        questions = self._source_questions(assignment, notebook)
        show = assignment in self.show_answers
        pending = self._pending(info["db_url"], assignment, notebook, student)
        number = 0
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            unanswered = bool(meta.get("solution")) and is_unanswered(cell)
            if meta.get("solution"):
                answer_cell(cell)
            if not meta.get("grade"):
                continue
            number += 1
            gid = meta.get("grade_id")
            source = questions.get(gid, {})
            kind, reason = verdict(cell, gid in pending)
            if kind == WRONG and unanswered:
                reason = "没有作答。"
            if cell.cell_type == "code" and not meta.get("solution"):
                cell.outputs = [o for o in map(keep_output, cell.get("outputs", [])) if o is not None]
            score = meta.get("score")
            cell.metadata["kam_feedback"] = {
                "title": source.get("title") or f"第 {number} 题",
                "score": PENDING if kind == PENDING else points_text(score),
                "points": points_text(meta.get("points")),
                "verdict": kind,
                "verdict_class": VERDICT_CLASS[kind],
                "reason": reason,
                "review": review_pointer(source.get("topic")) if kind in (WRONG, FORM, PARTLY) else "",
                "reference": source.get("reference", "") if show else "",
                "explanation": source.get("explanation", "") if show else "",
                "written": bool(meta.get("solution")),
            }
        title = self._title(assignment) or notebook  # the exercise's own title, not its folder name
        resources["kam_feedback"] = {"pending": bool(pending), "show_answers": show, "title": title}
        return nb, resources

    def _title(self, assignment: str) -> str | None:
        from .questions import assignment_titles

        folder = Path(self.source_directory) if self.source_directory else self._course_source()
        return assignment_titles(folder.parent).get(assignment)

    def _pending(self, db_url: str, assignment: str, notebook: str, student: str) -> set[str]:
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gb:
            nb = gb.find_submission_notebook(notebook, assignment, student)
            return {g.name for g in nb.grades if g.needs_manual_grade}

    def _source_questions(self, assignment: str, notebook: str) -> dict[str, dict]:
        """grade_id -> title, topic, reference answer and explanation, from the source notebook."""
        from .questions import graded_cells

        folder = Path(self.source_directory) if self.source_directory else self._course_source()
        path = folder / assignment / f"{notebook}.ipynb"
        found = {
            c.grade_id: {"title": c.title if c.title != c.grade_id else "", "topic": c.topic}
            for c in graded_cells(folder.parent)
            if c.assignment == assignment and c.notebook == notebook and c.path == path
        }
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            return found
        answers: list[str] = []
        for cell in cells:
            meta = cell.get("metadata", {})
            nbg = meta.get("nbgrader", {})
            if nbg.get("solution") and cell.get("cell_type") == "code":
                answers.append(region_text(cell_text(cell.get("source")), *SOLUTION) or cell_text(cell.get("source")))
            if nbg.get("grade") and nbg.get("grade_id") in found:
                kam = meta.get("kam") if isinstance(meta.get("kam"), dict) else {}
                item = found[nbg["grade_id"]]
                item["explanation"] = str(kam.get("explanation") or "")
                item["reference"] = "" if nbg.get("solution") else "\n".join(a for a in answers if a.strip())
                answers = []
        return found

    def _course_source(self) -> Path:
        from nbgrader.coursedir import CourseDirectory

        cd = CourseDirectory(config=self.config)
        return Path(cd.format_path(cd.source_directory, ".", ".")).resolve()


#: Keys of ``metadata["kam"]`` that give an answer away.
ANSWER_KEYS = ("explanation",)


class StripExplanations(NbGraderPreprocessor):
    """Drop ``metadata["kam"]["explanation"]`` (and an emptied ``kam``) from every cell."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        kam = cell.metadata.get("kam")
        if isinstance(kam, dict):
            for key in ANSWER_KEYS:
                kam.pop(key, None)
            if not kam:
                del cell.metadata["kam"]
        return cell, resources
