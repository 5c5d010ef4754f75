"""Timestamped copies of the SQLite gradebook, taken before ``kam`` writes to it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

KEEP = 5
SUFFIX = ".bak-"


def backups(db: Path) -> list[Path]:
    """Existing backups of ``db``, oldest first."""
    return sorted(db.parent.glob(f"{db.name}{SUFFIX}*"))


def backup_gradebook(db: Path, keep: int = KEEP, now: datetime | None = None) -> Path | None:
    """Copy ``db`` to ``<db>.bak-YYYYmmdd-HHMMSS`` and keep only the newest ``keep`` copies.

    Uses SQLite's online backup, so the copy is consistent even while another
    process (the formgrader, say) has the gradebook open. Returns the copy, or
    None when there is no gradebook yet.
    """
    if not db.is_file():
        return None
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = db.with_name(f"{db.name}{SUFFIX}{stamp}")
    n = 1
    while target.exists():
        target = db.with_name(f"{db.name}{SUFFIX}{stamp}-{n}")
        n += 1
    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as src, closing(
        sqlite3.connect(target)
    ) as dst:
        src.backup(dst)
    for old in backups(db)[:-keep]:
        old.unlink()
    return target
