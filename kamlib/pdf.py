"""Printing an HTML page to an A4 PDF with headless Chromium (handouts, account plans).

Debian's ``chromium`` (or ``$KAM_CHROMIUM``) prints; with the Python package playwright
installed, the page first gets kamlib's bundled Chinese font, so the PDF shows Chinese on
machines without a CJK system font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

__all__ = ["find_chromium", "html_to_pdf", "NO_CHROMIUM"]

PDF_TIMEOUT = 120  # seconds for one Chromium print
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_CHROMIUM = (
    "未找到 Chromium 浏览器（/usr/bin/chromium），因此只生成了 HTML 讲义，没有生成 PDF。"
    "Debian/Ubuntu 上可用 sudo apt install chromium fonts-wqy-microhei 安装；"
    "也可以用浏览器打开 HTML 讲义后“打印 → 另存为 PDF”。"
)


def find_chromium() -> Path | None:
    """A Chromium/Chrome executable: ``$KAM_CHROMIUM``, /usr/bin/chromium, or one on PATH."""
    configured = os.environ.get("KAM_CHROMIUM")
    if configured:
        return Path(configured) if Path(configured).exists() else None
    if Path("/usr/bin/chromium").exists():
        return Path("/usr/bin/chromium")
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


CJK_RANGE = "U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF"


def _font_face() -> str:
    """CSS for the printed copy: kamlib's bundled Chinese font first, for CJK characters only.

    KamSans is a subset of WenQuanYi Micro Hei, so the PDF looks the same on every machine
    and needs no system CJK font; Latin text and code keep their usual fonts.
    """
    font = files("kamlib") / "fonts" / "KamSans-Regular.ttf"
    try:
        url = Path(str(font)).resolve().as_uri()
    except ValueError:
        return ""
    if not Path(str(font)).is_file():
        return ""
    return (
        f'<style>@font-face {{ font-family: "KamSans"; src: url("{url}") format("truetype"); '
        f"unicode-range: {CJK_RANGE}; }}\n"
        'body.jp-Notebook { --jp-content-font-family: "KamSans", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;'
        ' --jp-ui-font-family: "KamSans", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;'
        ' --jp-code-font-family: "KamSans", "DejaVu Sans Mono", Menlo, Consolas, monospace; }</style>'
    )


# Wait for kamlib's font, then rebuild the body: text laid out while the font was still
# loading would otherwise keep its missing-glyph boxes in the print.
_FONTS_THEN_RELAYOUT = """async () => {
  try { await document.fonts.load('16px KamSans', '中'); } catch (e) { /* system fonts then */ }
  await document.fonts.ready;
  document.body.innerHTML = document.body.innerHTML;
  await document.fonts.ready;
}"""


def _print_with_playwright(page_uri: str, pdf_path: Path, chromium: Path, timeout: int) -> None:
    """Print through the playwright package: waits until every web font has loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium),
            headless=True,
            args=[f for f in CHROMIUM_FLAGS if f != "--headless"],
            timeout=timeout * 1000,
        )
        try:
            page = browser.new_page()
            page.goto(page_uri, wait_until="load", timeout=timeout * 1000)
            page.evaluate(_FONTS_THEN_RELAYOUT)
            page.pdf(path=str(pdf_path), format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()


def _print_with_cli(page_uri: str, pdf_path: Path, chromium: Path, timeout: int, profile: Path) -> None:
    """Print through Chromium's own ``--print-to-pdf`` (used when playwright is not installed)."""
    cmd = [
        str(chromium),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000",
        f"--print-to-pdf={pdf_path}",
        page_uri,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError(f"Chromium 打印超过 {timeout} 秒仍未结束。") from err
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        raise RuntimeError(f"Chromium 没有写出 PDF（退出码 {proc.returncode}）：{' '.join(tail)}")


def html_to_pdf(html_path: Path, pdf_path: Path, chromium: Path, timeout: int = PDF_TIMEOUT) -> None:
    """Print ``html_path`` to ``pdf_path`` (A4) with headless Chromium; raises RuntimeError in Chinese.

    With the Python package playwright installed (the ``[test]`` extra), Chromium prints a
    temporary copy that uses kamlib's bundled Chinese font and waits until it has loaded,
    so the PDF shows Chinese even where no CJK system font is installed. Without it,
    Chromium's own ``--print-to-pdf`` prints the page as it is, which then needs a system
    CJK font such as Debian's fonts-wqy-microhei.
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="kam-chromium-") as tmp:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            _print_with_cli(html_path.as_uri(), pdf_path, chromium, timeout, Path(tmp) / "profile")
        else:
            page = Path(tmp) / html_path.name
            text = html_path.read_text(encoding="utf-8")
            page.write_text(text.replace("</head>", _font_face() + "</head>", 1), encoding="utf-8")
            try:
                _print_with_playwright(page.as_uri(), pdf_path, chromium, timeout)
            except Exception as err:
                raise RuntimeError(f"Chromium（经 playwright）未能打印 PDF：{type(err).__name__}: {err}") from err
        if not pdf_path.exists() or pdf_path.stat().st_size == 0:
            raise RuntimeError(f"Chromium 没有写出 {pdf_path.name}。")
