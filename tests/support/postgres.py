"""A throw-away PostgreSQL server for tests: initdb + pg_ctl into a temporary directory.

The server listens on a unix socket in that directory only (no TCP port, so no port
clashes), trusts local connections, and skips fsync (its data is thrown away)::

    with PostgresServer.start() as server:       # MissingPostgres if there are no binaries
        url = server.create_database("kam_course")
        # postgresql+psycopg2://postgres@/kam_course?host=/tmp/kam-pg-…

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` system
user (Debian's ``postgresql`` package creates it) via ``runuser``, and owns the
temporary directory. The binaries are found under /usr/lib/postgresql/<version>/bin
(Debian, Ubuntu), then on PATH (Homebrew, Fedora), or in $PG_BIN.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

DRIVER = "postgresql+psycopg2"
SUPERUSER = "postgres"
RUN_AS = "postgres"  # the system user the server runs as when we are root


class MissingPostgres(RuntimeError):
    """The PostgreSQL server binaries (or, as root, the postgres user) are not there."""


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl (newest Debian version first)."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))

    def version(path: str) -> tuple:
        name = Path(path).parent.parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates += [
        Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    ]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise MissingPostgres(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin, "
        "on PATH or in $PG_BIN; install them with `apt-get install postgresql` (Debian/Ubuntu)"
    )


class PostgresServer:
    def __init__(self, bindir: Path, base: Path, owner: str | None):
        self.bindir = bindir
        self.base = base  # /tmp/kam-pg-XXXX: data/ and the socket
        self.data = base / "data"
        self.owner = owner  # system user running the server (None: ourselves)
        self.log = base / "server.log"

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def start(cls) -> PostgresServer:
        bindir = find_bindir()
        owner = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam(RUN_AS)
            except KeyError:
                raise MissingPostgres(
                    f"running as root, and PostgreSQL refuses to run as root, but there is no "
                    f"'{RUN_AS}' system user to run it as (Debian's postgresql package creates it)"
                ) from None
            if not shutil.which("runuser"):
                raise MissingPostgres("running as root and `runuser` (util-linux) is missing")
            owner = RUN_AS
        # Short path under /tmp: a unix socket path is limited to ~100 bytes, and the
        # postgres user must be able to reach it (pytest's tmp dirs are private to root).
        base = Path(tempfile.mkdtemp(prefix="kam-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        server = cls(bindir, base, owner)
        try:
            if owner:
                shutil.chown(base, user=owner)
            server._run(
                "initdb",
                "-D",
                str(server.data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
            server._run(
                "pg_ctl",
                "-D",
                str(server.data),
                "-l",
                str(server.log),
                "-w",
                "-t",
                "60",
                "-o",
                server._options(),
                "start",
            )
        except BaseException:
            server.stop()
            raise
        return server

    def _options(self) -> str:
        settings = {
            "listen_addresses": "''",  # unix socket only
            "unix_socket_directories": f"'{self.base}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        return " ".join(f"-c {k}={v}" for k, v in settings.items())

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop", check=False)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ use
    def url(self, database: str) -> str:
        return f"{DRIVER}://{SUPERUSER}@/{database}?host={self.base}"

    def create_database(self, name: str, copy_of: str | None = None) -> str:
        """Create a database and return its SQLAlchemy URL: empty (UTF-8), or a copy of
        database ``copy_of`` (which nobody may be connected to)."""
        self._run("createdb", "-h", str(self.base), "-U", SUPERUSER, "-E", "UTF8", "-T", copy_of or "template0", name)
        return self.url(name)

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / tool), *args]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.base)
        if check and done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}")
        return done
