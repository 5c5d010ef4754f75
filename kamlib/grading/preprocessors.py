"""nbgrader preprocessors that keep one broken submission from spoiling its own grade.

Stock nbgrader 0.9.6 gives up on a whole submission when the kernel dies (``os._exit``,
``os.kill(os.getpid(), 9)``, a crash) or ignores an interrupt: the notebook is left
ungraded and flagged "needs manual grade", and the points of the questions answered
before the crash are lost. With ``OverwriteCells.add_missing_cells`` it re-adds a deleted
test cell after the cell that precedes it in the source, and fails the submission with a
``KeyError`` when that cell is gone too (e.g. a learner deleted an answer cell and its
test cell).

* :class:`KernelSafeExecute` (for ``Autograde.autograde_preprocessors``, in place of
  ``Execute``): when the kernel dies or stops responding, the cell gets an error output
  saying so in Chinese, the kernel is stopped, and every later code cell gets a
  "not executed" error — so later test cells score 0 and earlier ones keep their score,
  as when the notebook is run from the top in Jupyter.
  A cell the kernel reports as failed never keeps an ``execute_result`` (which nbgrader
  would read as partial or full credit).
* :class:`SafeOverwriteCells` (for ``Autograde.sanitize_preprocessors``, in place of
  ``OverwriteCells``): a missing test cell goes after the nearest cell before it (in the
  source) that the submission still has.

Both subclass the nbgrader classes, so ``Execute.*`` and ``OverwriteCells.*`` settings
still apply to them.
"""

from __future__ import annotations

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import Execute, OverwriteCells

__all__ = ["KernelSafeExecute", "SafeOverwriteCells"]


def _error(ename: str, text: str) -> NotebookNode:
    line = f"\x1b[0;31m{ename}\x1b[0m：{text}"
    return from_dict({"output_type": "error", "ename": ename, "evalue": text, "traceback": [line]})


class KernelSafeExecute(Execute):
    """``Execute`` that grades up to the cell where the kernel died or hung."""

    def preprocess(self, nb: NotebookNode, resources: dict | None = None, km=None):
        self._stop_reason: str | None = None
        return super().preprocess(nb, resources, km)

    def on_cell_executed(self, **kwargs) -> None:
        """Record a failed cell as failed, whatever its outputs say.

        nbgrader scores a test cell by its *first* telling output: an error scores 0, an
        ``execute_result`` is read as partial credit (full credit when it is not a
        number). Code that hides its errors (``showtraceback`` or ``set_custom_exc``
        replaced) and publishes an ``execute_result`` would pass a failed test, so when
        the kernel reports an error the cell's ``execute_result`` outputs are dropped
        (a cell that raised has no result) after nbgrader has added the missing error.
        """
        super().on_cell_executed(**kwargs)
        if kwargs["execute_reply"]["content"]["status"] == "error":
            cell = kwargs["cell"]
            cell.outputs = [out for out in cell.outputs if out.output_type != "execute_result"]

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stop_reason is not None:
            cell.outputs = [_error("CellNotExecuted", f"此单元格没有运行：{self._stop_reason}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.log.error("第 %d 个单元格运行时内核退出，之后的单元格不再运行。", index + 1)
            self._stop_reason = f"内核在运行第 {index + 1} 个单元格时退出了。"
            cell.outputs.append(_error(
                "DeadKernelError",
                "运行此单元格时内核（Python 进程）退出了，例如代码调用了 os._exit() 或结束了自身进程，"
                "或用尽了内存。之后的单元格都没有运行，不计分。",
            ))
        except CellTimeoutError:
            self.log.error("第 %d 个单元格超时且无法中断，已停止内核，之后的单元格不再运行。", index + 1)
            self._stop_reason = f"第 {index + 1} 个单元格超时且无法中断，内核已被停止。"
            cell.outputs.append(_error(
                "CellTimeoutError",
                f"此单元格运行超过 {self.timeout} 秒，且不响应中断（例如屏蔽了中断信号的死循环），"
                "内核已被停止。之后的单元格都没有运行，不计分。",
            ))
            run_sync(self.km.shutdown_kernel)(now=True)
        return cell, resources


class SafeOverwriteCells(OverwriteCells):
    """``OverwriteCells`` whose re-added test cells never fail the submission."""

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
            nb.cells.insert(position, self.missing_cell_transform(
                source_cells[name], grade_cells[name].max_score, is_solution=name in solution_ids,
            ))
        return nb, resources
