"""The trainer's learner version (``nbgrader generate_assignment``) without answer explanations.

Each autograded test cell of a source notebook carries a short Chinese explanation of its
answer in ``metadata["kam"]["explanation"]`` (the self-study build and, when the trainer
opts in, feedback show it). :class:`StripExplanations`, appended to
``GenerateAssignment.preprocessors`` in ``exercises/nbgrader_config.py``, removes it from
the learner version; everything else nbgrader writes stays as it is.
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["StripExplanations", "ANSWER_KEYS"]

#: Keys of ``metadata["kam"]`` that give an answer away.
ANSWER_KEYS = ("explanation",)


class StripExplanations(NbGraderPreprocessor):
    """Drop ``metadata["kam"]["explanation"]`` (and an emptied ``kam``) from every cell."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        kam = cell.metadata.get("kam")
        if isinstance(kam, dict):
            for key in ANSWER_KEYS:
                kam.pop(key, None)
            if not kam:
                del cell.metadata["kam"]
        return cell, resources
