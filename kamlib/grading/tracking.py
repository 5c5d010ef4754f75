"""nbgrader converters that remember what they did, for per-submission reports.

They behave exactly like nbgrader's; they only record whether the submission was
processed (or skipped as already done) and the exception a notebook failed with,
which nbgrader itself only logs.
"""

from __future__ import annotations

import os

from nbgrader.converters import Autograde, GenerateFeedback


class _Tracked:
    processed: bool | None = None
    error: BaseException | None = None
    failed_notebook: str | None = None

    def init_destination(self, assignment_id: str, student_id: str) -> bool:
        self.processed = super().init_destination(assignment_id, student_id)
        return self.processed

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        try:
            super().init_assignment(assignment_id, student_id)
        except Exception as exc:
            self.error = exc
            raise

    def convert_single_notebook(self, notebook_filename: str) -> None:
        try:
            super().convert_single_notebook(notebook_filename)
        except Exception as exc:
            self.error, self.failed_notebook = exc, os.path.basename(notebook_filename)
            raise


class TrackedAutograde(_Tracked, Autograde):
    """nbgrader's ``Autograde`` (configured by the ``Autograde`` section)."""


class TrackedFeedback(_Tracked, GenerateFeedback):
    """nbgrader's ``GenerateFeedback`` (configured by the ``GenerateFeedback`` section)."""
