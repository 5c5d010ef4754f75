"""Answer values as plain data: how they leave the learner's kernel and how the grader reads them.

While a submission is graded, the learner's kernel is hostile. It hands over only the
values of the names a test cell uses, as JSON with a type tag per value (never pickle);
the grader rebuilds them with :func:`decode`, which creates nothing but built-in types,
numpy scalars, :class:`~kamlib.tiers.Tier` members and pandas tables from JSON, so no
learner code can run in the grader. Whatever the kernel sends is only ever a value:
the worst it can do is hand over the right answer, which is what typing it would do.

:func:`export` runs in the learner's kernel (called by the grader through a user
expression); it encodes exact types only — a ``str`` subclass or an object that
"equals everything" becomes an :class:`Opaque` value that equals nothing, as the
hidden tests' ``type(x) is ...`` checks would have it. :func:`render` gives the short
text recorded with the grade for the trainer's report.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = [
    "export",
    "export_expression",
    "decode_export",
    "decode",
    "render",
    "Opaque",
    "MISSING",
    "AnswerFormatError",
    "MAX_EXPORT_CHARS",
]

MAX_EXPORT_CHARS = 2_000_000  # the whole export of one test cell, as JSON text
MAX_DEPTH = 20
#: Items of one list, tuple, set or dict: far more than any answer needs, and few enough that
#: keys made to share one hash (a set or dict then takes quadratic time to build) cost the
#: grader well under a second.
MAX_ITEMS = 5_000
_NUMPY_DTYPES = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "bool"}
)
_TABLE_DTYPES = frozenset({"int64", "float64", "bool", "object", "str", "string"})


class AnswerFormatError(ValueError):
    """The kernel's export is not well-formed (too big, too deep, unknown tag)."""


class Opaque:
    """A value the kernel could not hand over as data: equal to nothing, not even itself."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<无法作为数据传出的对象：{self.type_name}>"


class _Missing:
    def __repr__(self) -> str:
        return "<未定义>"


#: Marks a name the learner's kernel did not have (not answered, or its cell failed).
MISSING = _Missing()


# ------------------------------------------------------------------ kernel side
def _encode(value: Any, depth: int = 0) -> dict:
    kind = type(value)
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": "（嵌套太深）"}
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        return {"t": "int", "v": str(value)}
    if kind is float:
        return {"t": "float", "v": repr(value)}
    if kind is str:
        return {"t": "str", "v": value}
    if kind in (list, tuple, set, frozenset, dict) and len(value) > MAX_ITEMS:
        return {"t": "opaque", "type": f"{kind.__name__}（超过 {MAX_ITEMS} 项）"}
    if kind in (list, tuple, set, frozenset):
        items = sorted(value, key=repr) if kind in (set, frozenset) else value
        return {"t": kind.__name__, "v": [_encode(item, depth + 1) for item in items]}
    if kind is dict:
        return {"t": "dict", "v": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in value.items()]}
    module = getattr(kind, "__module__", "")
    if module == "kamlib.tiers" and kind.__name__ == "Tier":
        return {"t": "Tier", "v": int.__int__(value)}
    if module == "numpy" and hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        dtype = str(value.dtype)
        if dtype in _NUMPY_DTYPES:
            return {"t": "numpy", "dtype": dtype, "v": repr(value.item())}
    if module.startswith("pandas") and kind.__name__ in ("Series", "DataFrame"):
        return _encode_table(value)
    return {"t": "opaque", "type": f"{module}.{kind.__qualname__}".strip(".")}


def _encode_table(table: Any) -> dict:
    frame = table.to_frame() if type(table).__name__ == "Series" else table
    dtypes = {str(c): str(d) for c, d in frame.dtypes.items()}
    exact_strings = all(
        type(x) is str or x is None for c, d in frame.dtypes.items() if str(d) == "object" for x in frame[c]
    )
    if not set(dtypes.values()) <= _TABLE_DTYPES or not exact_strings or len(frame.columns) != len(dtypes):
        return {"t": "opaque", "type": f"pandas.{type(table).__name__}"}
    return {
        "t": type(table).__name__,
        "columns": list(dtypes),
        "dtypes": list(dtypes.values()),
        "index": [_encode(i) for i in frame.index.tolist()],
        "rows": [[_encode(x) for x in row] for row in frame.itertuples(index=False, name=None)],
        "name": _encode(getattr(table, "name", None)) if type(table).__name__ == "Series" else None,
    }


def export(names: list[str], namespace: dict) -> str:
    """JSON of ``{name: encoded value}`` for ``names`` in ``namespace`` (learner kernel side)."""
    found = {name: _encode(namespace[name]) if name in namespace else {"t": "missing"} for name in names}
    return json.dumps(found, ensure_ascii=False)


def export_expression(names: list[str]) -> str:
    """The user expression the grader asks the learner's kernel to evaluate."""
    return f"__import__('kamlib.grading.answers', fromlist=['export']).export({names!r}, globals())"


# ------------------------------------------------------------------ grader side
def decode_export(text: str, names: list[str]) -> dict[str, Any]:
    """Rebuild ``{name: value}`` from :func:`export`'s JSON; names absent or missing are left out."""
    if len(text) > MAX_EXPORT_CHARS:
        raise AnswerFormatError(f"答案数据过大（{len(text)} 个字符）")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AnswerFormatError("答案数据不是合法的 JSON") from exc
    if type(data) is not dict:
        raise AnswerFormatError("答案数据格式不对")
    values = {}
    for name in names:
        if name in data:
            value = decode(data[name])
            if value is not MISSING:
                values[name] = value
    return values


def decode(data: Any, depth: int = 0) -> Any:
    """One encoded value back to a Python value; :class:`AnswerFormatError` on anything unexpected."""
    if depth > MAX_DEPTH + 1 or type(data) is not dict or type(data.get("t")) is not str:
        raise AnswerFormatError("答案数据格式不对")
    tag, v = data["t"], data.get("v")
    if tag == "missing":
        return MISSING
    if tag == "none":
        return None
    if tag == "bool" and type(v) is bool:
        return v
    if tag == "int" and type(v) is str and len(v) <= 4300:
        return int(v)
    if tag == "float" and type(v) is str:
        return float(v)
    if tag == "str" and type(v) is str:
        return v
    if tag in ("list", "tuple", "set", "frozenset", "dict") and type(v) is list and len(v) > MAX_ITEMS:
        raise AnswerFormatError(f"答案数据中的 {tag} 超过 {MAX_ITEMS} 项")
    if tag in ("list", "tuple", "set", "frozenset") and type(v) is list:
        items = [decode(item, depth + 1) for item in v]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
    if tag == "dict" and type(v) is list and all(type(p) is list and len(p) == 2 for p in v):
        return {decode(k, depth + 1): decode(x, depth + 1) for k, x in v}
    if tag == "Tier" and type(v) is int:
        from kamlib.tiers import Tier

        return Tier(v)
    if tag == "numpy" and data.get("dtype") in _NUMPY_DTYPES and type(v) is str:
        import numpy as np

        return np.dtype(data["dtype"]).type(_literal(v))
    if tag in ("Series", "DataFrame"):
        return _decode_table(data, depth)
    if tag == "opaque":
        return Opaque(str(data.get("type", "?"))[:100])
    raise AnswerFormatError(f"未知的答案数据类型：{tag[:40]}")


def _literal(text: str) -> bool | int | float:
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        return float(text)


def _decode_table(data: dict, depth: int) -> Any:
    import pandas as pd

    columns, dtypes, rows = data.get("columns"), data.get("dtypes"), data.get("rows")
    if not (
        type(columns) is list
        and type(dtypes) is list
        and type(rows) is list
        and len(columns) == len(dtypes)
        and set(dtypes) <= _TABLE_DTYPES
        and all(type(c) is str for c in columns)
        and all(type(r) is list and len(r) == len(columns) for r in rows)
    ):
        raise AnswerFormatError("表格数据格式不对")
    index = [decode(i, depth + 1) for i in data.get("index") or []]
    frame = pd.DataFrame(
        [[decode(x, depth + 1) for x in r] for r in rows],
        columns=columns,
        index=index if len(index) == len(rows) else None,
    )
    for column, dtype in zip(columns, dtypes):
        frame[column] = frame[column].astype(dtype)
    if data["t"] == "Series" and len(columns) == 1:
        series = frame[columns[0]]
        series.name = decode(data["name"], depth + 1) if data.get("name") is not None else None
        return series
    return frame


# ------------------------------------------------------------------ for people
def render(value: Any, limit: int = 200) -> str:
    """A short rendering of an answer for the trainer: Tier as its Chinese label, literals as Python's."""
    text = _render(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _render(value: Any) -> str:
    kind = type(value)
    if value is MISSING:
        return ""
    if type(value).__name__ == "Tier" and kind.__module__ == "kamlib.tiers":
        return value.label_zh
    if kind is float:
        return f"{value:g}" if math.isfinite(value) and abs(value) < 1e15 else repr(value)
    if kind in (list, tuple):
        inner = ", ".join(_render(v) for v in value)
        return f"[{inner}]" if kind is list else f"({inner}{',' if len(value) == 1 else ''})"
    if kind in (set, frozenset):
        return "{" + ", ".join(_render(v) for v in value) + "}"
    if kind is dict:
        return "{" + ", ".join(f"{_render(k)}: {_render(v)}" for k, v in value.items()) + "}"
    if kind.__module__ == "numpy":
        return _render(value.item())
    if kind.__name__ == "DataFrame":
        return f"表格（{value.shape[0]} 行 × {value.shape[1]} 列）"
    if kind.__name__ == "Series":
        return f"数据列（{len(value)} 行）"
    if kind is Opaque:
        return f"（无法作为数据传出的对象：{value.type_name}）"
    return repr(value)
