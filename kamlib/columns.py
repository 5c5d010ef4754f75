"""The one check that a table has the columns a function needs, with one Chinese wording."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def require_columns(frame: object, needed: Sequence[str], table: str) -> None:
    """Raise ValueError unless ``frame`` is a DataFrame holding every column of ``needed``.

    ``table`` names the table for the reader (“客户表”, or the function it was given to). The
    message lists the absent columns first, then the needed and the present ones:

    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "客户表")
    Traceback (most recent call last):
    ...
    ValueError: 客户表缺少列：b（需要的列：a、b；现有的列：a）。
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{table}需要是一个表格（DataFrame），收到的是 {type(frame).__name__}。")
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        present = "、".join(map(str, frame.columns)) or "无"
        raise ValueError(f"{table}缺少列：{'、'.join(absent)}（需要的列：{'、'.join(needed)}；现有的列：{present}）。")
