"""Timestamped copies of the SQLite gradebook, taken before ``kam`` writes to it.

A copy is kept only when it differs from the newest one, so runs that change nothing
do not push older copies out. Rotation keeps the newest :data:`KEEP` copies and, in
any case, the newest copy that holds grades and the newest that holds manual grades.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .nbgrader_adapter import gradebook_counts, read_only

KEEP = 10
SUFFIX = ".bak-"
STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class BackupInfo:
    """What one gradebook copy holds (``problem`` is a Chinese sentence when it cannot be read)."""

    path: Path
    taken: datetime
    assignments: tuple[str, ...] = ()
    learners: int = 0
    grades: int = 0  # grades with a score (autograded or by hand)
    manual: int = 0  # grades given by hand
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def backups(db: Path) -> list[Path]:
    """Existing backups of ``db``, oldest first."""
    return sorted(db.parent.glob(f"{db.name}{SUFFIX}*"))


def _taken(path: Path) -> datetime:
    stamp = path.name.rsplit(SUFFIX, 1)[-1][:15]
    try:
        return datetime.strptime(stamp, STAMP)
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime)


def describe(path: Path) -> BackupInfo:
    """Read what the gradebook (or gradebook copy) at ``path`` holds, without changing it."""
    taken = _taken(path) if SUFFIX in path.name else datetime.fromtimestamp(path.stat().st_mtime)
    try:
        with closing(read_only(path)) as con:
            counts = gradebook_counts(con)
    except sqlite3.Error:
        return BackupInfo(path, taken, problem="文件已损坏或不是 nbgrader 成绩库，无法读取")
    return BackupInfo(path, taken, counts.assignments, counts.learners, counts.grades, counts.manual)


def gradebook_problem(db: Path) -> str:
    """Empty when ``db`` is a readable gradebook; else a Chinese sentence saying what is wrong."""
    if not db.exists():
        return f"成绩库 {db.name} 不存在（可能被删除或移走了）"
    if db.is_dir():
        return f"成绩库 {db.name} 是一个文件夹，不是成绩库文件"
    info = describe(db)
    return f"成绩库 {db.name} 已损坏（可能被截断或被其他程序改写），无法读取" if info.problem else ""


def _digest(path: Path) -> str | None:
    """A digest of the database's content (not of its file), or None when SQLite cannot read it."""
    h = hashlib.sha256()
    try:
        with closing(read_only(path)) as con:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return None
            for line in con.iterdump():
                h.update(line.encode("utf-8"))
    except sqlite3.Error:
        return None
    return h.hexdigest()


def _unused_name(db: Path, now: datetime) -> Path:
    stamp = now.strftime(STAMP)
    target = db.with_name(f"{db.name}{SUFFIX}{stamp}")
    n = 1
    while target.exists():
        target = db.with_name(f"{db.name}{SUFFIX}{stamp}-{n}")
        n += 1
    return target


def copy_gradebook(src: Path, target: Path) -> None:
    """Copy a readable gradebook with SQLite's online backup (consistent while it is open elsewhere)."""
    with closing(read_only(src)) as s, closing(sqlite3.connect(target)) as d:
        s.backup(d)


def backup_gradebook(db: Path, keep: int = KEEP, now: datetime | None = None) -> Path | None:
    """Copy ``db`` to ``<db>.bak-YYYYmmdd-HHMMSS`` unless the newest copy holds the same; rotate.

    Returns the copy holding the current gradebook (the new one, or the newest existing
    one when nothing changed since), or None when there is no gradebook. A gradebook
    SQLite cannot read is copied byte for byte, so nothing is lost either way.
    """
    if not db.is_file():
        return None
    existing = backups(db)
    digest = _digest(db)
    if digest is not None and existing and _digest(existing[-1]) == digest:
        return existing[-1]
    target = _unused_name(db, now or datetime.now())
    if digest is not None:
        copy_gradebook(db, target)
    else:
        shutil.copyfile(db, target)
    rotate(db, keep)
    return target


def rotate(db: Path, keep: int = KEEP) -> None:
    """Delete all but the newest ``keep`` backups, sparing the newest with grades and with manual grades."""
    infos = [describe(p) for p in backups(db)]
    spare = {infos[i].path for i in range(len(infos))[-keep:]} if keep else set()
    for wanted in (lambda i: i.grades > 0, lambda i: i.manual > 0):
        holding = [i for i in infos if i.ok and wanted(i)]
        if holding:
            spare.add(holding[-1].path)
    for info in infos:
        if info.path not in spare:
            info.path.unlink()
