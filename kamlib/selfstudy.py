"""The self-study build of the exercises: a learner alone finds out at once whether an answer is right.

``python -m kamlib.selfstudy [COURSE_ROOT]`` (``make selfstudy``, run by ``make lab`` and by
Binder's ``postBuild``) turns each ``source/<assignment>/*.ipynb`` of the nbgrader course
into ``selfstudy/<assignment>/*.ipynb``, creating only notebooks that are missing: a
notebook a learner has started is never overwritten. It touches none of the trainer's
folders (``release/``, ``submitted/``, the gradebook …).

In a self-study notebook, solutions are cut as in the trainer's release (nbgrader's own
``ClearSolutions``, same settings). Each autograded test cell becomes a call of
:func:`check` with an answer key (:mod:`kamlib.answer_key`) holding the whole test cell,
its points, topic and explanation. :func:`check` runs the visible form check, then the
test cell on the answer's value exactly as grading does (:func:`kamlib.grading.verdicts.judge`
on the values of :mod:`kamlib.grading.answers`), and prints "✔ 正确" or "✗ 还不对" with
the lesson section and slides to reread (:func:`kamlib.grading.topics.review_pointer`);
the explanation after :data:`MAX_TRIES` wrong tries, or at once with :func:`explain`.
Each written question gets a :func:`self_assess` cell: once the learner has written and
saved an answer, it lists the mark scheme's points as a checklist.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from kamlib import progress
from kamlib.answer_key import decode, encode
from kamlib.checks import self_study_messages
from kamlib.grading.regions import HIDDEN, MARK_SCHEME, region_lines, remove_regions
from kamlib.slips import QuestionError

__all__ = ["build", "self_study_notebook", "check", "explain", "self_assess", "MAX_TRIES", "FOLDER"]

#: The self-study notebooks' folder in the course root (git-ignored).
FOLDER = "selfstudy"
#: Wrong tries after which a question's explanation is shown.
MAX_TRIES = 3

INSTRUCTIONS = """**怎样作答（自学版）**

1. 从上到下依次运行每个单元格（Shift + Enter）。第一个代码单元格载入本练习用到的工具和数据。
2. 在写有“在此作答”的单元格里写下答案，并**删除** `raise NotImplementedError()` 这一行。
3. 运行每个作答单元格下面的**检查单元格**：写法不对时，它用中文告诉你怎么改；写法对了，它告诉你答案是
   “✔ 正确”还是“✗ 还不对”，答错时指出该复习哪一课、哪一节、课件哪几页。答错 3 次后会显示讲解；
   想马上看讲解，在下面新建一个单元格运行 `explain(题号)`，例如 `explain(1)`。
4. 文字题写在 Markdown 单元格里（双击编辑，Shift + Enter 显示）。写好并保存（Ctrl + S）后，运行它下面的
   自评单元格，对照评分要点检查自己的答案。
5. 工具栏上的 **Validate**（验证）只检查每道题是否都已作答、写法对不对、能不能运行，**不检查答案对不对**；
   答案对不对，看每道题下面的 ✔ 或 ✗。
6. 你的作答只保存在这台电脑（或这次 Binder 会话）里。在 Binder 上请用 **文件 → 下载** 保存到自己的电脑。

案例公司“华东精工”（华东精工传动设备有限公司）及其客户、订单等数据全部是虚构的，仅供练习。"""

_HEADING = re.compile(r"第\s*(\d+)\s*题")
_tries: dict[str, int] = {}
_seen: dict[str, dict[str, Any]] = {}


# ---------------------------------------------------------------- build


def _nbgrader_config(course_root: Path):
    from traitlets.config.loader import PyFileConfigLoader

    path = course_root / "nbgrader_config.py"
    return PyFileConfigLoader(path.name, path=str(course_root)).load_config() if path.exists() else None


def _question_label(cells: list[NotebookNode], index: int) -> tuple[str, str]:
    """("第 N 题", "N") from the nearest heading above cell ``index``."""
    for cell in reversed(cells[: index + 1]):
        if cell.cell_type == "markdown":
            found = _HEADING.search(cell.source)
            if found:
                return f"第 {found.group(1)} 题", found.group(1)
    return "本题", ""


def _items(lines: list[str]) -> list[str]:
    """A mark scheme's bullet points, each as one line of plain text (its heading left out)."""
    items: list[str] = []
    for line in lines:
        text = line.replace("**", "").strip()
        if line.startswith(("- ", "* ")):
            items.append(text[2:].strip())
        elif items and "仅讲师可见" not in text:
            items[-1] += text
    return items or [line.replace("**", "").strip() for line in lines if "仅讲师可见" not in line]


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def self_study_notebook(nb: NotebookNode, assignment: str, config=None) -> NotebookNode:
    """The self-study version of source notebook ``nb`` of ``assignment`` (``nb`` is not changed)."""
    from nbgrader.preprocessors import ClearMarkScheme, ClearOutput, ClearSolutions, ComputeChecksums

    nb = copy.deepcopy(nb)
    cells = nb.cells
    tests = [
        i
        for i, c in enumerate(cells)
        if c.cell_type == "code" and _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")
    ]
    schemes = {
        i: region_lines(c.source, *MARK_SCHEME)
        for i, c in enumerate(cells)
        if c.cell_type == "markdown" and MARK_SCHEME[0] in c.source
    }
    stub = ClearSolutions(config=config).text_stub
    new_cells: list[NotebookNode] = []
    scheme_lines: list[str] = []
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("**怎样作答"):
            cell.source = INSTRUCTIONS
        if i in schemes:
            scheme_lines = schemes[i]
        if i in tests:
            info = _nbgrader(cell)
            label, number = _question_label(cells, i)
            kam = cell.metadata.get("kam", {})
            key = encode(
                {
                    "assignment": assignment,
                    "grade_id": info["grade_id"],
                    "label": label,
                    "number": number,
                    "source": cell.source,
                    "points": info.get("points", 0),
                    "topic": kam.get("topic"),
                    "explanation": kam.get("explanation", ""),
                    "total": len(tests),
                }
            )
            cell.source = (
                "# 检查单元格（只读）：先检查写法，再告诉你答案对不对\n"
                "from kamlib.selfstudy import check, explain\n"
                f'check("{key}")'
            )
        cell.metadata.pop("kam", None)
        new_cells.append(cell)
        info = _nbgrader(cell)
        if cell.cell_type == "markdown" and info.get("grade") and info.get("solution"):
            label, _ = _question_label(cells, i)
            key = encode({"grade_id": info["grade_id"], "label": label, "points": _items(scheme_lines), "stub": stub})
            new_cells.append(
                nbformat.v4.new_code_cell(
                    "# 自评：写好上面的答案并保存（Ctrl + S）后运行，对照评分要点检查自己的答案\n"
                    "from kamlib.selfstudy import self_assess\n"
                    f'self_assess("{key}")',
                    metadata={"deletable": False, "editable": False},
                )
            )
            scheme_lines = []
    nb.cells = new_cells
    resources: dict = {}
    # Checksums last, as the trainer's release has them: Validate tells an answer cell still as
    # released (a written question too, which runs no code) from one the learner has written.
    for step in (ClearSolutions, ClearMarkScheme, ClearOutput, ComputeChecksums):
        nb, resources = step(config=config).preprocess(nb, resources)
    return nb


def build(course_root: Path | str = "exercises") -> list[tuple[Path, bool]]:
    """Write the missing self-study notebooks of ``course_root``; (path, created) for each notebook."""
    course_root = Path(course_root)
    config = _nbgrader_config(course_root)
    done: list[tuple[Path, bool]] = []
    for source in sorted((course_root / "source").glob("*/*.ipynb")):
        assignment = source.parent.name
        target = course_root / FOLDER / assignment / source.name
        if target.exists():
            done.append((target, False))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        for extra in source.parent.iterdir():
            copy = target.parent / extra.name
            if extra.is_file() and extra.suffix != ".ipynb" and not copy.exists():
                copy.write_bytes(extra.read_bytes())
        nb = self_study_notebook(nbformat.read(source, as_version=4), assignment, config)
        tmp = target.with_suffix(".tmp")
        nbformat.write(nb, tmp)
        tmp.replace(target)
        done.append((target, True))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kamlib.selfstudy", description="生成练习的自学版（只新建缺少的笔记本）。"
    )
    parser.add_argument("course_root", nargs="?", default="exercises", help="nbgrader 课程目录（默认 exercises）")
    args = parser.parse_args(argv)
    root = Path(args.course_root)
    if not (root / "source").is_dir():
        print(f"自学版：{root / 'source'} 不存在，无法生成（它只在讲师版仓库中）。", file=sys.stderr)
        return 2
    for path, created in build(root):
        print(f"自学版：{'已生成' if created else '已有，保留你的作答'} {path}")
    return 0


# ---------------------------------------------------------------- in the learner's kernel


def _namespace() -> dict:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise QuestionError("检查单元格要在 Jupyter 笔记本里运行。")
    return shell.user_ns


def _show_explanation(data: dict) -> None:
    if data.get("explanation"):
        print(f"讲解：{data['explanation']}")


def check(key: str, namespace: dict | None = None) -> None:
    """Check one autograded question of a self-study notebook; print ✔ or ✗ and a hint.

    Raises :class:`~kamlib.slips.QuestionError` (shown in Chinese) when the answer is not
    defined or not written the right way, so "run all" and Validate stop there.
    """
    from kamlib.grading.answers import decode_export, export
    from kamlib.grading.topics import review_pointer
    from kamlib.grading.verdicts import judge, names_used

    data = decode(key)
    ns = _namespace() if namespace is None else namespace
    _seen[data["grade_id"]] = data
    if data.get("number"):
        _seen[data["number"]] = data
    label, source = data["label"], data["source"]
    names = names_used(source)
    missing = [n for n in names if n not in ns]
    if missing:
        raise QuestionError(
            f"{label}还没有作答，或作答单元格还没有运行：找不到 {'、'.join(missing)}。"
            "请先运行上面的单元格（内核重启后要从第一个单元格起依次运行）。"
        )
    visible, _ = remove_regions(source, *HIDDEN)
    with self_study_messages():
        try:
            exec(compile(visible, "<检查单元格>", "exec"), dict(ns))
        except AssertionError:
            raise QuestionError(f"{label}的写法还不对：请按上面的提示修改答案，再运行这个单元格。") from None
    values = decode_export(export(names, ns), names)
    verdict = judge(source, values, float(data["points"]))
    if verdict.passed and verdict.score >= verdict.points:
        print(f"✔ 正确（{label}，{verdict.points:g} 分）")
        _show_explanation(data)
        progress.record("exercises", data["assignment"], data["grade_id"], int(data["total"]))
        return
    tries = _tries[data["grade_id"]] = _tries.get(data["grade_id"], 0) + 1
    if verdict.passed:
        print(f"✗ 还不对：部分正确，得 {verdict.score:g} / {verdict.points:g} 分。")
    else:
        print("✗ 还不对。")
    pointer = review_pointer(data.get("topic"))
    if pointer:
        print(pointer)
    if tries >= MAX_TRIES:
        _show_explanation(data)
    else:
        print(
            f"改好后再运行这个单元格。再答错 {MAX_TRIES - tries} 次会显示讲解；想现在就看，"
            f"在下面新建一个单元格运行 explain({data.get('number') or repr(data['grade_id'])})。"
        )


def explain(question: int | str) -> None:
    """Show the explanation of question ``question`` (its number) after its check cell has run."""
    data = _seen.get(str(question))
    if data is None:
        print(f"还没有第 {question} 题的讲解：请先运行这道题的检查单元格，再运行 explain({question!r})。")
        return
    if not data.get("explanation"):
        print(f"{data['label']}没有讲解。")
        return
    _show_explanation(data)


def self_assess(key: str, folder: Path | str = ".") -> None:
    """The mark scheme's points of a written question as a checklist, once its answer is written and saved."""
    data = decode(key)
    label = data["label"]
    written = ""
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # an unreadable notebook next to this one is not the learner's answer
            continue
        for cell in nb.cells:
            if _nbgrader(cell).get("grade_id") == data["grade_id"]:
                written = cell.source.strip()
    if not written or written == data.get("stub", "").strip():
        print(f"{label}：先在上面的答案单元格里写下你的答案，保存笔记本（Ctrl + S），再运行这个单元格查看评分要点。")
        return
    print(f"{label}：对照下面的评分要点检查你的答案（自评；正式评分由培训讲师进行）：")
    for item in data["points"]:
        print(f"☐ {item}")


if __name__ == "__main__":
    raise SystemExit(main())
