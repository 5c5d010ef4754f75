"""The course-directory settings of an nbgrader course, read without importing nbgrader.

Loading nbgrader's configuration the way ``nbgrader`` does (an ``AutogradeApp``) takes
seconds: it imports nbgrader, and a course's ``nbgrader_config.py`` imports nbgrader's
converters and preprocessors itself. Reading the grades needs none of that, only the
course id, the gradebook URL and the folders. :func:`read_settings` reads the same config
files in the same order with traitlets alone; inside a config file, importing a module
that is not loaded yet gives a stand-in instead of the module (a course's preprocessors are
configured, not run). Whenever the result could differ from nbgrader's — a setting
computed from a stand-in, a config file that fails, options of older nbgrader versions that
nbgrader would translate — it returns None, and the caller loads nbgrader.
"""

from __future__ import annotations

import builtins
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import ConfigFileNotFound, JSONFileConfigLoader, PyFileConfigLoader

SECTION = "CourseDirectory"
DEFAULTS = {
    "course_id": "",
    "source_directory": "source",
    "directory_structure": os.path.join("{nbgrader_step}", "{student_id}", "{assignment_id}"),
}
# options of older nbgrader versions that nbgrader moves into CourseDirectory when it loads them
LEGACY_SECTIONS = ("NbGraderConfig", "BasicConfig", "BaseNbGraderApp", "BaseApp")
LEGACY_OPTIONS = {
    "NbGrader": (
        "student_id",
        "assignment_id",
        "notebook_id",
        "directory_structure",
        "source_directory",
        "release_directory",
        "submitted_directory",
        "autograded_directory",
        "feedback_directory",
        "solution_directory",
        "db_url",
        "course_directory",
        "ignore",
        "course_id",
    ),
    "Exchange": ("course_id",),
}


class _Unsure(Exception):
    """A config file used a stand-in in a way whose outcome only the real module decides."""


class _StandIn:
    """What a config file gets for a module that is not loaded, and for anything taken from it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> _StandIn:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _StandIn(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs) -> _StandIn:
        return _StandIn(f"{self._name}()")

    def __iter__(self):
        return iter(())

    def __bool__(self) -> bool:
        raise _Unsure(self._name)

    def __str__(self) -> str:
        raise _Unsure(self._name)

    def __eq__(self, other: object) -> bool:
        raise _Unsure(self._name)

    __hash__ = object.__hash__

    def __mro_entries__(self, bases):
        raise _Unsure(self._name)


def _loaded(name: str, fromlist) -> bool:
    if name not in sys.modules:
        return False
    module = sys.modules[name]
    return all(item == "*" or hasattr(module, item) or f"{name}.{item}" in sys.modules for item in fromlist or ())


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    """``__import__`` for config files: loaded modules as they are, a stand-in for any other."""
    if level or _loaded(name, fromlist):
        return builtins.__import__(name, globals, locals, fromlist, level)
    return _StandIn(name if fromlist else name.partition(".")[0])


class _ConfigFileLoader(PyFileConfigLoader):
    """traitlets' loader of ``*_config.py`` files, with :func:`_import` as the files' ``__import__``."""

    def _read_file_as_dict(self) -> None:
        namespace = {
            "c": self.config,
            "load_subconfig": self.load_subconfig,
            "get_config": lambda: self.config,
            "__file__": self.full_filename,
            "__builtins__": {**vars(builtins), "__import__": _import},
        }
        with open(self.full_filename, "rb") as fh:
            exec(compile(fh.read(), self.full_filename, "exec"), namespace, namespace)  # noqa: S102


def _load(base: str, paths: list[str]) -> Config:
    """The files ``base``.py and ``base``.json of ``paths`` (highest priority first) merged, as traitlets does."""
    merged = Config()
    for path in reversed(paths):
        for loader in (_ConfigFileLoader(f"{base}.py", path=path), JSONFileConfigLoader(f"{base}.json", path=path)):
            try:
                merged.merge(loader.load_config())
            except ConfigFileNotFound:
                pass
    return merged


def _config_paths() -> list[str]:
    """Where Jupyter applications look for config files, highest priority first (``JupyterApp.config_file_paths``)."""
    from jupyter_core.paths import jupyter_config_dir, jupyter_config_path

    paths = jupyter_config_path()
    if jupyter_config_dir() not in paths:
        paths.insert(0, jupyter_config_dir())
    return paths


@dataclass(frozen=True)
class CourseSettings:
    """The settings of nbgrader's ``CourseDirectory`` that kam reads, with nbgrader's defaults."""

    root: str
    course_id: str
    db_url: str
    source_directory: str
    directory_structure: str

    def format_path(self, nbgrader_step: str, student_id: str, assignment_id: str) -> str:
        """A course path, as ``CourseDirectory.format_path`` gives it (unescaped)."""
        structure = self.directory_structure.format(
            nbgrader_step=nbgrader_step, student_id=student_id, assignment_id=assignment_id
        )
        return os.path.join(self.root, structure)


def _settings(config: Config, root: str) -> CourseSettings:
    """The CourseDirectory settings of ``config``; _Unsure unless they are plain text nbgrader takes as is."""
    if any(s in config for s in LEGACY_SECTIONS) or any(
        option in config[section]
        for section, options in LEGACY_OPTIONS.items()
        if section in config
        for option in options
    ):
        raise _Unsure("options of an older nbgrader")
    if any(isinstance(value, Config) and SECTION in value for value in config.values()):
        raise _Unsure(f"{SECTION} configured inside another section")
    own = config[SECTION] if SECTION in config else Config()
    values = {**DEFAULTS, **{k: v for k, v in own.items() if k in (*DEFAULTS, "root", "db_url")}}
    if any(type(v) is not str for v in values.values()):
        raise _Unsure(f"a {SECTION} setting that is not text")
    root = os.path.abspath(values.get("root", root))
    return CourseSettings(
        root=root,
        course_id=values["course_id"].strip(),
        db_url=values["db_url"] if "db_url" in values else "sqlite:///" + os.path.join(root, "gradebook.db"),
        source_directory=values["source_directory"],
        directory_structure=values["directory_structure"],
    )


def read_settings(root: Path) -> CourseSettings | None:
    """The settings nbgrader's ``AutogradeApp`` gets when started in the working directory for the
    course ``root`` (see :func:`kamlib.grading.course.load_app`), or None when only nbgrader can tell."""
    paths = _config_paths()
    try:
        config = _load("jupyter_config", paths)
        config.merge(_load("nbgrader_config", paths))
        config.merge(_load("nbgrader_config", [os.getcwd()]))
        # nbgrader then loads the config of the course root its settings name
        config.merge(_load("nbgrader_config", [_settings(config, str(root)).root]))
        return _settings(config, str(root))
    except Exception:  # noqa: BLE001 - nbgrader's own loading decides what a failing config file means
        return None
