"""The source deck, as the tests read it: boilerplate dropped, the corrections of tools/deck.py applied."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from tools.deck import CORRECTIONS, SCRAPE_ERRORS  # noqa: F401  (re-exported to the tests)

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed"


def normalise(text: str) -> str:
    """Drop whitespace and punctuation (ASCII or full-width) so only the wording is compared."""
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))


def deck_path() -> Path | None:
    """The deck file beside the repository (``../shared/seed/000_*.txt``), or None when it is absent."""
    found = sorted(SEED.glob("000_*.txt")) if SEED.is_dir() else []
    return found[0] if found else None


def corrected_deck(path: Path) -> str:
    """The deck text without the site's boilerplate, the scrape corrections of tools/deck.py applied."""
    text = "\n".join(path.read_text(encoding="utf-8").splitlines()[4:])
    for wrong, right in CORRECTIONS.items():
        text = text.replace(wrong, right)
    return text
