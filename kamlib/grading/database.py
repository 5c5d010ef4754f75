"""Plain SQL on the gradebook database: sqlite3 for a SQLite file, SQLAlchemy for other servers.

Reading a SQLite gradebook this way needs neither SQLAlchemy nor nbgrader (whose imports
take seconds); a PostgreSQL gradebook is read through SQLAlchemy, the same SQL text.
Queries name their parameters ``:name``, which both understand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .nbgrader_adapter import read_only


def sqlite_path(db_url: str) -> Path | None:
    """The file of a SQLite database URL (as SQLAlchemy's ``make_url`` reads it), else None."""
    scheme, sep, rest = db_url.partition("://")
    if not sep or not scheme.startswith("sqlite"):
        return None
    database = unquote(rest.partition("?")[0].partition("/")[2])
    return Path(database) if database else None


@dataclass(frozen=True)
class Database:
    """A read-only view of the gradebook: ``rows(sql, **params)`` and ``has_table(name)``."""

    _rows: Callable[[str, Mapping[str, object]], list[tuple]]
    has_table: Callable[[str], bool]

    def rows(self, sql: str, **params: object) -> list[tuple]:
        return self._rows(sql, params)


@contextmanager
def reading(db_url: str) -> Iterator[Database]:
    """Open the gradebook at ``db_url`` for reading; a SQLite file is never created or changed."""
    path = sqlite_path(db_url)
    if path is not None:
        with closing(read_only(path)) as con:
            yield Database(
                lambda sql, params: con.execute(sql, params).fetchall(),
                lambda name: (
                    con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
                    is not None
                ),
            )
        return
    import sqlalchemy as sa

    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            yield Database(
                lambda sql, params: [tuple(r) for r in conn.execute(sa.text(sql), params)],
                lambda name: sa.inspect(conn).has_table(name),
            )
    finally:
        engine.dispose()
