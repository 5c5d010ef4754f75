"""How nbgrader runs a learner's notebook, for Validate and for grading: in Chinese, with limits.

Both nbgrader configurations apply it: the course root's ``exercises/nbgrader_config.py``
(``make lab``, Binder, the trainer's grading) and the hub's global ``deploy/nbgrader_config.py``,
the only one a trainee's server reads. So Validate checks and says the same thing wherever a
learner presses it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CELL_TIMEOUT", "apply"]

#: Seconds a cell may run before the kernel is interrupted and the cell fails.
CELL_TIMEOUT = 30


def apply(c: Any, cell_timeout: int = CELL_TIMEOUT) -> None:
    """Set Validate's checks and messages and the per-cell limits on config ``c``."""
    # Validate runs the whole notebook. It checks that every question is answered, written
    # the right way and runs — not whether the answer is right (the hidden tests decide that
    # when the trainer grades). Every cell is checked, so an answer cell that still holds the
    # placeholder line `raise NotImplementedError()` is flagged too; the errors themselves
    # are shown in Chinese by kamlib.slips.
    c.Validator.validate_all = True
    c.Validator.failed_warning = (
        "验证未通过：有 {num_failed} 个单元格没有作答、写法不对或运行出错，每一处的中文说明见下面。"
        "请改好后再验证。注意：“验证”只检查是否作答、写法和能否运行，不检查答案对不对。\n"
    )
    c.Validator.changed_warning = (
        "有 {num_changed} 个只读的单元格被改动过。评分时会按原样恢复并重新运行它们，请不要修改只读单元格。\n"
    )
    c.Validator.type_changed_warning = (
        "有 {num_changed} 个单元格的类型被改动过（代码单元格和文字单元格不能互换），请改回原来的类型。\n"
    )
    # Every cell may run `cell_timeout` seconds; then the kernel is interrupted and the cell
    # fails with a Chinese message, and the notebook goes on (validate and autograde alike).
    c.Execute.timeout = cell_timeout
    c.Execute.interrupt_on_timeout = True
    c.Execute.error_on_timeout = {
        "ename": "CellTimeoutError",
        "evalue": "",
        "traceback": [
            f"\x1b[0;31mCellTimeoutError\x1b[0m：此单元格运行超过 {cell_timeout} 秒，已被中断（是否写了死循环？）。"
        ],
    }
    # A kernel that ignores the interrupt is noticed 10 s later (nbgrader waits 4 s by
    # default; a busy machine can be slower than that with a healthy kernel).
    c.Execute.raise_on_iopub_timeout = True
    c.Execute.iopub_timeout = 10
    c.Execute.startup_timeout = 60
