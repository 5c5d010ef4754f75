"""Excel workbooks (.xlsx) of a trainee's own accounts: reading one sheet as raw text.

:func:`read_sheet` turns a worksheet into the same frame of raw strings that
:func:`kamlib.data._validation.read_table` makes of a CSV file (index = the Excel row
number), so that both go through the one validation. It reads what a real user's
workbook holds: the header may sit below a title, formulas count with the value Excel
last computed, numbers may be stored as text, text cells merged down a column count for
every row they cover, hidden rows and columns are read like the others. What it cannot
read with certainty (merged header cells, a number or id merged over several rows, a date
in a number column, a formula without a saved value, a value under no header) becomes a
:class:`Problem` naming the cell.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta

import pandas as pd

from kamlib.data._validation import DataError, Field, Problem, Schema

HEADER_SEARCH_ROWS = 10  # the header is looked for in this many rows from the top
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!")
_SAVE_AS_XLSX = "请在 Excel 或 WPS 中打开它，用“另存为 → Excel 工作簿（*.xlsx）”保存后再试。"


class NoSuchSheet(DataError):
    """No sheet of the workbook can be the one wanted (raised by :func:`pick_sheet`)."""


def _damaged(detail: str) -> str:
    return f"文件已损坏，不是有效的 Excel 工作簿（{detail}）。" + _SAVE_AS_XLSX


def file_kind(data: bytes) -> str:
    """ "xlsx", "xls" (old binary Excel, or a password-protected workbook), "ods", "zip"
    (some other zip archive), "damaged" (a broken zip archive, e.g. a truncated .xlsx) or
    "text" — by content, whatever the file is named."""
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if "mimetype" in names and b"opendocument" in archive.read("mimetype"):
                    return "ods"
        except zipfile.BadZipFile:
            return "damaged"
        return "zip"
    return "text"


def unusable_reason(kind: str) -> str | None:
    """Why a file of this kind cannot be read (Chinese), or None when it can."""
    return {
        "xls": "这是旧版 Excel（.xls）文件，或是加了打开密码的工作簿，无法直接读取。请去掉密码，并" + _SAVE_AS_XLSX[1:],
        "ods": "这是 OpenDocument 表格（.ods），不是 Excel 工作簿。" + _SAVE_AS_XLSX,
        "zip": "这是一个压缩文件，不是 Excel 工作簿（.xlsx）。" + _SAVE_AS_XLSX,
        "damaged": _damaged("BadZipFile"),
    }.get(kind)


def normalise_header(text: object) -> str:
    """A header cell compared loosely: width-folded, lower case, without spaces."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"\s+", "", folded)


def field_of(header: object, names: Mapping[str, str]) -> str | None:
    """The field a header cell names (through :func:`header_names`), or None."""
    return None if header is None else names.get(normalise_header(header))


def header_names(schema: Schema, labels: Mapping[str, str]) -> dict[str, str]:
    """{normalised spelling: field name}: the English name, the Chinese label, and the
    label without its bracketed unit (销售额（万元） → 销售额)."""
    names: dict[str, str] = {}
    for f in schema:
        names[normalise_header(f.name)] = f.name
        label = labels.get(f.name)
        if label:
            names[normalise_header(label)] = f.name
            names.setdefault(normalise_header(re.sub(r"（.*）$", "", label)), f.name)
    return names


def _load(data: bytes, source: str, formulas: bool):
    import openpyxl  # imported here: import kamlib.data stays light

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
        try:
            return openpyxl.load_workbook(io.BytesIO(data), data_only=not formulas)
        except Exception as err:  # a damaged archive, a missing part, invalid XML
            raise DataError(source, [Problem(None, None, None, _damaged(type(err).__name__))]) from err


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the .xlsx archive holds a formula (an <f> element)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return any(
            re.search(rb"<(?:\w+:)?f[ >]", archive.read(n))
            for n in archive.namelist()
            if n.startswith("xl/worksheets/") and n.endswith(".xml")
        )


def pick_sheet(sheetnames: list[str], wanted: tuple[str, ...], reserved: Iterable[str], source: str) -> str:
    """The sheet named one of *wanted* (loosely); else the only sheet not *reserved* (named
    for something else, or already read as another table); else DataError listing the
    sheets — :class:`NoSuchSheet` when no sheet is left that could be it."""
    by_name = {normalise_header(n): n for n in sheetnames}
    for name in wanted:
        if normalise_header(name) in by_name:
            return by_name[normalise_header(name)]
    taken = {normalise_header(n) for n in reserved}
    others = [n for n in sheetnames if normalise_header(n) not in taken]
    if len(others) == 1:
        return others[0]
    present = "、".join(f"“{n}”" for n in sheetnames)
    error = DataError if others else NoSuchSheet
    raise error(
        source,
        [
            Problem(
                None,
                None,
                None,
                f"工作簿中没有名为“{wanted[0]}”的工作表（现有的工作表：{present}）。"
                f"请把这张表所在的工作表改名为“{wanted[0]}”。",
            )
        ],
    )


def _cell_text(value: object, f: Field | None) -> tuple[str, str | None]:
    """(text as a CSV would hold it, a Chinese reason when the value cannot be taken as is)."""
    from openpyxl.utils.datetime import from_excel, to_excel

    kind = f.kind if f is not None else "text"
    if value is None:
        return "", None
    if isinstance(value, str):
        text = value.strip()
        if text in EXCEL_ERRORS:
            return text, f"公式计算出错（{text}），请在 Excel 中改正公式或填入数值"
        return text, None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, (datetime, date)):
        day = value.date() if isinstance(value, datetime) else value
        if kind == "date":
            return day.isoformat(), None
        if kind in ("int", "float"):
            serial = to_excel(value)
            return day.isoformat(), (
                f"单元格是日期格式（其中的数为 {serial:g}），{f.expected()}；如果本来填的是数，"
                "请把单元格格式改为“常规”后重新输入"
            )
        return day.isoformat(), None
    if isinstance(value, (time, timedelta)):
        return str(value), None
    if isinstance(value, (int, float)):
        if kind == "date":
            try:  # a date stored as its Excel serial number (a date cell formatted as “常规”)
                return from_excel(value).date().isoformat(), None
            except (ValueError, OverflowError):
                return repr(value), None
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value)), None
        return repr(value) if isinstance(value, float) else str(value), None
    return str(value), None


def read_sheet(
    data: bytes,
    source: str,
    pick: Callable[[list[str]], str],
    schema: Schema,
    names: Mapping[str, str],
    required: str,
) -> tuple[pd.DataFrame, int, str, list[Problem]]:
    """Read one worksheet of an .xlsx file as raw strings.

    *pick* chooses the sheet from the workbook's sheet names (e.g. with :func:`pick_sheet`).
    Returns (frame, header row, sheet name, problems): the frame's columns are the header
    texts as written, its index the Excel row numbers; blank rows are left out; an empty
    sheet gives a frame without columns (header row 0). *problems* are cells that could not
    be read, each column named by its header as written; the caller reports them with the
    validation's. Raises DataError when the sheet cannot be read at all (*required* names
    the columns a header must hold, for the message when none is found).
    """
    from openpyxl.utils import get_column_letter

    values_wb = _load(data, source, formulas=False)
    name = pick(values_wb.sheetnames)
    ws = values_wb[name]
    grid = [list(row) for row in ws.iter_rows(values_only=True)]
    if not any(v not in (None, "") for row in grid for v in row):
        return pd.DataFrame(index=pd.Index([], dtype="int64"), dtype=object), 0, name, []

    header_row = next(
        (r for r, row in enumerate(grid[:HEADER_SEARCH_ROWS], start=1) if any(field_of(v, names) for v in row)),
        None,
    )
    if header_row is None:
        raise DataError(
            source,
            [
                Problem(
                    None,
                    None,
                    None,
                    f"前 {HEADER_SEARCH_ROWS} 行中没有找到表头：表头应包含这些列：{required}。",
                )
            ],
            name,
        )
    header = [None if v is None or not str(v).strip() else str(v).strip() for v in grid[header_row - 1]]
    width = max((i + 1 for i, v in enumerate(header) if v is not None), default=0)
    header = header[:width]
    fields = {f.name: f for f in schema}
    column_fields = [fields.get(field_of(h, names) or "") for h in header]

    def shown(c: int) -> str:
        return header[c] if c < width and header[c] is not None else f"{get_column_letter(c + 1)} 列"

    problems: list[Problem] = []
    for merged in ws.merged_cells.ranges:
        if merged.min_row <= header_row <= merged.max_row:
            problems.append(
                Problem(header_row, None, str(merged.coord), "表头中有合并单元格；请取消合并，让每一列都有自己的列名")
            )
        elif merged.min_row > header_row and merged.min_col != merged.max_col:
            problems.append(
                Problem(
                    merged.min_row,
                    None,
                    str(merged.coord),
                    "数据区中有跨列的合并单元格；请取消合并，每个单元格填一个值",
                )
            )
        elif merged.min_row > header_row:  # merged down one column: a text holds for every row
            c = merged.min_col - 1
            f = column_fields[c] if c < width else None
            if f is not None and (f.kind != "text" or f.fold):
                problems.append(
                    Problem(
                        merged.min_row,
                        shown(c),
                        str(merged.coord),
                        "数字和编号不能跨行合并（合并后只有第一行有值）；请取消合并，在每一行填入各自的值",
                    )
                )
                continue
            top = grid[merged.min_row - 1][c]
            for r in range(merged.min_row, merged.max_row + 1):
                grid[r - 1][c] = top
    if problems:
        raise DataError(source, problems, name)

    formulas_ws = _load(data, source, formulas=True)[name] if _has_formulas(data) else None
    rows, index = [], []
    for r in range(header_row + 1, len(grid) + 1):
        cells = grid[r - 1]
        if not any(v is not None and str(v).strip() for v in cells):
            continue
        for c in range(width, len(cells)):
            if cells[c] is not None and str(cells[c]).strip():
                problems.append(Problem(r, shown(c), str(cells[c]), "这一格有内容，但所在的列没有列名"))
        texts = []
        for c in range(width):
            value = cells[c] if c < len(cells) else None
            text, reason = _cell_text(value, column_fields[c])
            if value is None and formulas_ws is not None:  # a formula whose value was never saved
                formula = formulas_ws.cell(row=r, column=c + 1).value
                if isinstance(formula, str) and formula.startswith("="):
                    reason = (
                        f"是公式 {formula}，但文件中没有保存它的计算结果（文件不是用 Excel 或 WPS 保存的）；"
                        "请在 Excel 或 WPS 中打开并保存一次后再试"
                    )
            if reason:
                problems.append(Problem(r, shown(c), text or None, reason))
            texts.append(text)
        rows.append(texts)
        index.append(r)
    for c, h in enumerate(header):
        if h is None and any(row[c] for row in rows):
            problems.append(Problem(header_row, shown(c), None, "这一列有数据，但列名为空"))
    kept = [c for c, h in enumerate(header) if h is not None]
    frame = pd.DataFrame(
        [[row[c] for c in kept] for row in rows],
        columns=[header[c] for c in kept],
        index=pd.Index(index, dtype="int64"),
        dtype=object,
    )
    return frame, header_row, name, problems
