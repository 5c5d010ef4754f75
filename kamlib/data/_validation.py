"""Reading and validating CSV files: the one place where kamlib.data checks its input.

A file is read in three steps: bytes are decoded (UTF-8, UTF-8 with BOM or GBK, detected),
parsed into a frame of raw strings whose index is the spreadsheet row number (header =
row 1), then checked against a schema by :func:`_validated`, which either returns a typed
frame or raises :class:`DataError` listing every problem found.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

MAX_REPORTED = 10  # problems spelled out in one message; the rest are counted

_DTYPES = {"text": "str", "int": "Int64", "float": "float64", "date": "datetime64[ns]"}
_INT = re.compile(r"[+-]?\d+(?:\.0+)?")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,200.5 (thousands separators)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SAVE_AS_HINT = "请在 Excel 中用“另存为 → CSV UTF-8（逗号分隔）”重新保存后再试。"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (spreadsheet row, column), the value, and what."""

    row: int | None  # spreadsheet row (header = 1); None when it concerns the whole file
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第 {self.row} 行")
        if self.column is not None:
            where.append(f"列 {self.column}")
        if self.value is not None:
            shown = self.value if len(self.value) <= 40 else self.value[:40] + "……"
            where.append(f"值“{shown}”")
        return ("，".join(where) + "：" if where else "") + self.message


class DataError(ValueError):
    """A data file could not be read or is invalid. The message (Chinese) names the file,
    the spreadsheet row (header = row 1), the column and the value of each problem;
    ``problems`` holds them all, ``source`` the file."""

    def __init__(self, source: str, problems: Sequence[Problem], sheet: str | None = None) -> None:
        self.source = source
        self.sheet = sheet  # the worksheet of an Excel workbook, None for a CSV file
        self.problems = tuple(sorted(problems, key=lambda p: p.row or 0))  # stable: by row
        super().__init__(_describe(source, self.problems, sheet))


def _describe(source: str, problems: Sequence[Problem], sheet: str | None = None) -> str:
    where = f"文件 {source}" + (f" 的工作表“{sheet}”" if sheet else "")
    if len(problems) == 1 and problems[0].row is None:
        return f"无法使用{where}：{problems[0]}"
    rows = "行号就是 Excel 左侧的行号" if sheet else "行号按电子表格计，表头为第 1 行"
    lines = [f"{where}中有 {len(problems)} 处问题（{rows}）："]
    lines += [f"  {i}. {p}" for i, p in enumerate(problems[:MAX_REPORTED], start=1)]
    if len(problems) > MAX_REPORTED:
        lines.append(f"  ……另有 {len(problems) - MAX_REPORTED} 处问题未列出；请先改正以上各处再试。")
    return "\n".join(lines)


@dataclass(frozen=True)
class Field:
    """One column of a schema.

    kind: "text", "int" (whole number; "3.0" counts as 3), "float" (thousands separators
    as in "1,200.5" are accepted) or "date" (YYYY-MM-DD). ``required``: the column must be
    present; ``nullable``: a blank cell is allowed and becomes NA. ``low``/``high`` bound
    numbers inclusively (``low_open``: strictly above ``low``); ``choices`` lists the
    allowed texts; ``unique`` forbids repeated values; ``aliases`` are (spelling, value) pairs read as
    that value (e.g. the Chinese name of a choice); ``fold``: width-fold the text (NFKC), so that
    the id Ｋ００１ is K001.
    """

    name: str
    kind: str = "text"
    required: bool = True
    nullable: bool = False
    unique: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    fold: bool = False

    def expected(self) -> str:
        """What a valid value looks like, in Chinese."""
        if self.choices:
            spellings = [alias for alias, _ in self.aliases] or list(self.choices)
            return "应为 " + " / ".join(spellings) + " 之一"
        noun = {"int": "整数", "float": "数", "date": "日期（YYYY-MM-DD）", "text": "文本"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"应为 {self.low:g}–{self.high:g} 之间的{noun}"
        if self.low is not None:
            return f"应为{'大于' if self.low_open else '不小于'} {self.low:g} 的{noun}"
        return f"应为{noun}"

    def parse(self, cell: str) -> tuple[object, str | None]:
        """(value, None) for a valid non-blank cell, else (None, Chinese reason)."""
        if self.kind == "text":
            value: object = dict(self.aliases).get(cell, cell)
            if self.fold:
                value = unicodedata.normalize("NFKC", str(value))
        elif self.kind == "date":
            try:
                value = date.fromisoformat(cell) if _DATE.fullmatch(cell) else None
            except ValueError:
                value = None
            if value is None:
                return None, f"不是有效日期，{self.expected()}"
        elif self.kind == "int":
            if not _INT.fullmatch(cell):
                numeric = _FLOAT.fullmatch(cell) or _GROUPED.fullmatch(cell)
                return None, f"{'不是整数' if numeric else '不是数字'}，{self.expected()}"
            value = int(cell.split(".")[0])
        else:
            if _FLOAT.fullmatch(cell):
                value = float(cell)
            elif _GROUPED.fullmatch(cell):
                value = float(cell.replace(",", ""))
            else:
                return None, f"不是数字，{self.expected()}"
            if not math.isfinite(value):
                return None, f"数值过大，{self.expected()}"
        if self.choices and value not in self.choices:
            return None, f"不是允许的取值，{self.expected()}"
        if self.kind in ("int", "float") and not self._in_range(value):
            negative = self.low == 0 and value < 0
            return None, f"{'不能为负数，' if negative else '超出范围，'}{self.expected()}"
        return value, None

    def _in_range(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high


Schema = tuple[Field, ...]


# Letters of Latin Extended to Arabic: what a GBK file that happens to be valid UTF-8 decodes to
# (the GBK bytes of 械 are the UTF-8 bytes of a Cyrillic е), and what no sheet of this course holds.
_MOJIBAKE = re.compile("[\u0100-\u07ff]")
_HANZI = re.compile("[\u4e00-\u9fff]")


def decode(data: bytes, source: str) -> str:
    """Text of *data*: UTF-8 with BOM, UTF-8 or GBK (GB 18030), tried in that order.

    A short GBK file can also be valid UTF-8; where the UTF-8 reading gives letters of
    other scripts and the GBK reading gives Chinese characters instead, it is GBK.
    """
    if data.startswith(codecs.BOM_UTF8):
        attempts = [("utf-8", 3)]
    else:
        attempts = [("utf-8", 0), ("gb18030", 0)]
    furthest = 0
    for encoding, skip in attempts:
        try:
            text = data[skip:].decode(encoding)
        except UnicodeDecodeError as err:
            furthest = max(furthest, skip + err.start)
            continue
        if encoding == "utf-8" and skip == 0 and _MOJIBAKE.search(text):
            try:
                other = data.decode("gb18030")
            except UnicodeDecodeError:
                other = None
            if other is not None and not _MOJIBAKE.search(other) and _HANZI.search(other):
                text = other
        if "\x00" in text:
            raise DataError(
                source,
                [Problem(None, None, None, "文件中有空字符，可能是 UTF-16（“Unicode 文本”）格式。" + _SAVE_AS_HINT)],
            )
        return text
    row = data.count(b"\n", 0, furthest) + 1
    raise DataError(
        source,
        [
            Problem(
                row,
                None,
                data[furthest : furthest + 4].hex(" "),
                "无法识别文件编码（既不是 UTF-8 也不是 GBK），字节无法解码。" + _SAVE_AS_HINT,
            )
        ],
    )


def read_table(data: bytes, source: str) -> pd.DataFrame:
    """Parse CSV *data* into raw, stripped strings (index = spreadsheet row number).

    Blank lines are skipped (they keep their row number); trailing empty cells, as Excel
    writes them, are ignored. The header must be the first row.
    """
    text = decode(data, source)
    try:
        records = [[cell.strip() for cell in rec] for rec in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as err:
        raise DataError(source, [Problem(None, None, None, f"不是有效的 CSV 文件（{err}）。")]) from err
    if not any(any(rec) for rec in records):
        raise DataError(source, [Problem(None, None, None, "文件是空的，没有表头也没有数据。")])
    header = records[0]
    while header and not header[-1]:
        header = header[:-1]
    width = len(header)
    problems = [Problem(1, f"第 {i} 列", None, "列名为空") for i, name in enumerate(header, 1) if not name]
    rows, index = [], []
    for row_no, rec in enumerate(records[1:], start=2):
        if not any(rec):
            continue
        if any(rec[width:]):
            problems.append(
                Problem(
                    row_no, None, None, f"本行有 {len(rec)} 个字段，比表头的 {width} 列多（是否有未加引号的逗号？）"
                )
            )
            continue
        rows.append(rec[:width] + [""] * (width - len(rec)))
        index.append(row_no)
    if problems:
        raise DataError(source, problems)
    return pd.DataFrame(rows, columns=header, index=pd.Index(index, dtype="int64"), dtype=object)


def _validated(
    raw: pd.DataFrame,
    schema: Schema,
    source: str,
    *,
    header_row: int = 1,
    sheet: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check raw strings (from :func:`read_table`) against *schema*; return typed columns.

    Columns come out in schema order (an absent optional column as all-NA), followed by
    any extra columns as text. Raises DataError with every problem found (naming *sheet*
    and the spreadsheet rows, the header being *header_row*); a column is named by
    ``headers[name]`` (the header as the file has it, or a label) where given.
    """
    shown = dict(headers or {})
    columns = list(raw.columns)
    problems = [
        Problem(header_row, shown.get(name, name), None, "列名重复")
        for name in dict.fromkeys(c for c in columns if columns.count(c) > 1)
    ]
    present = "、".join(shown.get(c, c) for c in columns) or "（无）"
    problems += [
        Problem(header_row, shown.get(f.name, f.name), None, f"缺少必需的列（表中的列：{present}）")
        for f in schema
        if f.required and f.name not in columns
    ]
    if raw.empty:
        problems.append(Problem(None, None, None, "只有表头，没有数据行。"))
    if problems and (raw.empty or len(set(columns)) < len(columns)):
        raise DataError(source, problems, sheet)
    out: dict[str, pd.Series] = {}
    for f in schema:
        if f.name in columns:
            out[f.name] = _column(raw[f.name], f, shown.get(f.name, f.name), problems)
        elif not f.required:
            out[f.name] = pd.Series([None] * len(raw), index=raw.index, dtype=_DTYPES[f.kind])
    if problems:
        raise DataError(source, problems, sheet)
    known = {f.name for f in schema}
    for name in columns:
        if name not in known:
            out[name] = raw[name].where(raw[name] != "").astype("str")
    return pd.DataFrame(out).reset_index(drop=True)


def _column(cells: pd.Series, f: Field, shown: str, problems: list[Problem]) -> pd.Series:
    values: list[object] = []
    first_row: dict[object, int] = {}
    for row_no, cell in cells.items():
        value, reason = (None, None) if cell == "" else f.parse(cell)
        if cell == "" and not f.nullable:
            reason = "不能为空"
        if reason:
            problems.append(Problem(int(row_no), shown, cell if cell else None, reason))
        elif f.unique and value is not None:
            if value in first_row:
                problems.append(Problem(int(row_no), shown, cell, f"与第 {first_row[value]} 行重复"))
            else:
                first_row[value] = int(row_no)
        values.append(value)
    if f.kind == "date":
        return pd.Series(pd.to_datetime(values), index=cells.index).astype(_DTYPES["date"])
    return pd.Series(values, index=cells.index, dtype=_DTYPES[f.kind])
