"""The source deck, as the tests read it: boilerplate dropped, the seed README's corrections applied."""

from __future__ import annotations

import unicodedata
from pathlib import Path

SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed"
# Scrape errors listed in the seed README; none may survive anywhere in the kit.
SCRAPE_ERRORS = ["juemi", "遍好", "技持", "掌据", "战略联盟产", "Leabharlann", "确定优势程序"]
CORRECTIONS = {
    "juemi": "绝密",
    "遍好": "偏好",
    "技持": "支持",
    "掌据": "掌握",
    "战略联盟产关系": "战略联盟关系",
    "16伙Leabharlann 关系": "16\n合作伙伴关系\n",
    "确定优势程序": "确定优先顺序",
    "作 用": "作用",
}


def normalise(text: str) -> str:
    """Drop whitespace and punctuation (ASCII or full-width) so only the wording is compared."""
    return "".join(c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))


def deck_path() -> Path | None:
    """The deck file beside the repository (``../shared/seed/000_*.txt``), or None when it is absent."""
    found = sorted(SEED.glob("000_*.txt")) if SEED.is_dir() else []
    return found[0] if found else None


def corrected_deck(path: Path) -> str:
    """The deck text without the site's boilerplate, the README's scrape corrections applied."""
    text = "\n".join(path.read_text(encoding="utf-8").splitlines()[4:])
    for wrong, right in CORRECTIONS.items():
        text = text.replace(wrong, right)
    return text
