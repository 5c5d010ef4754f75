"""``kam restore``: put a backup of the gradebook back, safely.

The gradebook being replaced is itself backed up first (byte for byte when SQLite can
no longer read it), so a restore can always be undone with another restore.
Messages about a missing or damaged gradebook name the backups and this way back
(:func:`way_back`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .backup import BackupInfo, backup_gradebook, backups, copy_gradebook, describe, gradebook_problem
from .course import KamError


def list_backups(db: Path) -> list[BackupInfo]:
    """What each backup of ``db`` holds, newest first."""
    return [describe(p) for p in reversed(backups(db))]


def summary(info: BackupInfo) -> str:
    """One Chinese line: name, date and contents of a backup."""
    when = info.taken.strftime("%Y-%m-%d %H:%M:%S")
    if info.problem:
        return f"{info.path.name}（{when}）：{info.problem}"
    names = "、".join(info.assignments) or "无"
    return (
        f"{info.path.name}（{when}）：作业 {names}；学员 {info.learners} 名，"
        f"成绩 {info.grades} 项，其中人工评分 {info.manual} 项"
    )


def way_back(db: Path) -> str:
    """The Chinese sentence that ends every message about a missing or damaged gradebook."""
    usable = [i for i in list_backups(db) if i.ok]
    if usable:
        newest = usable[0]
        return (
            f"可以用备份恢复：最近的可用备份是 {summary(newest)}。运行 kam restore 查看全部 {len(usable)} 份备份，"
            f"kam restore {newest.path.name} 恢复这一份。"
        )
    return (
        "没有可用的备份。请运行 nbgrader generate_assignment --force 作业名 生成作业（成绩库随之建立）；"
        "如果之前评过分，再运行 kam grade 作业名 重新评分（自动评分的成绩会重新算出，人工评分需要重新批改），"
        "并用 kam roster 名单 重新导入学员名单。"
    )


def require_gradebook(db: Path) -> None:
    """Raise KamError (what is wrong, and the way back) unless ``db`` is a readable gradebook."""
    problem = gradebook_problem(db)
    if problem:
        raise KamError(f"{problem}。{way_back(db)}")


def choose(db: Path, which: str) -> BackupInfo:
    """The backup named ``which`` (a file name, or its number in :func:`list_backups`, 1 = newest)."""
    infos = list_backups(db)
    if not infos:
        raise KamError(f"{db.parent} 中没有成绩库 {db.name} 的备份（{db.name}.bak-日期-时间）。")
    if which.isdigit() and 1 <= int(which) <= len(infos):
        return infos[int(which) - 1]
    for info in infos:
        if info.path.name == Path(which).name:
            return info
    raise KamError(f"没有名为“{which}”的备份。现有备份：{'、'.join(i.path.name for i in infos)}")


def restore_backup(db: Path, which: str) -> tuple[BackupInfo, Path | None]:
    """Replace ``db`` by the backup ``which``; return it and the backup of the replaced gradebook.

    Refuses a backup SQLite cannot read. The new gradebook is written beside ``db`` and
    moved into place in one step, so an interruption leaves either the old or the new one.
    """
    info = choose(db, which)
    if not info.ok:
        raise KamError(f"备份 {info.path.name} {info.problem}，不能用它恢复。请选另一份（kam restore 列出全部备份）。")
    fd, tmp = tempfile.mkstemp(prefix=f".{db.name}.", dir=db.parent)
    os.close(fd)
    try:
        copy_gradebook(info.path, Path(tmp))  # before the backup below may rotate ``info`` out
        saved = backup_gradebook(db) if db.is_file() else None
        os.replace(tmp, db)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return info, saved
