"""The learner's progress file: in the home folder, updated by right answers, shown by the index."""

from __future__ import annotations

import json
import os

from kamlib import progress


def test_the_default_file_is_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("KAM_PROGRESS_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert progress.progress_file() == tmp_path / ".kam" / "progress.json"


def test_record_and_show(monkeypatch, tmp_path):
    path = tmp_path / "p" / "progress.json"
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(path))
    progress.record("lessons", "01_concepts", "1", 2)
    progress.record("lessons", "01_concepts", "1", 2)
    progress.record("lessons", "03_relationship_tiers", "1", 6)
    progress.record("lessons", "03_relationship_tiers", "2", 6)
    for n in (1, 2):
        progress.record("exercises", "ex01_concepts", f"ex01_q{n}_test", 2)
    assert json.loads(path.read_text(encoding="utf-8"))["lessons"]["01_concepts"] == {"done": ["1"], "total": 2}
    page = progress.progress_html(["01_concepts", "02_roles", "03_relationship_tiers"], ["ex01_concepts", "ex02_roles"])
    rows = dict(__import__("re").findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", page))
    assert rows == {
        "01_concepts": "答对 1 / 2 道自测题",
        "02_roles": "还没有答对的题",
        "03_relationship_tiers": "答对 2 / 6 道自测题",
        "ex01_concepts": "✔ 已完成（2 道自动评分题全部答对）",
        "ex02_roles": "还没有答对的题",
    }


def test_a_broken_file_is_read_as_empty_and_then_replaced(monkeypatch, tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(path))
    assert progress.load() == {"lessons": {}, "exercises": {}}
    progress.record("exercises", "ex03_relationship_tiers", "ex03_q1_test", 7)
    assert progress.load()["exercises"]["ex03_relationship_tiers"]["done"] == ["ex03_q1_test"]


def test_show_progress_lists_the_course_lessons_and_exercises(monkeypatch, tmp_path):
    monkeypatch.setenv("KAM_PROGRESS_FILE", str(tmp_path / "none.json"))
    course = tmp_path / "course"
    course.mkdir()
    for name in ("00_index", "01_concepts", "02_roles"):
        (course / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    os.makedirs(tmp_path / "exercises" / "selfstudy" / "ex01_concepts")
    os.makedirs(tmp_path / "exercises" / "source" / "ex02_roles")
    page = progress.show_progress(course).data
    assert "01_concepts" in page and "02_roles" in page and "00_index" not in page
    assert "ex01_concepts" in page and "ex02_roles" in page and "不在课程文件夹里" in page
