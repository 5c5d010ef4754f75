"""Build kamlib/fonts/KamSans-Regular.ttf, the Chinese font bundled with kamlib.

The charts of the course carry Chinese titles and labels. A fresh Linux machine or a
Binder image usually has no CJK font, and matplotlib then draws empty boxes. kamlib
therefore ships a subset of WenQuanYi Micro Hei (Apache-2.0, derived from Google's Droid
Sans Fallback), renamed "Kam Sans" so that it never shadows a full system install of the
original font.

Kept in the subset:

* ASCII and Latin-1 (U+0020-U+00FF), General Punctuation (U+2000-U+206F), arrows and
  a few maths signs, CJK Symbols and Punctuation (U+3000-U+303F), Halfwidth and
  Fullwidth Forms (U+FF00-U+FFEF);
* every character of GB2312 (symbols rows 0xA1-0xA9 and the 6,763 hanzi, found by
  decoding the byte pairs 0xA1A1-0xF7FE with the ``gb2312`` codec);
* every non-ASCII character used in the repository's package, course and exercise
  files (so a name outside GB2312 in a CSV still renders).

Regenerate (after ``apt-get install fonts-wqy-microhei`` on Debian/Ubuntu, or with
``--source`` pointing at a copy of ``wqy-microhei.ttc``), from the repository root::

    .venv/bin/python tools/build_font.py

The output is deterministic for a given source font and repository content.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUTPUT = ROOT / "kamlib" / "fonts" / "KamSans-Regular.ttf"
FAMILY = "Kam Sans"
POSTSCRIPT_NAME = "KamSans-Regular"
# A fixed timestamp (seconds since 1904-01-01) keeps rebuilds byte-identical.
FIXED_TIMESTAMP = 3_849_000_000

RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x2000, 0x206F),  # General Punctuation
    (0x2190, 0x21FF),  # Arrows
    (0x2212, 0x2212),  # minus sign
    (0x2264, 0x2265),  # less-/greater-than or equal
    (0x25A0, 0x25CF),  # squares, triangles, circles
    (0x2605, 0x2606),  # stars
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
]
REPO_GLOBS = [
    "kamlib/**/*.py",
    "kamlib/**/*.csv",
    "kamlib/**/*.md",
    "course/**/*.ipynb",
    "exercises/source/**/*.ipynb",
    "README.md",
]


def gb2312_chars() -> set[str]:
    """All characters of GB2312: symbol rows 0xA1-0xA9 and hanzi rows 0xB0-0xF7."""
    chars: set[str] = set()
    for lead in [*range(0xA1, 0xAA), *range(0xB0, 0xF8)]:
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # unassigned code point
    return chars


def repo_chars(root: Path = ROOT) -> set[str]:
    """Non-ASCII characters used in the repository's package, course and exercise files."""
    chars: set[str] = set()
    for pattern in REPO_GLOBS:
        for path in root.glob(pattern):
            if ".ipynb_checkpoints" in path.parts:
                continue
            chars.update(c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7E)
    return {c for c in chars if c.isprintable()}


def wanted_codepoints(root: Path = ROOT) -> set[int]:
    """Code points the bundled font should cover."""
    points = {cp for lo, hi in RANGES for cp in range(lo, hi + 1)}
    points |= {ord(c) for c in gb2312_chars() | repo_chars(root)}
    return points


def _rename(font: TTFont) -> None:
    """Give the subset its own family name, keeping the original notices (Apache-2.0 §4)."""
    name = font["name"]
    keep = {0, 5, 7, 8, 11, 12, 13, 14}
    name.names = [r for r in name.names if r.nameID in keep and r.platformID == 3 and r.langID == 0x409]
    copyright_ = name.getDebugName(0)
    description = (
        "Kam Sans is a subset of WenQuanYi Micro Hei 0.2.0-beta (itself derived from "
        "Droid Sans Fallback), renamed and reduced to GB2312, Latin-1 and punctuation "
        "for the kamlib course kit. Modified from the original; see LICENSE-Apache-2.0.txt."
    )
    for name_id, text in {
        0: copyright_,
        1: FAMILY,
        2: "Regular",
        3: f"{FAMILY} Regular; subset of WenQuanYi Micro Hei 0.2.0-beta",
        4: f"{FAMILY} Regular",
        6: POSTSCRIPT_NAME,
        10: description,
    }.items():
        name.setName(text, name_id, 3, 1, 0x409)


def build(source: Path = DEFAULT_SOURCE, output: Path = OUTPUT) -> Path:
    """Subset *source* (face 0 of the WenQuanYi collection) into *output*."""
    font = TTFont(source, fontNumber=0, recalcTimestamp=False)
    available = set(font.getBestCmap())
    unicodes = sorted(wanted_codepoints() & available)

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # matplotlib renders with FreeType's own hinting
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)

    _rename(font)
    font["head"].created = font["head"].modified = FIXED_TIMESTAMP
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(output)
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="wqy-microhei.ttc (default: the Debian package's copy)"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    path = build(args.source, args.output)
    cmap = TTFont(path)["cmap"].getBestCmap()
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
        f"{path.stat().st_size / 1e6:.2f} MB, {len(cmap)} characters"
    )


if __name__ == "__main__":
    main()
