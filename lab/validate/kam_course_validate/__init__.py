"""The Chinese Validate button of the course's JupyterLab, prebuilt.

The TypeScript source is beside this package (``src/``, ``style/``); ``make labextension``
rebuilds ``labextension/`` from it and records the source's fingerprint there
(``python -m kam_course_validate``). pip installs the built extension into
``share/jupyter/labextensions/@kam-course/validate``, so JupyterLab, Binder and the hub need no
node. A test compares the recorded fingerprint with the committed source.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["SOURCES", "DIGEST_FILE", "source_digest", "record"]

#: What the bundle is built from, relative to the extension's folder.
SOURCES = ("package.json", "package-lock.json", "tsconfig.json", "src", "style")
#: Where the build records the fingerprint of its source.
DIGEST_FILE = "labextension/source.sha256"


def source_digest(folder: Path) -> str:
    """SHA-256 over the names and contents of the source files under ``folder``."""
    digest = hashlib.sha256()
    for name in SOURCES:
        path = folder / name
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(file.relative_to(folder).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def record(folder: Path) -> str:
    """Write the fingerprint of ``folder``'s source beside its freshly built bundle."""
    value = source_digest(folder)
    (folder / DIGEST_FILE).write_text(value + "\n", encoding="ascii")
    return value
