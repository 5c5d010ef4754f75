"""The common slips of a first-time Python user, explained in Chinese in the notebook.

:func:`install` (called when an exercise notebook imports :mod:`kamlib.checks`) asks
IPython to show these errors as one Chinese explanation instead of a traceback:

* ``Tier.partnership`` — a tier name must be in capitals;
* ``x = Tier.VENDOR：`` — full-width punctuation from a Chinese keyboard;
* ``raise NotImplementedError()`` — the placeholder line left in an answer cell;
* ``NameError`` — an answer, or ``Tier``, not defined yet (after a kernel restart);
* the check cells' ``AssertionError`` — the printed hint above says what to change.

Only the *display* changes: the cell still fails, so "run all" still stops there and
grading (which decides outside the learner's kernel) is not affected. Any other error
keeps Python's own traceback.

A learner's JupyterLab server also loads this module as an IPython extension when a kernel
starts (:class:`LearnerKernelSpec`), so an answer cell run before the setup cell after a
kernel restart is explained too. Only that server's kernels do: grading and Validate start
their kernels themselves, with Jupyter's ordinary kernel specs.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from jupyter_client.kernelspec import KernelSpec

from kamlib.tiers import Tier

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["explain", "install", "load_ipython_extension", "LearnerKernelSpec", "QuestionError"]

_RED, _RESET = "\x1b[0;31m", "\x1b[0m"
_SETUP_NAMES = frozenset(
    {"Tier", "INDICATORS", "TIER_RULE_ZH", "classify", "pd", "accounts", "contacts", "orders", "DUTIES", "ROLES"}
)
_CHECK_FAILED = "请按上面的提示修改答案。"


class QuestionError(Exception):
    """A self-study check that cannot go on (e.g. the answer is not defined); its message is Chinese."""


_CHINESE_PUNCTUATION = "：，（）“”‘’；。、【】！？　＝［］｛｝＋－＊／"


def _full_width(error: SyntaxError) -> str | None:
    """The Chinese punctuation mark in the line of a syntax error, if any."""
    if "invalid character" in (error.msg or "") and "'" in error.msg:
        return error.msg.split("'")[1]
    return next((ch for ch in error.text or "" if ch in _CHINESE_PUNCTUATION), None)


def explain(error: BaseException) -> str | None:
    """A Chinese explanation of ``error`` when it is one of the slips above, else ``None``."""
    message = str(error)
    if isinstance(error, QuestionError):
        return message
    if isinstance(error, SyntaxError):
        where = f"第 {error.lineno} 行" if error.lineno else "这段代码"
        char = _full_width(error)
        if char:
            ascii_char = unicodedata.normalize("NFKC", char)
            if char in "“”":
                ascii_char = '"'
            elif char in "‘’":
                ascii_char = "'"
            elif char == "。":
                ascii_char = "."
            elif char == "、":
                ascii_char = ","
            fix = f"应写成英文的 {ascii_char}" if ascii_char != char else "请删除它或改成英文字符"
            return (
                f"{where}有中文标点“{char}”，{fix}。代码里的标点（冒号、逗号、括号、引号）都要用英文的："
                "请切换到英文输入法后重新输入这个符号。"
            )
        if isinstance(error, IndentationError):
            return f"{where}的缩进不对：答案的每一行都要顶格写，行首不要有空格。"
        return (
            f"{where}的写法有误（Python 的说明：{error.msg}）。常见原因：括号或引号没有成对、少了逗号，或用了中文标点。"
        )
    if type(error) is NotImplementedError and not message:
        return "这道题还没有作答：请在这个单元格里写下答案，并删除 raise NotImplementedError() 这一行。"
    if type(error) is NameError:
        name = getattr(error, "name", None) or (message.split("'")[1] if "'" in message else "")
        if name in _SETUP_NAMES:
            return (
                f"找不到 {name}：内核刚重启过，或还没有运行本笔记本最上面的准备单元格。请先运行上面的单元格："
                "点菜单“运行 → 运行上方所有单元格”，或从第一个代码单元格起依次按 Shift + Enter。"
            )
        return (
            f"找不到 {name}：请先运行上面的单元格（写有这个答案的作答单元格）。如果已经运行过，检查名字的拼写和大小写"
            "是否和题目一致；内核重启后要从头依次运行。"
        )
    if type(error) is AttributeError and getattr(error, "obj", None) is Tier:
        name = str(getattr(error, "name", ""))
        meant = next((t for t in Tier if t.name == name.upper().replace(" ", "_")), None)
        fix = f"，应写成 Tier.{meant.name}" if meant else "，可选的层级：" + "、".join(f"Tier.{t.name}" for t in Tier)
        return f"Tier 没有 {name} 这个层级。层级名要全大写{fix}。"
    if type(error) is AssertionError and message == _CHECK_FAILED:
        return "写法还不对：" + _CHECK_FAILED
    return None


def _handler(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython's custom exception handler: show the Chinese explanation (or the usual traceback)."""
    text = explain(value)
    if text is None:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    else:
        plain = isinstance(value, (QuestionError, NotImplementedError, AssertionError))
        original = "" if plain else f"\n（Python 的原始报错：{etype.__name__}: {value}）"
        stb = [f"{_RED}✘ {text}{_RESET}{original}"]
    shell._showtraceback(etype, value, stb)
    return stb


def install(shell: InteractiveShell | None = None) -> None:
    """Show the slips above in Chinese in ``shell``, by default the running IPython (nothing outside IPython)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None or getattr(shell, "_kam_slips", False):
        return
    shell.set_custom_exc(
        (SyntaxError, NotImplementedError, NameError, AttributeError, AssertionError, QuestionError), _handler
    )
    shell._kam_slips = True


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """IPython's hook for ``--ext=kamlib.slips`` (and ``%load_ext kamlib.slips``): :func:`install`."""
    install(ipython)


#: The kernel option that loads this module at kernel start.
KERNEL_OPTION = f"--ext={__name__}"


class LearnerKernelSpec(KernelSpec):
    """The kernel spec of a learner's JupyterLab: an IPython kernel loads this module at start.

    A server setting, never a file in the user's Jupyter or IPython folders:
    ``--KernelSpecManager.kernel_spec_class=kamlib.slips.LearnerKernelSpec`` (``make lab``) or
    the same in deploy/learner's server config (the hub's trainees, Binder). Only the kernels
    that server starts for its notebooks load it.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if any("ipykernel" in arg for arg in self.argv) and KERNEL_OPTION not in self.argv:
            self.argv = [*self.argv, KERNEL_OPTION]
