"""What a learner has completed on this machine: lesson quizzes and self-study exercises.

Kept in one small JSON file in the learner's home (``~/.kam/progress.json``; the
environment variable ``KAM_PROGRESS_FILE`` points elsewhere), never in the course
folder, so it survives a fresh copy of the course and is never committed. A quiz or a
check records a question only when it is answered right. Progress is a convenience: if
the file cannot be read or written, nothing else fails.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = ["progress_file", "record", "load", "progress_html", "show_progress"]


def progress_file() -> Path:
    """Where progress is kept."""
    return Path(os.environ.get("KAM_PROGRESS_FILE") or Path.home() / ".kam" / "progress.json")


def load() -> dict[str, dict[str, dict]]:
    """``{"lessons"|"exercises": {name: {"done": [question ids], "total": n}}}`` (empty when none)."""
    try:
        data = json.loads(progress_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"lessons": {}, "exercises": {}}
    if not isinstance(data, dict):
        return {"lessons": {}, "exercises": {}}
    return {kind: data.get(kind) if isinstance(data.get(kind), dict) else {} for kind in ("lessons", "exercises")}


def record(kind: str, name: str, question: str, total: int) -> None:
    """Note that ``question`` of lesson or exercise ``name`` (``kind`` "lessons"/"exercises") was answered right."""
    data = load()
    entry = data[kind].setdefault(name, {})
    done = entry.get("done") if isinstance(entry.get("done"), list) else []
    if question not in done:
        done.append(question)
    data[kind][name] = {"done": done, "total": total}
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def _status(entry: dict | None, unit: str) -> str:
    if not entry or not entry.get("done"):
        return "还没有答对的题"
    done, total = len(entry["done"]), entry.get("total") or 0
    if total and done >= total:
        return f"✔ 已完成（{total} 道{unit}全部答对）"
    return f"答对 {done} / {total} 道{unit}" if total else f"答对 {done} 道{unit}"


def progress_html(lessons: list[str], exercises: list[str]) -> str:
    """An HTML table of the given lessons' quizzes and exercises' autograded questions."""
    data = load()
    rows = [(name, _status(data["lessons"].get(name), "自测题")) for name in lessons]
    rows += [(name, _status(data["exercises"].get(name), "自动评分题")) for name in exercises]
    body = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(s)}</td></tr>" for n, s in rows)
    return (
        "<table><thead><tr><th>课或练习</th><th>在这台电脑上的进度</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
        f"<p style='color:#666'>进度记在 {html.escape(str(progress_file()))}，不在课程文件夹里。</p>"
    )


def show_progress(course_dir: Path | str = ".") -> HTML:
    """The progress table of the lessons in ``course_dir`` and the exercises beside it (for the index)."""
    from IPython.display import HTML

    course_dir = Path(course_dir)
    lessons = sorted(p.stem for p in course_dir.glob("[0-9][0-9]_*.ipynb") if not p.stem.startswith("00"))
    exercises = sorted(
        {
            p.name
            for folder in ("selfstudy", "release", "source")
            for p in (course_dir.parent / "exercises" / folder).glob("ex*")
            if p.is_dir()
        }
    )
    return HTML(progress_html(lessons, exercises))
