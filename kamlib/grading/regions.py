"""The marked regions of nbgrader source cells, found in one place.

A region runs from a line containing its begin marker to the next line containing its
end marker. Solutions are cut from the learner version by nbgrader itself; hidden tests
and mark schemes are cut by kamlib wherever a learner (or the learner's kernel) would
otherwise see them: feedback, and the test cells sent to the kernel while grading.
"""

from __future__ import annotations

__all__ = ["HIDDEN", "MARK_SCHEME", "SOLUTION", "LEAK_MARKERS", "remove_regions", "region_lines", "region_text"]

HIDDEN = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MARK_SCHEME = ("BEGIN MARK SCHEME", "END MARK SCHEME")
SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")

#: Text that must never appear in a release notebook, a feedback file or a learner's kernel.
LEAK_MARKERS = (*SOLUTION, *HIDDEN, *MARK_SCHEME)


def remove_regions(source: str, begin: str, end: str) -> tuple[str, bool]:
    """``source`` without every ``begin``…``end`` region (markers included); and whether one was found.

    An unterminated region runs to the end of the cell, so nothing after a marker leaks.
    """
    kept: list[str] = []
    inside = removed = False
    for line in source.split("\n"):
        if begin in line:
            inside = removed = True
        elif inside and end in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept), removed


def region_lines(source: str, begin: str, end: str) -> list[str]:
    """The stripped, non-empty lines inside the ``begin``…``end`` regions of ``source``."""
    return [line.strip() for line in region_text(source, begin, end).split("\n") if line.strip()]


def region_text(source: str, begin: str, end: str) -> str:
    """The lines inside the ``begin``…``end`` regions of ``source``, as written (indentation kept)."""
    found, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif inside and end in line:
            inside = False
        elif inside:
            found.append(line)
    return "\n".join(found).strip("\n")
