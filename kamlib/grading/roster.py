"""``kam roster``: the class list (学员编号, 姓名, optionally 邮箱) imported into the gradebook.

With every learner in the gradebook, those who never submit appear in the report as
“未提交”, and names show beside the ids. The list is a CSV (UTF-8, UTF-8 with BOM or
GBK) or the first sheet of an .xlsx workbook, header in the first row. A learner's
full name is kept in nbgrader's ``last_name`` (formgrader shows it as it is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .course import Course, KamError

ID, NAME, EMAIL = "学员编号", "姓名", "邮箱"
_BAD_ID = re.compile(r"[\s/\\]|^\.+$")


@dataclass
class RosterImport:
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    not_in_list: list[str]  # learners in the gradebook that the list does not name (kept)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores a numeric id as a float
    return str(value).strip()


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError:
        raise KamError(f"读取 {path.name} 需要 openpyxl：请运行 pip install openpyxl，或把名单另存为 CSV") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises several types, with English messages, for a file that is not a workbook
        raise KamError(
            f"名单 {path} 不是有效的 Excel 文件（.xlsx），无法打开：请在 Excel 中打开原表另存为 .xlsx 或 CSV 后重试"
        ) from None
    sheet = book.worksheets[0]
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    if not rows:
        raise KamError(f"{path} 的工作表“{sheet.title}”是空的")
    header, width = rows[0], len(rows[0])
    records = {n: (r + [""] * width)[:width] for n, r in enumerate(rows[1:], start=2) if any(r)}
    return pd.DataFrame(list(records.values()), columns=header, index=list(records), dtype=object)


def read_roster(path: Path) -> pd.DataFrame:
    """The class list at ``path`` as columns 学员编号, 姓名, 邮箱 (text; 邮箱 may be empty).

    Raises KamError naming the file, and the row and column of every problem.
    """
    from kamlib.data._validation import DataError, read_table

    path = Path(path)
    if not path.is_file():
        raise KamError(f"找不到名单文件 {path}")
    if path.suffix.lower() == ".xlsx":
        raw = _read_xlsx(path)
    elif path.suffix.lower() == ".csv":
        try:
            raw = read_table(path.read_bytes(), path.name)
        except DataError as exc:
            raise KamError(str(exc)) from None
    else:
        raise KamError(f"名单 {path.name} 应为 .csv 或 .xlsx 文件")
    missing = [c for c in (ID, NAME) if c not in raw.columns]
    if missing:
        present = "、".join(str(c) for c in raw.columns if c) or "（无）"
        raise KamError(f"名单 {path.name} 缺少列：{'、'.join(missing)}（表头在第 1 行；现有的列：{present}）")
    problems, first = [], {}
    for row, student in raw[ID].items():
        if not student:
            problems.append(f"第 {row} 行：{ID}为空")
        elif _BAD_ID.search(student):
            problems.append(f"第 {row} 行：{ID}“{student}”含空格或斜杠，不能用作文件夹名")
        elif student in first:
            problems.append(f"第 {row} 行：{ID}“{student}”与第 {first[student]} 行重复")
        else:
            first[student] = row
    if raw.empty:
        problems.append("只有表头，没有学员")
    if problems:
        raise KamError(f"名单 {path.name} 有 {len(problems)} 处问题，未导入任何学员：\n  " + "\n  ".join(problems))
    email = raw[EMAIL] if EMAIL in raw.columns else pd.Series("", index=raw.index)
    return pd.DataFrame({ID: raw[ID], NAME: raw[NAME], EMAIL: email.fillna("")}).reset_index(drop=True)


def import_roster(course: Course, path: Path) -> RosterImport:
    """Add or update every learner of the class list in the course's gradebook."""
    roster = read_roster(path)
    result = RosterImport([], [], [], [])
    with course.gradebook() as gb:
        known = {s.id: s for s in gb.students}
        for student, name, email in zip(roster[ID], roster[NAME], roster[EMAIL]):
            before = known.get(student)
            if before is not None and (before.last_name or "", before.first_name or "", before.email or "") == (
                name,
                "",
                email,
            ):
                result.unchanged.append(student)
                continue
            gb.update_or_create_student(student, last_name=name or None, first_name=None, email=email or None)
            (result.updated if before is not None else result.added).append(student)
        result.not_in_list = sorted(set(known) - set(roster[ID]))
    return result
