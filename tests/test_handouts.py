"""Handouts (`make handouts`): a lesson as self-contained HTML and as a PDF with Chinese text.

One lesson is built through the command line (`python -m tools.handouts`) into a temporary
folder; the first PDF page is kept as artifacts/handouts/*.png for a human to look at.
Without Chromium (or poppler-utils' pdftotext) the PDF tests skip on a user's machine,
and fail on CI (CI=true), where .ci/run must install them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kamlib import pdf
from kamlib.quizzes import RERUN_NOTE
from tools import handouts

pytestmark = pytest.mark.slow  # every test here builds a handout: a lesson run in a kernel

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "course" / "01_concepts.ipynb"
ARTIFACTS = ROOT / "artifacts" / "handouts"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _title() -> str:
    return handouts.lesson_title(nbformat.read(LESSON, as_version=4), LESSON.stem)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The handouts of one lesson, built by the command line (PDF too when Chromium exists)."""
    out = tmp_path_factory.mktemp("handouts")
    cmd = [sys.executable, "-m", "tools.handouts", "--out", str(out), str(LESSON)]
    if pdf.find_chromium() is None:
        cmd.insert(3, "--no-pdf")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return out, proc


@pytest.fixture(scope="module")
def page(built) -> str:
    out, proc = built
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return (out / f"{LESSON.stem}.html").read_text(encoding="utf-8")


def test_progress_is_printed_per_lesson(built):
    _, proc = built
    assert f"[1/1] {LESSON.name}" in proc.stdout
    assert "已生成" in proc.stdout and "完成：1/1" in proc.stdout


def test_html_is_self_contained(page):
    srcs = re.findall(r"""<(?:img|script|iframe|source|video|audio)\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)""", page, re.I)
    assert srcs, "the lesson draws charts: expected embedded images"
    outside = [s[:60] for s in srcs if not s.startswith("data:")]
    assert not outside, f"non-embedded sources: {outside}"
    imgs = re.findall(r"""<img\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)""", page, re.I)
    assert imgs and all(s.startswith("data:image/") for s in imgs)
    sheets = re.findall(r"<link\b[^>]*>", page, re.I)
    assert not sheets, f"external stylesheets or links: {sheets}"
    assert not re.search(r"""\b(?:import|require)\s*\(?\s*["']https?://""", page), "a script loads code from the web"
    assert "cdnjs" not in page and "unpkg" not in page


def test_html_has_title_chinese_text_and_no_errors(page):
    title = _title()
    assert title.startswith("第一课")
    assert f"<title>{title}</title>" in page
    assert title in page
    assert len(CJK.findall(page)) > 2000, "expected the lesson's Chinese text"
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page, "an error or warning was printed"
    assert "Traceback" not in page


def test_widgets_become_static_snapshots_with_a_chinese_note(page):
    assert "application/vnd.jupyter.widget-view+json" not in page
    assert handouts.WIDGET_NOTE in page
    assert "二八法则探索器" in page, "the Pareto explorer's heading should be in its snapshot"
    assert "你的选择" in page, "quiz options should be printed"
    assert RERUN_NOTE not in page, "a printed page has no cell to re-run"


def test_binder_badge_becomes_a_text_link(page):
    assert "badge_logo.svg" not in page
    assert "在 Binder 上打开本课（交互版）" in page


def test_pdf_has_pages_and_chinese_text(built, skip_or_fail):
    if pdf.find_chromium() is None:
        skip_or_fail("PDF handout tests need Debian's chromium (/usr/bin/chromium)")
    out, proc = built
    assert proc.returncode == 0, proc.stderr
    printed = out / f"{LESSON.stem}.pdf"
    data = printed.read_bytes()
    assert data.startswith(b"%PDF"), "not a PDF"
    if not all(shutil.which(tool) for tool in ("pdftotext", "pdfinfo", "pdffonts")):
        skip_or_fail("PDF handout tests need pdftotext, pdfinfo and pdffonts (Debian poppler-utils)")
    info = subprocess.run(["pdfinfo", str(printed)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages > 1
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(printed), "-"], capture_output=True, check=True
    ).stdout.decode()
    squeezed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", _title()) in squeezed
    assert "重点客户管理" in squeezed and len(CJK.findall(text)) > 1000
    assert "交互组件" in squeezed, "the widget note should be printed"
    # Extracted text alone would not show missing-glyph boxes: a Chinese font must be embedded.
    fonts = subprocess.run(["pdffonts", str(printed)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"KamSans|WenQuanYi|CJK|SourceHan", fonts), f"no Chinese font embedded:\n{fonts}"
    if shutil.which("pdftoppm"):  # keep page 1 for a human to look at
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "60",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(printed),
                str(ARTIFACTS / f"{LESSON.stem}-page1"),
            ],
            check=True,
        )


# --- failures -------------------------------------------------------------------------


def _notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def tiny_course(tmp_path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    md = nbformat.v4.new_markdown_cell
    code = nbformat.v4.new_code_cell
    _notebook(course / "01_ok.ipynb", md("# 第一课　测试\n\n这是一节很短的课。"), code('print("你好，学员")'))
    _notebook(course / "02_broken.ipynb", md("# 第二课　坏掉的课"), code("x = 1"), code("1 / 0"))
    _notebook(course / "03_also_ok.ipynb", md("# 第三课　也没问题"), code("2 + 3"))
    return course


def test_a_failing_lesson_is_named_in_chinese_and_the_others_are_built(tiny_course, tmp_path, monkeypatch, capsys):
    # No Chromium here either: the HTML handouts must still be made, with a Chinese note.
    monkeypatch.setenv("KAM_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "02_broken.html").write_text("stale", encoding="utf-8")  # from an earlier build
    code = handouts.main(["--course", str(tiny_course), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "课程 02_broken.ipynb 执行失败" in captured.err
    assert "第 3 个单元格" in captured.err and "ZeroDivisionError" in captured.err
    assert "[3/3] 03_also_ok.ipynb" in captured.out, "the build must go on after a failing lesson"
    assert (out / "01_ok.html").exists() and (out / "03_also_ok.html").exists()
    assert "你好，学员" in (out / "01_ok.html").read_text(encoding="utf-8")
    assert not (out / "02_broken.html").exists(), "a stale handout of the failed lesson must not remain"
    assert "未找到 Chromium" in captured.err and "apt install chromium" in captured.err
    assert not list(out.glob("*.pdf"))


def test_missing_lesson_file_is_a_usage_error(tmp_path, capsys):
    assert handouts.main(["--out", str(tmp_path), str(tmp_path / "09_nothing.ipynb")]) == 2
    assert "找不到课程笔记本" in capsys.readouterr().err
