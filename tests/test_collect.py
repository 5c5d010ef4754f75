"""Collecting from the hub's exchange: a submission folder with a planted link, or handed in
under someone else's name, is not collected.

A learner who can write to the exchange could put a link to the answer key (or the gradebook)
in their submission, which nbgrader's own collect would copy as the trainer; or name a folder
after a classmate, whose submission it would replace (nbgrader only warns).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from tests.support.commands import run_nbgrader
from tests.support.courses import clone_course

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
STAMP = "2025-03-01 09:00:00.000000 UTC"


def _hand_in(inbound: Path, student: str, course: Path) -> Path:
    folder = inbound / f"{student}+ps1+{STAMP}"
    folder.mkdir(parents=True)
    shutil.copy(course / "release" / "ps1" / "ps1.ipynb", folder / "ps1.ipynb")
    (folder / "timestamp.txt").write_text(STAMP, encoding="utf-8")
    return folder


def _collect(course: Path, exchange: Path, *options: str):
    """``nbgrader collect ps1`` from ``exchange`` with this course's collector, as the hub configures it."""
    return run_nbgrader(
        course,
        "collect",
        "ps1",
        *options,
        f"--Exchange.root={exchange}",
        "--ExchangeFactory.collect=kamlib.grading.collect.SafeExchangeCollect",
    )


def _owned_by(folder: Path, user: str) -> None:
    import pwd

    ids = pwd.getpwnam(user)
    for path in (folder, *folder.rglob("*")):
        os.chown(path, ids.pw_uid, ids.pw_gid, follow_symlinks=False)


def test_a_link_or_a_borrowed_name_is_not_collected_and_the_earlier_submission_stays(template, tmp_path, skip_or_fail):
    if os.geteuid() != 0:
        skip_or_fail("handing in as other users of this machine needs root")
    course = clone_course(template, tmp_path / "course")
    inbound = tmp_path / "exchange" / "tiny" / "inbound"
    _owned_by(_hand_in(inbound, "nobody", course), "nobody")  # handed in as themself: collected
    planted = _hand_in(inbound, "daemon", course)
    (planted / "key.ipynb").symlink_to(course / "source" / "ps1" / "ps1.ipynb")
    _owned_by(planted, "daemon")
    _owned_by(_hand_in(inbound, "bob", course), "nobody")  # nobody hands in as bob
    earlier = course / "submitted" / "bob" / "ps1"
    earlier.mkdir(parents=True)
    (earlier / "ps1.ipynb").write_text("{}", encoding="utf-8")
    (earlier / "timestamp.txt").write_text("2025-02-01 09:00:00.000000 UTC", encoding="utf-8")

    run = _collect(course, tmp_path / "exchange", "--update")
    assert run.returncode == 0, run.stderr[-3000:]
    assert (course / "submitted" / "nobody" / "ps1" / "ps1.ipynb").is_file()
    assert not (course / "submitted" / "daemon").exists()
    assert "未收取 daemon+ps1" in run.stderr and "key.ipynb" in run.stderr
    assert sorted(p.name for p in earlier.iterdir()) == ["ps1.ipynb", "timestamp.txt"]
    assert (earlier / "ps1.ipynb").read_text(encoding="utf-8") == "{}"  # bob's own earlier submission, untouched
    assert "未收取 bob+ps1" in run.stderr and "冒名" in run.stderr


def test_the_hubs_config_collects_this_way():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "deploy")).load_config()
    assert config.ExchangeFactory.collect == "kamlib.grading.collect.SafeExchangeCollect"
    assert config.ExchangeCollect.check_owner is ("KUBERNETES_SERVICE_HOST" not in os.environ)


def test_a_named_pipe_in_one_submission_does_not_stop_the_collection(template, tmp_path, skip_or_fail):
    """A learner may still write to their own folder in the exchange after handing in: a named pipe
    there stopped nbgrader's copy, and the collection of everyone after them, with an English error."""
    if os.geteuid() != 0:
        skip_or_fail("handing in as other users of this machine needs root")
    course = clone_course(template, tmp_path / "course")
    inbound = tmp_path / "exchange" / "tiny" / "inbound"
    piped = _hand_in(inbound, "bin", course)
    os.mkfifo(piped / "a.txt")
    _owned_by(piped, "bin")
    _owned_by(_hand_in(inbound, "nobody", course), "nobody")
    run = _collect(course, tmp_path / "exchange")
    assert run.returncode == 0, run.stderr[-3000:]
    assert (course / "submitted" / "nobody" / "ps1" / "ps1.ipynb").is_file()
    assert not (course / "submitted" / "bin").exists()
    assert "未收取 bin+ps1" in run.stderr and "a.txt" in run.stderr and "命名管道" in run.stderr


def test_what_a_learner_changes_after_the_check_is_not_collected(template, tmp_path, skip_or_fail):
    """The learner's folder stays theirs to change while it is collected: a file swapped for a link
    to the answer key between nbgrader's steps (a learner can time it by watching their folder) must
    not reach the submission. The copy taken at the start is what is collected."""
    if os.geteuid() != 0:
        skip_or_fail("handing in as other users of this machine needs root")
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from kamlib.grading.collect import SafeExchangeCollect

    course = clone_course(template, tmp_path / "course")
    folder = _hand_in(tmp_path / "exchange" / "tiny" / "inbound", "daemon", course)
    (folder / "notes.txt").write_text("我的笔记", encoding="utf-8")
    _owned_by(folder, "daemon")
    config = Config()
    config.Exchange.root = str(tmp_path / "exchange")
    config.CourseDirectory.update(root=str(course), course_id="tiny", assignment_id="ps1")
    collect = SafeExchangeCollect(
        coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config), config=config
    )
    collect.init_src()  # checks the folder (and copies it)
    (folder / "notes.txt").unlink()
    (folder / "notes.txt").symlink_to(course / "source" / "ps1" / "ps1.ipynb")  # then the swap
    collect.init_dest()
    collect.copy_files()  # nbgrader copies
    notes = course / "submitted" / "daemon" / "ps1" / "notes.txt"
    assert not notes.is_symlink() and notes.read_text(encoding="utf-8") == "我的笔记"
    assert (course / "submitted" / "daemon" / "ps1" / "ps1.ipynb").is_file()
    assert [p.name for p in (course / "submitted").iterdir()] == ["daemon"]  # the working copy is gone


def test_the_copy_follows_nothing_and_takes_only_the_learners_regular_files(tmp_path):
    from kamlib.grading.collect import copy_without_following

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.ipynb").write_text("{}", encoding="utf-8")
    (src / "sub" / "b.txt").write_text("b", encoding="utf-8")
    (src / "key.ipynb").symlink_to(tmp_path / "answer-key.ipynb")
    (src / "etc").symlink_to("/etc")
    os.mkfifo(src / "sub" / "pipe")
    found = copy_without_following(str(src), str(tmp_path / "copy"), budget=10**6)
    assert sorted(found.links) == ["etc", "key.ipynb"] and found.odd == ["sub/pipe"] and not found.too_large
    assert sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*")) == [
        "a.ipynb",
        "sub",
        "sub/b.txt",
    ]
    assert copy_without_following(str(src), str(tmp_path / "small"), budget=1).too_large
    assert copy_without_following(str(src / "etc"), str(tmp_path / "linked"), budget=10**6).links == ["etc"]
