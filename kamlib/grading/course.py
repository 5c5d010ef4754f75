"""An nbgrader course root as the ``kam`` command sees it: config, assignments, submissions.

Everything a trainer can get wrong before grading starts (wrong folder, unknown
assignment, nothing submitted) raises :class:`KamError` with a Chinese message.
"""

from __future__ import annotations

import functools
import glob
import logging
import os
import re
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from .course_config import CourseSettings, read_settings
from .database import sqlite_path

CONFIG_FILE = "nbgrader_config.py"


class KamError(Exception):
    """A problem the trainer can fix; the message is Chinese and names the culprit."""


def find_course_root(path: str | os.PathLike) -> Path:
    """Return ``path`` resolved if it is an nbgrader course root, else raise KamError."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise KamError(f"课程目录不存在：{root}")
    if not (root / CONFIG_FILE).is_file():
        raise KamError(
            f"{root} 不是 nbgrader 课程根目录（其中没有 {CONFIG_FILE}）。"
            f"请在课程根目录（例如 exercises/）中运行，或用 --course 目录 指定。"
        )
    return root


def load_app(root: Path):
    """An nbgrader ``AutogradeApp`` configured exactly as ``nbgrader autograde`` run in ``root``.

    Must be called with ``root`` as the working directory (nbgrader also reads the
    config of the working directory). Its log is silenced; callers attach handlers.
    """
    from nbgrader.apps.autogradeapp import AutogradeApp

    app = AutogradeApp()
    app.log.handlers = [logging.NullHandler()]
    app.log.propagate = False
    app.initialize([], root=str(root))
    app.log.handlers = [logging.NullHandler()]
    return app


def with_busy_timeout(db_url: str, seconds: int = 60) -> str:
    """Add an SQLite busy timeout to ``db_url`` (other URLs are returned unchanged)."""
    if not db_url.startswith("sqlite:") or "timeout=" in db_url:
        return db_url
    return f"{db_url}{'&' if '?' in db_url else '?'}timeout={seconds}"


@dataclass
class Course:
    """A loaded nbgrader course root.

    Its settings (course id, gradebook, folders) are read without nbgrader when possible
    (:mod:`.course_config`); nbgrader's app, which grading and feedback need, is loaded on
    first use, in the working directory of that moment (kam works in the course root).
    """

    root: Path
    light: CourseSettings | None = None  # None: only nbgrader's own loading can tell
    _checked: tuple[int, int] | None = field(default=None, init=False, repr=False)  # the gradebook found readable

    @classmethod
    def load(cls, root: str | os.PathLike) -> Course:
        return cls(Path(root), read_settings(Path(root)))

    @functools.cached_property
    def app(self):
        """nbgrader's AutogradeApp for this course (see :func:`load_app`)."""
        return load_app(self.root)

    @property
    def coursedir(self):
        """nbgrader's CourseDirectory (loads nbgrader)."""
        return self.app.coursedir

    @property
    def settings(self) -> CourseSettings:
        """Course id, gradebook URL and folders, as nbgrader's CourseDirectory has them."""
        return self.light if self.light is not None else self.coursedir

    @property
    def course_id(self) -> str:
        return self.settings.course_id

    @property
    def db_url(self) -> str:
        return self.settings.db_url

    @property
    def db_path(self) -> Path | None:
        """The SQLite gradebook file, or None for a non-SQLite gradebook."""
        return sqlite_path(self.db_url)

    def gradebook(self):
        """Open nbgrader's Gradebook (a context manager). Raises KamError if there is none."""
        from nbgrader.api import Gradebook

        self.require_gradebook()
        return Gradebook(self.db_url, self.course_id)

    def require_gradebook(self) -> None:
        """Raise KamError saying what is wrong and the way back unless the SQLite gradebook is readable
        (checked once while the file stays as it was)."""
        from .restore import require_gradebook

        path = self.db_path
        if path is None:
            return
        try:
            found = path.stat()
            state = (found.st_mtime_ns, found.st_size)
        except OSError:
            state = None
        if state is None or state != self._checked:
            require_gradebook(path)
            self._checked = state

    def gradebook_assignments(self) -> list[str]:
        """Assignments recorded in the gradebook (created by generate_assignment)."""
        path = self.db_path
        if path is not None:
            self.require_gradebook()
            from .nbgrader_adapter import assignment_names, read_only

            with closing(read_only(path)) as con:
                return assignment_names(con, self.course_id)
        with self.gradebook() as gb:
            return sorted(a.name for a in gb.assignments)

    def source_assignments(self) -> list[str]:
        pattern = self.settings.format_path(self.settings.source_directory, ".", "*")
        return sorted(os.path.basename(p) for p in glob.glob(pattern) if os.path.isdir(p))

    def known_assignments(self) -> list[str]:
        return sorted(set(self.gradebook_assignments()) | set(self.source_assignments()))

    def stray_submissions(self) -> list[str]:
        """Folders where a learner's submission of some assignment would be (submitted/学员/作业/)
        named after no assignment of the course (a misspelt name), relative to the course root."""
        cd, known = self.coursedir, set(self.known_assignments())
        found = glob.glob(cd.format_path(cd.submitted_directory, "*", "*"))
        return sorted(
            os.path.relpath(p, self.root) for p in found if os.path.isdir(p) and os.path.basename(p) not in known
        )

    def require_assignment(self, assignment: str) -> None:
        """Raise KamError unless ``assignment`` exists in the gradebook."""
        if assignment in self.gradebook_assignments():
            return
        if assignment in self.source_assignments():
            raise KamError(
                f"作业“{assignment}”还没有生成，成绩库中没有它。"
                f"请先运行：nbgrader generate_assignment --force {assignment}"
            )
        known = "、".join(self.known_assignments()) or "（无）"
        raise KamError(f"未知作业“{assignment}”。已有的作业：{known}")

    def submissions(self, assignment: str) -> dict[str, Path]:
        """Student id -> submitted folder of ``assignment``, sorted by student id."""
        cd = self.coursedir
        pattern = cd.format_path(cd.submitted_directory, "*", assignment)
        regexp = cd.format_path(cd.submitted_directory, "(?P<student_id>[^/\\\\]+)", re.escape(assignment), escape=True)
        found = {}
        for folder in glob.glob(pattern):
            m = re.fullmatch(regexp, folder)
            if m and os.path.isdir(folder):
                found[m.group("student_id")] = Path(folder)
        return dict(sorted(found.items()))

    def require_submissions(self, assignment: str, students: list[str] | None = None) -> dict[str, Path]:
        """The submissions to grade; KamError when there are none (or a named student has none)."""
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, ".", ".")).resolve()
        if not submitted.is_dir() or not any(submitted.iterdir()):
            raise KamError(
                f"提交文件夹 {submitted} 不存在或为空：还没有收取任何作业。"
                f"请先用 nbgrader collect 收取，或把学员作业放到 submitted/学员编号/{assignment}/ 下。"
            )
        found = self.submissions(assignment)
        if not found:
            raise KamError(f"没有学员提交作业“{assignment}”：{submitted} 下没有任何 学员编号/{assignment}/ 文件夹。")
        if students:
            missing = [s for s in students if s not in found]
            if missing:
                raise KamError(
                    f"以下学员没有提交作业“{assignment}”：{'、'.join(missing)}。已提交的学员：{'、'.join(found)}"
                )
            found = {s: found[s] for s in students}
        return found

    def expected_notebooks(self, assignment: str) -> list[str]:
        """Notebook names (without .ipynb) of ``assignment`` in the gradebook."""
        with self.gradebook() as gb:
            return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
