"""Collecting from the hub's exchange: a submission folder with a planted link is not collected.

A learner who can write to the exchange could put a link to the answer key (or the gradebook)
in their submission; nbgrader's own collect would copy what it points to, as the trainer.
"""

from __future__ import annotations

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


def test_a_submission_with_a_link_is_not_collected_and_an_earlier_one_stays(template, tmp_path):
    course = clone_course(template, tmp_path / "course")
    inbound = tmp_path / "exchange" / "tiny" / "inbound"
    _hand_in(inbound, "alice", course)
    planted = _hand_in(inbound, "bob", course)
    (planted / "key.ipynb").symlink_to(course / "source" / "ps1" / "ps1.ipynb")
    earlier = course / "submitted" / "bob" / "ps1"
    earlier.mkdir(parents=True)
    (earlier / "ps1.ipynb").write_text("{}", encoding="utf-8")
    (earlier / "timestamp.txt").write_text("2025-02-01 09:00:00.000000 UTC", encoding="utf-8")

    run = run_nbgrader(
        course,
        "collect",
        "ps1",
        "--update",
        f"--Exchange.root={tmp_path / 'exchange'}",
        "--ExchangeFactory.collect=kamlib.grading.collect.SafeExchangeCollect",
        "--ExchangeCollect.check_owner=False",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (course / "submitted" / "alice" / "ps1" / "ps1.ipynb").is_file()
    assert sorted(p.name for p in earlier.iterdir()) == ["ps1.ipynb", "timestamp.txt"]
    assert (earlier / "ps1.ipynb").read_text(encoding="utf-8") == "{}"  # the earlier submission, untouched
    assert "未收取" in run.stderr and "key.ipynb" in run.stderr


def test_the_hubs_config_collects_this_way():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "deploy")).load_config()
    assert config.ExchangeFactory.collect == "kamlib.grading.collect.SafeExchangeCollect"
