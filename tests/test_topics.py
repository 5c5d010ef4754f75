"""The topic ids' review pointers name lesson sections that exist, for every topic."""

import json
from pathlib import Path

import pytest

from kamlib.grading.topics import REVIEW, TOPICS, review_pointer

COURSE = Path(__file__).resolve().parents[1] / "course"


def _headings(lesson: str) -> set[str]:
    cells = json.loads((COURSE / lesson).read_text(encoding="utf-8"))["cells"]
    return {
        line[3:].strip()
        for c in cells
        if c["cell_type"] == "markdown"
        for line in "".join(c["source"]).splitlines()
        if line.startswith("## ")
    }


def test_every_topic_has_a_review_pointer():
    assert set(REVIEW) == set(TOPICS)


@pytest.mark.parametrize("topic", sorted(REVIEW))
def test_review_pointer_names_an_existing_section(topic):
    lesson, section, _ = REVIEW[topic]
    assert section in _headings(lesson), f"{lesson} 没有“{section}”一节"
    assert section in review_pointer(topic)


def test_unknown_topic_has_no_pointer():
    assert review_pointer("未标注") == "" and review_pointer(None) == ""
