"""Chinese explanations of why nbgrader could not grade a submission, and of what it noticed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path


class RefusedSubmission(RuntimeError):
    """A submission that is not graded at all (e.g. its notebook is a link); the message (Chinese) says why."""


def refuse_unreadable_files(folder: Path, limit: int) -> None:
    """Raise :class:`RefusedSubmission` when ``folder`` holds something that is neither a file nor a
    folder, also behind a link (a named pipe would hang every reader, a device never ends), or
    files larger in all than ``limit`` bytes (nbgrader copies them whole, sparse or linked ones too)."""
    special, size = [], 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            try:
                status = path.stat()  # through a link, as nbgrader's copy goes
            except OSError:
                continue  # a broken link: nbgrader's copy fails this submission alone
            if stat.S_ISREG(status.st_mode):
                size += status.st_size
            elif not stat.S_ISDIR(status.st_mode):
                special.append(str(path.relative_to(folder)))
    if special:
        raise RefusedSubmission(
            f"提交中的 {'、'.join(sorted(special))} 不是普通文件（例如是命名管道或设备），未评分；"
            "请学员重新提交（笔记本和普通文件）"
        )
    if size > limit:
        raise RefusedSubmission(
            f"提交文件夹中的文件共 {size / 1e6:,.0f} MB，超过一份提交的上限 {limit / 1e6:,.0f} MB"
            "（nbgrader 的 CourseDirectory.max_file_size），未评分；请学员删去大文件后重新提交"
        )


def explain_failure(exc: BaseException | None, notebook: str | None, timeout: int | None, action: str = "评分") -> str:
    """One Chinese sentence saying why a submission was not graded.

    ``exc`` is the exception nbgrader caught (None when nbgrader gave up before
    opening a notebook), ``notebook`` the file it was working on.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat import ValidationError
    from nbformat.reader import NotJSONError
    from nbgrader.nbgraderformat import SchemaTooNewError, SchemaTooOldError
    from nbgrader.preprocessors.execute import UnresponsiveKernelError

    nb = f"笔记本 {notebook}" if notebook else "该作业"
    limit = f"（每个单元格限时 {timeout} 秒）" if timeout else ""
    from .sandbox import SandboxError

    if exc is None:
        return f"{action}失败，nbgrader 没有给出原因（可加 --verbose 查看日志）"
    if isinstance(exc, SandboxError | RefusedSubmission):
        return str(exc)
    if isinstance(exc, NotJSONError | json.JSONDecodeError | UnicodeDecodeError):
        return f"{nb} 不是有效的 JSON 文件（文件损坏或被截断），请学员重新提交"
    if isinstance(exc, ValidationError):
        return f"{nb} 不符合 Jupyter 笔记本格式：{_first_line(exc)}"
    if isinstance(exc, UnresponsiveKernelError):
        return f"{nb} 的代码运行超时{limit}且内核无法中断（可能是死循环占满内存），未评分"
    if isinstance(exc, CellTimeoutError):
        return f"{nb} 的代码运行超时{limit}，未评分"
    if isinstance(exc, DeadKernelError):
        return f"运行{nb} 时内核意外退出（学员代码可能调用了 exit()、耗尽内存或使 Python 崩溃），未评分"
    if isinstance(exc, SchemaTooOldError | SchemaTooNewError):
        return f"{nb} 的 nbgrader 元数据版本与本课程不一致，请学员用最新发布的作业重新作答"
    if isinstance(exc, FileNotFoundError):
        return f"找不到文件：{exc.filename or _first_line(exc)}"
    return f"{action}{nb} 时出错：{type(exc).__name__}: {_first_line(exc)}"


def no_notebook_reason(folder: Path, expected: list[str], root: Path | None = None) -> str:
    """Why a submission folder without the assignment's notebooks cannot be graded."""
    names = "、".join(f"{n}.ipynb" for n in expected) or "作业笔记本"
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    found = f"；文件夹里只有 {'、'.join(present)}" if present else ""
    shown = os.path.relpath(folder, root) if root else folder
    return f"提交文件夹 {shown} 中没有作业笔记本（应为 {names}{found}）"


def execution_notes(autograded: Path) -> list[str]:
    """Chinese notes on cells that timed out or lost their kernel, read from the autograded notebooks.

    nbgrader interrupts a cell that runs too long and grades on; a course may also
    grade on after a dead kernel (see kamlib.grading.preprocessors). Either way the
    trainer should know.
    """
    notes = []
    for path in sorted(autograded.glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for index, cell in enumerate(cells, start=1):
            enames = {o.get("ename") for o in cell.get("outputs", [])}
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            where = f"{path.name} 的单元格 {gid} " if gid else f"{path.name} 的第 {index} 个单元格"
            if "CellTimeoutError" in enames:
                notes.append(f"{where}运行超时，已被中断（该处按未通过计分）")
            if "DeadKernelError" in enames:
                notes.append(f"{where}运行时内核退出，之后的单元格没有运行（按未通过计分）")
    return notes


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
