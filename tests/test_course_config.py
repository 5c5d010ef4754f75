"""The course settings kam reads without nbgrader are the ones nbgrader's own loading gives.

Each case writes a course root with an nbgrader_config.py, reads its settings the quick way
in a fresh interpreter (where nbgrader is not loaded, so the config's own imports get
stand-ins) and compares them with an AutogradeApp loaded by nbgrader in the same folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pytest

from kamlib.grading.course import Course, load_app
from kamlib.grading.database import sqlite_path
from tests.support.courses import EXERCISES

HEAVY = ("nbgrader", "nbconvert", "nbformat", "sqlalchemy")
FIELDS = ("root", "course_id", "db_url", "source_directory", "directory_structure")

READ = """
import json, sys
from dataclasses import asdict
from pathlib import Path
from kamlib.grading.course_config import read_settings
settings = read_settings(Path(sys.argv[1]))
print(json.dumps({
    "settings": asdict(settings) if settings else None,
    "source": settings.format_path(settings.source_directory, ".", "*") if settings else None,
    "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:])),
}))
"""


def read_fresh(root: Path, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", READ, str(root), *HEAVY],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(done.stdout.splitlines()[-1])


def nbgraders(root: Path) -> dict:
    with chdir(root):
        cd = load_app(root).coursedir
        return {f: getattr(cd, f) for f in FIELDS} | {"source": cd.format_path(cd.source_directory, ".", "*")}


def course_with(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "课程 root"
    (root / "source" / "ps1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(config, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def exercises(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("config") / "exercises"
    shutil.copytree(EXERCISES / "source", root / "source")
    shutil.copy(EXERCISES / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def test_the_courses_config_is_read_without_importing_nbgrader_and_as_nbgrader_reads_it(exercises):
    light = read_fresh(exercises)
    assert light["heavy"] == [], "reading the settings imported " + ", ".join(light["heavy"])
    assert light["settings"] is not None
    assert {**light["settings"], "source": light["source"]} == nbgraders(exercises)
    assert light["settings"]["course_id"] == "kam_course"


@pytest.mark.parametrize(
    "config",
    [
        pytest.param('c = get_config()\nc.CourseDirectory.course_id = "tiny"\n', id="course id only"),
        pytest.param(
            "from nbgrader.preprocessors import ClearOutput\n"
            'c.CourseDirectory.course_id = " spaced "\n'
            'c.CourseDirectory.db_url = "postgresql://kam@localhost/kam_course"\n'
            "c.Autograde.sanitize_preprocessors = [ClearOutput]\n",
            id="gradebook on a server",
        ),
        pytest.param(
            'import os\nc.CourseDirectory.root = os.path.join(os.path.dirname(__file__), "sub", "..")\n'
            'c.CourseDirectory.source_directory = "题目"\n'
            'c.CourseDirectory.directory_structure = "{nbgrader_step}/{assignment_id}/{student_id}"\n',
            id="folders",
        ),
    ],
)
def test_settings_read_without_nbgrader_equal_nbgraders(tmp_path, config):
    root = course_with(tmp_path, config)
    light = read_fresh(root)
    assert light["settings"] is not None and light["heavy"] == []
    assert {**light["settings"], "source": light["source"]} == nbgraders(root)


@pytest.mark.parametrize(
    "config, read_in_process",
    [
        pytest.param(
            "import getpass\nc.CourseDirectory.course_id = getpass.getuser()\n", True, id="from a module not loaded"
        ),
        pytest.param(
            'c.NbGrader.course_id = "old"\nc.NbGrader.db_url = "sqlite:////tmp/old.db"\n', False, id="older nbgrader"
        ),
        pytest.param(
            'c.CourseDirectory.course_id = "half"\nraise RuntimeError("broken")\n', False, id="a failing file"
        ),
        pytest.param(
            "from nbgrader.converters import Autograde\n"
            'if Autograde.autograde_preprocessors:\n    c.CourseDirectory.course_id = "decided by nbgrader"\n',
            True,
            id="decided by nbgrader",
        ),
    ],
)
def test_when_only_nbgrader_can_tell_the_course_loads_nbgrader(tmp_path, config, read_in_process):
    root = course_with(tmp_path, config)
    assert read_fresh(root)["settings"] is None
    # Here nbgrader is loaded already: the quick way reads the real modules, or gives up on
    # what only nbgrader's loading can tell. Either way the settings are nbgrader's own.
    with chdir(root):
        course = Course.load(root)
        assert (course.light is not None) == read_in_process
        expected = nbgraders(root)
        assert (course.course_id, course.db_url) == (expected["course_id"], expected["db_url"])


def test_the_users_jupyter_config_counts_as_for_nbgrader(tmp_path, monkeypatch):
    root = course_with(tmp_path, 'c.CourseDirectory.source_directory = "src"\n')
    user = tmp_path / "jupyter"
    user.mkdir()
    (user / "nbgrader_config.py").write_text('c.CourseDirectory.course_id = "from the user"\n', encoding="utf-8")
    (user / "jupyter_config.json").write_text('{"CourseDirectory": {"db_url": "sqlite:////tmp/user.db"}}', "utf-8")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    light = read_fresh(root, env=None)
    assert light["settings"]["course_id"] == "from the user"
    assert {**light["settings"], "source": light["source"]} == nbgraders(root)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/a b/g.db",
        "sqlite:///rel/g.db",
        "sqlite:////tmp/g.db?timeout=60",
        "sqlite+pysqlite:////tmp/g.db",
        "sqlite://",
        "sqlite:////tmp/%E6%88%90%E7%BB%A9.db",
        "sqlite:////tmp/成绩.db",
        "postgresql://kam:secret@localhost:5432/kam_course",
    ],
)
def test_the_sqlite_file_of_a_url_is_the_one_sqlalchemy_opens(url):
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    expected = Path(parsed.database) if parsed.drivername.startswith("sqlite") and parsed.database else None
    assert sqlite_path(url) == expected


def test_the_gradebook_is_checked_again_once_it_changed(graded, tmp_path):
    from kamlib.grading.course import KamError
    from tests.support.courses import clone_course

    root = clone_course(graded, tmp_path / "course")
    with chdir(root):
        course = Course.load(root)
        course.require_gradebook()
        course.require_gradebook()  # unchanged: not read again
        db = course.db_path
        db.write_bytes(db.read_bytes()[:5000])  # truncated by some other program
        with pytest.raises(KamError, match="已损坏"):
            course.require_gradebook()
