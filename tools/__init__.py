"""Maintainer build scripts: handouts, the case-study data, the bundled font.

Run from the repository root (``python -m tools.<name>``); they are not part of the
installed kamlib package, which holds only what learners' and trainers' code imports.
"""
