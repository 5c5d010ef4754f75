"""The source deck, as the tests read it: boilerplate dropped, the corrections of tools/deck.py applied."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed"
from tools.deck import CORRECTIONS, SCRAPE_ERRORS  # noqa: F401  (re-exported to the tests)


def normalise(text: str) -> str:
    """Drop whitespace and punctuation (ASCII or full-width) so only the wording is compared."""
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))


def deck_path() -> Path:
    """The deck file beside the repository; skips without it (fails in CI, where it must be)."""
    if not SEED.is_dir():
        reason = "the course deck (../shared/seed beside the repository) is absent"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    (path,) = sorted(SEED.glob("000_*.txt"))
    return path


def corrected_deck(path: Path) -> str:
    """The deck text without the site's boilerplate, the scrape corrections of tools/deck.py applied."""
    text = "\n".join(path.read_text(encoding="utf-8").splitlines()[4:])
    for wrong, right in CORRECTIONS.items():
        text = text.replace(wrong, right)
    return text
