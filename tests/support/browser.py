"""What the browser tests drive: Debian's Chromium through Playwright, and where screenshots go."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kamlib.pdf import CHROMIUM_FLAGS as PDF_FLAGS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [f for f in PDF_FLAGS if f != "--headless"]  # Playwright adds its own
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


def missing_browser() -> str | None:
    """Why this machine cannot run the browser tests, or None."""
    missing = []
    if not CHROMIUM.exists():
        missing.append("Debian's chromium (/usr/bin/chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright")
    return "browser tests need " + " and ".join(missing) if missing else None
