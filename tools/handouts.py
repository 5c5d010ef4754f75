"""Handouts: each lesson, run in a fresh kernel, as one self-contained HTML file and a PDF.

    python -m tools.handouts [--out build/handouts] [--no-pdf] [--course course] [课 ...]

For every ``course/NN_*.ipynb`` (the index included) this writes ``NN_*.html`` — images
embedded as ``data:`` URIs, no script or stylesheet fetched from the network — and, when
Debian's ``chromium`` is installed, ``NN_*.pdf`` printed from that HTML by headless Chromium.

Widgets cannot run in a static file. Each widget output is replaced by a static snapshot
of the widget as it was when the lesson had run (its text, charts, sliders and options,
read from the widget state the kernel left), under a short Chinese note saying where to
open the interactive version. The Binder badge (a remote image) becomes a text link.

A lesson that fails to execute is reported in Chinese by name (and cell), no handout is
written for it (a stale one is removed), the other lessons are still built and the exit
code is 1. Without Chromium the HTML is still written, a Chinese note says so and the exit
code stays 0.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from kamlib.pdf import NO_CHROMIUM, find_chromium, html_to_pdf
from kamlib.quizzes import RERUN_HTML

__all__ = [
    "HandoutResult",
    "find_lessons",
    "lesson_title",
    "execute_lesson",
    "make_static",
    "notebook_to_html",
    "build_handout",
    "build_handouts",
    "main",
]

LESSON_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_OUT = Path("build") / "handouts"
CELL_TIMEOUT = 120  # seconds per cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CJK_FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC"'

WIDGET_NOTE = (
    "交互组件：静态讲义中无法操作，下面是课程运行后它的初始状态。"
    "要拖动、选择或提交，请在 JupyterLab 或 Binder 中打开本课。"
)

# Extends nbconvert's "lab" template: no script from a CDN (require.js, MathJax, Mermaid,
# the widget manager), a Chinese font stack and print rules for A4.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
  body.jp-Notebook { --jp-ui-font-family: system-ui, -apple-system, "Segoe UI", Roboto, %(cjk)s, sans-serif;
                     --jp-content-font-family: system-ui, -apple-system, "Segoe UI", Roboto, %(cjk)s, sans-serif;
                     --jp-code-font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace, %(cjk)s; }
  .kam-widget { border: 1px dashed #9aa5b1; border-radius: 4px; padding: 6px 10px; margin: 4px 0; }
  .kam-widget-note { color: #555; font-size: 0.85em; background: #f3f6f9; padding: 3px 6px;
                     border-radius: 3px; margin-bottom: 6px; }
  .kam-hbox { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-start; }
  .kam-control { margin: 2px 0; }
  .kam-control .kam-label { color: #333; margin-right: 6px; }
  .kam-choice { display: inline-block; border: 1px solid #bbb; border-radius: 3px; padding: 0 6px;
                margin: 1px 3px 1px 0; }
  .kam-choice.kam-on { background: #dbeafe; border-color: #2563eb; font-weight: bold; }
  .kam-button { display: inline-block; border: 1px solid #888; border-radius: 3px; padding: 0 8px;
                color: #444; background: #eee; }
  img { max-width: 100%%; }
  @page { size: A4; margin: 14mm 12mm; }
  @media print {
    .jp-OutputArea-output img, .kam-widget img { break-inside: avoid; }
    .jp-Cell { padding-top: 2px; padding-bottom: 2px; }
    a { color: inherit; }
    pre, .jp-InputArea-editor .highlight pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  }
</style>
{%- endblock html_head_css -%}
""".replace("%(cjk)s", CJK_FONTS).replace("%%", "%")


@dataclass
class HandoutResult:
    """What :func:`build_handout` did for one lesson."""

    lesson: Path
    html: Path | None = None
    pdf: Path | None = None
    error: str | None = None  # a Chinese sentence naming the lesson, when it failed
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the lesson ran and its HTML handout was written."""
        return self.error is None and self.html is not None


class LessonError(RuntimeError):
    """A lesson could not be executed or exported; the message is Chinese and names it."""


def find_lessons(course_dir: Path, include_index: bool = True) -> list[Path]:
    """The lesson notebooks ``NN_*.ipynb`` of ``course_dir`` in order (``00_`` is the index)."""
    lessons = sorted(Path(course_dir).glob(LESSON_GLOB))
    return [p for p in lessons if include_index or not p.name.startswith("00_")]


def lesson_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first Markdown ``#`` heading of the notebook (full-width spaces kept), else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        match = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.MULTILINE)
        if match:
            return match.group(1).strip()
    return fallback


def _failed_cell(nb: nbformat.NotebookNode) -> int | None:
    """Index of the first code cell holding an error output (what nbclient stopped on)."""
    for index, cell in enumerate(nb.cells):
        if any(out.get("output_type") == "error" for out in cell.get("outputs", [])):
            return index
    return None


def execute_lesson(path: Path, timeout: int = CELL_TIMEOUT, kernel_name: str = "python3") -> nbformat.NotebookNode:
    """Run the notebook top to bottom in a fresh kernel whose working folder is the notebook's.

    Raises :class:`LessonError` with a Chinese message naming the lesson (and the cell and
    error, when a cell raised) if the notebook cannot be read or does not run cleanly.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # unreadable JSON, wrong format
        raise LessonError(f"课程 {path.name} 无法读取：{err}") from err
    env_backup = os.environ.pop("MPLBACKEND", None)  # let the kernel use the inline backend
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=False,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        cell = _failed_cell(nb)
        where = f"第 {cell + 1} 个单元格" if cell is not None else "某个单元格"
        detail = f"{err.ename}: {err.evalue}" if getattr(err, "ename", None) else str(err).strip().splitlines()[-1]
        raise LessonError(f"课程 {path.name} 执行失败：{where}出错 —— {detail}") from err
    except CellTimeoutError as err:
        raise LessonError(f"课程 {path.name} 执行失败：某个单元格运行超过 {timeout} 秒仍未结束。") from err
    except DeadKernelError as err:
        raise LessonError(f"课程 {path.name} 执行失败：内核意外退出（{err}）。") from err
    except Exception as err:  # no such kernel, jupyter not installed, ...
        raise LessonError(f"课程 {path.name} 执行失败：{type(err).__name__}: {err}") from err
    finally:
        if env_backup is not None:
            os.environ["MPLBACKEND"] = env_backup
    return nb


# --- widgets as static snapshots --------------------------------------------------------


def _model_id(ref: object) -> str | None:
    return ref[len("IPY_MODEL_") :] if isinstance(ref, str) and ref.startswith("IPY_MODEL_") else None


def _hidden(state: Mapping[str, Any], models: Mapping[str, Any]) -> bool:
    layout = models.get(_model_id(state.get("layout")) or "", {}).get("state", {})
    return layout.get("display") == "none" or layout.get("visibility") == "hidden"


def _label(state: Mapping[str, Any]) -> str:
    text = state.get("description") or ""
    if not text:
        return ""
    body = text if state.get("description_allow_html") else html.escape(text)
    return f'<span class="kam-label">{body}</span>'


def _outputs_html(outputs: Iterable[Mapping[str, Any]]) -> str:
    """Static HTML for the outputs captured by an ``Output`` widget (images embedded)."""
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(f"<pre>{html.escape(out.get('text', ''))}</pre>")
        elif kind == "error":
            parts.append(f"<pre>{html.escape(out.get('ename', ''))}: {html.escape(out.get('evalue', ''))}</pre>")
        elif kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            if "image/png" in data:
                parts.append(f'<img src="data:image/png;base64,{"".join(data["image/png"]).strip()}">')
            elif "image/svg+xml" in data:
                parts.append("".join(data["image/svg+xml"]))
            elif "text/html" in data:
                parts.append("".join(data["text/html"]))
            elif "text/plain" in data:
                parts.append(f"<pre>{html.escape(''.join(data['text/plain']))}</pre>")
    return "".join(parts)


def _choices(labels: Sequence[str], chosen: Iterable[int]) -> str:
    picked = set(chosen)
    return "".join(
        f'<span class="kam-choice{" kam-on" if i in picked else ""}">{html.escape(str(lab))}</span>'
        for i, lab in enumerate(labels)
    )


def _widget_html(model_id: str, models: Mapping[str, Any], depth: int = 0) -> str:
    """Static HTML for one widget model and its children, from the saved widget state."""
    model = models.get(model_id)
    if model is None or depth > 50:
        return ""
    name: str = model.get("model_name", "")
    state: Mapping[str, Any] = model.get("state", {})
    if _hidden(state, models):
        return ""
    label = _label(state)
    if "children" in state:  # VBox, HBox, Box, GridBox, Accordion, Tab, Stack
        inner = "".join(_widget_html(_model_id(c) or "", models, depth + 1) for c in state["children"])
        titles = state.get("titles") or []
        if name in ("AccordionModel", "TabModel") and titles:
            kids = [_widget_html(_model_id(c) or "", models, depth + 1) for c in state["children"]]
            inner = "".join(f"<div><b>{html.escape(str(t or ''))}</b>{k}</div>" for t, k in zip(titles, kids))
        css = "kam-hbox" if name == "HBoxModel" else "kam-vbox"
        return f'<div class="{css}">{inner}</div>'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f'<div class="kam-control">{label}{state.get("value", "")}</div>'
    if name == "LabelModel":
        return f'<div class="kam-control">{label}{html.escape(str(state.get("value", "")))}</div>'
    if name == "OutputModel":
        outputs = state.get("outputs", [])
        if isinstance(outputs, str):
            outputs = json.loads(outputs)
        return f"<div>{_outputs_html(outputs)}</div>"
    if name.endswith("SliderModel") or name.endswith("ProgressModel"):
        value = state.get("value")
        shown = " – ".join(map(str, value)) if isinstance(value, list) else str(value)
        lo, hi = state.get("min"), state.get("max")
        scale = f'<span style="color:#777">（范围 {lo}–{hi}）</span>' if lo is not None and hi is not None else ""
        return f'<div class="kam-control">{label}<b>{html.escape(shown)}</b> {scale}</div>'
    if "_options_labels" in state:  # Dropdown, RadioButtons, ToggleButtons, Select(Multiple)
        index = state.get("index")
        chosen = index if isinstance(index, list) else ([] if index is None else [index])
        return f'<div class="kam-control">{label}{_choices(state["_options_labels"], chosen)}</div>'
    if name in ("CheckboxModel", "ToggleButtonModel"):
        box = "☑" if state.get("value") else "☐"
        text = html.escape(str(state.get("description", "")))
        return f'<div class="kam-control">{box} {text}</div>'
    if name == "ButtonModel":
        return f'<span class="kam-button">{html.escape(str(state.get("description", "")))}</span> '
    if name in (
        "TextModel",
        "TextareaModel",
        "IntTextModel",
        "FloatTextModel",
        "BoundedIntTextModel",
        "BoundedFloatTextModel",
        "ComboboxModel",
        "PasswordModel",
    ):
        value = "" if name == "PasswordModel" else str(state.get("value", ""))
        return f'<div class="kam-control">{label}<span class="kam-choice">{html.escape(value) or "&nbsp;" * 12}</span></div>'
    if name == "ImageModel":
        return ""  # raw bytes are not kept in the saved state
    return ""


def make_static(nb: nbformat.NotebookNode) -> int:
    """Make the executed notebook fit a static, offline page; returns how many widgets were replaced.

    * every widget output becomes HTML: a Chinese note plus a snapshot of the widget read
      from the saved widget state (the ``widgets`` notebook metadata, which is then dropped
      so no widget manager is loaded from a CDN);
    * Markdown images on the web (the Binder badge) become plain text links, and links
      to another lesson ``NN_name.ipynb`` point at its handout ``NN_name.html``.
    """
    saved = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(
                r"\[!\[([^\]]*)\]\((https?://[^)]+)\)\]\((https?://[^)]+)\)",
                lambda m: (
                    f"[{'在 Binder 上打开本课（交互版）' if m.group(1) == 'Binder' else m.group(1)}]({m.group(3)})"
                ),
                cell.source,
            )
            cell.source = re.sub(r"!\[([^\]]*)\]\((https?://[^)]+)\)", r"[\1](\2)", cell.source)
            # links to other lessons point at their handouts
            cell.source = re.sub(r"\]\(((?:\./)?\d\d_[\w-]+)\.ipynb(#[^)]*)?\)", r"](\1.html\2)", cell.source)
            continue
        if "outputs" not in cell:
            continue
        # the note to re-run a widget's cell is for the notebook, not for a page that runs nothing
        cell.outputs = [o for o in cell.outputs if o.get("data", {}).get("text/html") != RERUN_HTML]
        for out in cell.outputs:
            data = out.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            snapshot = _widget_html(data[WIDGET_VIEW].get("model_id", ""), saved)
            out.data = nbformat.from_dict(
                {
                    "text/html": (
                        f'<div class="kam-widget"><div class="kam-widget-note">{WIDGET_NOTE}</div>{snapshot}</div>'
                    ),
                    "text/plain": WIDGET_NOTE,
                }
            )
            replaced += 1
    nb.metadata.pop("widgets", None)
    return replaced


def notebook_to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """Export an executed, static notebook to one self-contained HTML page (nbconvert ``lab`` look)."""
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        template_file="kam_handout.html.j2",
        extra_loaders=[jinja2.DictLoader({"kam_handout.html.j2": _TEMPLATE})],
        embed_images=True,
        exclude_anchor_links=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "language_code": "zh-CN"})
    return body


# --- the whole build ----------------------------------------------------------------------


def build_handout(
    lesson: Path, out_dir: Path, pdf: bool = True, chromium: Path | None = None, timeout: int = CELL_TIMEOUT
) -> HandoutResult:
    """Execute one lesson and write ``<stem>.html`` (and ``<stem>.pdf`` when ``pdf`` and Chromium).

    Never raises for a lesson problem: the result's ``error`` holds the Chinese message, and
    any handout left from an earlier build of that lesson is removed.
    """
    lesson, out_dir = Path(lesson), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = HandoutResult(lesson=lesson)
    html_path, pdf_path = out_dir / f"{lesson.stem}.html", out_dir / f"{lesson.stem}.pdf"
    start = time.perf_counter()
    try:
        nb = execute_lesson(lesson, timeout=timeout)
        title = lesson_title(nb, lesson.stem)
        widgets = make_static(nb)
        if widgets:
            result.notes.append(f"{widgets} 个交互组件已换成静态快照")
        html_path.write_text(notebook_to_html(nb, title), encoding="utf-8")
        result.html = html_path
    except LessonError as err:
        result.error = str(err)
    except Exception as err:  # an export problem: still name the lesson
        result.error = f"课程 {lesson.name} 导出 HTML 失败：{type(err).__name__}: {err}"
    pdf_path.unlink(missing_ok=True)  # an old PDF must not outlive a rebuilt HTML
    if result.error:
        html_path.unlink(missing_ok=True)
    elif pdf and chromium is not None:
        try:
            html_to_pdf(html_path, pdf_path, chromium)
            result.pdf = pdf_path
        except RuntimeError as err:
            result.error = f"课程 {lesson.name} 的 PDF 讲义生成失败：{err}"
    result.seconds = time.perf_counter() - start
    return result


def build_handouts(
    lessons: Sequence[Path], out_dir: Path, pdf: bool = True, chromium: Path | None = None, echo: bool = True
) -> list[HandoutResult]:
    """Build the handouts of every lesson in turn, printing one progress line per lesson."""
    results = []
    total = len(lessons)
    for number, lesson in enumerate(lessons, start=1):
        if echo:
            print(f"[{number}/{total}] {lesson.name} ……", flush=True)
        result = build_handout(lesson, out_dir, pdf=pdf, chromium=chromium)
        results.append(result)
        if echo:
            if result.error:
                print(f"      错误：{result.error}", file=sys.stderr, flush=True)
            made = [p.name for p in (result.html, result.pdf) if p is not None]
            if made:
                extra = f"（{'；'.join(result.notes)}）" if result.notes else ""
                print(f"      已生成 {'、'.join(made)}，用时 {result.seconds:.1f} 秒{extra}", flush=True)
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.handouts",
        description="把每一课在新内核中运行后导出为自包含的 HTML 讲义（图片内嵌），并用 Chromium 打印为 PDF。",
    )
    parser.add_argument("lessons", nargs="*", type=Path, help="要导出的课程笔记本（默认：课程目录下全部 NN_*.ipynb）")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"输出目录（默认 {DEFAULT_OUT}）")
    parser.add_argument("--course", type=Path, default=Path("course"), help="课程目录（默认 course）")
    parser.add_argument("--no-pdf", action="store_true", help="只生成 HTML，不生成 PDF")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry: 0 when every handout was written, 1 when a lesson failed, 2 on bad usage."""
    args = _parser().parse_args(argv)
    lessons = list(args.lessons) or find_lessons(args.course)
    missing = [str(p) for p in lessons if not Path(p).is_file()]
    if missing or not lessons:
        what = "、".join(missing) if missing else f"{args.course} 下的 NN_*.ipynb"
        print(f"找不到课程笔记本：{what}", file=sys.stderr)
        return 2
    chromium = None
    if not args.no_pdf:
        chromium = find_chromium()
        if chromium is None:
            print(NO_CHROMIUM, file=sys.stderr, flush=True)
    results = build_handouts(lessons, args.out, pdf=not args.no_pdf, chromium=chromium)
    failed = [r for r in results if r.error]
    written = sum(1 for r in results if r.html)
    print(f"完成：{written}/{len(results)} 课的讲义已写入 {args.out}/", flush=True)
    if failed:
        print(f"以下 {len(failed)} 课未能生成讲义（或 PDF）：", file=sys.stderr)
        for r in failed:
            print(f"  - {r.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
