"""Visible checks of the exercises: is an answer written the right way?

``check_*`` functions look at the *form* of an exercise answer - its type, its range,
whether the placeholder is still there - print one Chinese message that names the
variable, and return ``True``/``False``. They never know, and so can never reveal, the
right answer: the answer keys of graded exercises stay in the hidden tests. Type checks
use ``type(x) is ...`` so that look-alike objects (a ``str`` subclass, an object whose
``__eq__`` always says yes) do not pass. Importing this module in a notebook also turns
the common slips of a first-time Python user into Chinese explanations
(:mod:`kamlib.slips`). The lessons' quiz widgets are in :mod:`kamlib.quizzes`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from kamlib import slips
from kamlib.roles import DUTIES
from kamlib.tiers import INDICATORS, Tier

__all__ = [
    "check_choice",
    "check_tier",
    "check_number",
    "check_duty_ids",
    "check_indicator_scores",
    "check_dataframe",
]

# Texts a learner may leave in an answer cell instead of an answer.
PLACEHOLDER_TEXTS = frozenset(
    {"", "在此填写", "请填写", "待填写", "填写答案", "你的答案", "答案", "...", "…", "?", "？", "todo"}
)

# numpy's own scalar types count as numbers (pandas returns them from .sum(), .max() ...);
# a learner-made subclass of them does not.
_NUMPY_INTS = frozenset(t for t in set(np.sctypeDict.values()) if issubclass(t, np.integer))
_NUMPY_FLOATS = frozenset(t for t in set(np.sctypeDict.values()) if issubclass(t, np.floating))

_TYPE_NAMES_ZH = {
    str: "文字（str）",
    int: "整数（int）",
    float: "小数（float）",
    bool: "布尔值（bool）",
    list: "列表（list）",
    tuple: "元组（tuple）",
    set: "集合（set）",
    dict: "字典（dict）",
    type(None): "空值（None）",
    pd.DataFrame: "表格（DataFrame）",
    pd.Series: "一列数据（Series）",
}

_OK_TAIL = "答案是否正确，提交评分后才知道。"
_tail: ContextVar[str] = ContextVar("kam_ok_tail", default=_OK_TAIL)


@contextmanager
def self_study_messages() -> Iterator[None]:
    """Within this block a passing check does not say that only grading tells right from wrong
    (the self-study build's check goes on to say it, see :mod:`kamlib.selfstudy`)."""
    token = _tail.set("")
    try:
        yield
    finally:
        _tail.reset(token)


# ---------------------------------------------------------------- helpers


def _type_zh(value: object) -> str:
    kind = type(value)
    return _TYPE_NAMES_ZH.get(kind, f"类型为 {kind.__name__} 的对象")


def _show(value: object, limit: int = 60) -> str:
    """A short, safe rendering of a learner's value as Python would write it (never raises)."""
    if type(value) is str:
        text = f'"{value}"' if '"' not in value and "\\" not in value else repr(value)
    elif type(value) in _NUMPY_INTS or type(value) in _NUMPY_FLOATS:
        text = repr(value.item())
    else:
        try:
            text = repr(value)
        except Exception:  # a learner's object may have a broken __repr__
            return f"<{type(value).__name__} 对象>"
        if type(text) is not str:
            return f"<{type(value).__name__} 对象>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quoted(options: Iterable[object]) -> str:
    return "、".join(_show(o) for o in options)


def _is_placeholder(value: object) -> bool:
    if value is None or value is Ellipsis or value is pd.NA:
        return True
    if type(value) is str:
        return value.strip().lower() in PLACEHOLDER_TEXTS
    if type(value) in (list, tuple, set, dict):
        return len(value) == 0
    return False


def _normalize(text: str) -> str:
    """Full-width to half-width, no surrounding blanks or quotes."""
    return unicodedata.normalize("NFKC", text).strip().strip("\"'\u201c\u201d\u2018\u2019").strip()


def _report(ok: bool, message: str) -> bool:
    print(("✔ " if ok else "✘ ") + message)
    return ok


def _is_int(value: object) -> bool:
    return type(value) is int or type(value) in _NUMPY_INTS


def _is_float(value: object) -> bool:
    return type(value) is float or type(value) in _NUMPY_FLOATS


# ---------------------------------------------------------------- exercise checks


def check_choice(value: object, allowed: Iterable[str], name: str) -> bool:
    """Is ``value`` one of the ``allowed`` options (e.g. "A".."D")? Prints a hint."""
    allowed = list(allowed)
    if not allowed:
        raise ValueError("check_choice 需要至少一个允许的选项（allowed 为空）。")
    options = _quoted(allowed)
    if _is_placeholder(value):
        return _report(False, f"{name} 还没有填写（现在是 {_show(value)}）。请把它改成 {options} 中的一个。")
    for option in allowed:
        if type(value) is type(option) and value == option:
            return _report(True, f"{name} = {_show(value)}，是允许的选项之一。{_tail.get()}")
    if type(value) is str:
        fixed = _normalize(value).upper()
        for option in allowed:
            if type(option) is str and option.upper() == fixed:
                return _report(
                    False,
                    f"{name} 写成了 {_show(value)}；请写成 {_show(option)}（注意大小写、空格和全角字符）。",
                )
        return _report(False, f"{name} 是 {_show(value)}，不在允许的选项 {options} 之中。")
    if type(value) in (list, tuple, set):
        return _report(False, f"{name} 是{_type_zh(value)}，但这里只能选一个选项：请从 {options} 中选一个。")
    return _report(
        False,
        f"{name} 应当是 {options} 中的一个（用英文引号括起来的文字），现在是{_type_zh(value)}：{_show(value)}。",
    )


_TIER_WORDS: dict[str, Tier] = {}
for _tier in Tier:
    for _word in (_tier.name, _tier.label_zh, _tier.label_en, "Tier." + _tier.name):
        _TIER_WORDS[_normalize(_word).upper()] = _tier
_TIER_WORDS["合伙关系"] = Tier.PARTNERSHIP


def _tier_code(tier: Tier) -> str:
    return f"Tier.{tier.name}（{tier.label_zh}）"


def check_tier(value: object, name: str = "你的答案") -> bool:
    """Is ``value`` a :class:`kamlib.tiers.Tier` member? Prints how to write one if not."""
    all_tiers = "、".join(_tier_code(t) for t in Tier)
    if type(value) is Tier:
        return _report(True, f"{name} 是 {_tier_code(value)}，写法正确。{_tail.get()}")
    if _is_placeholder(value):
        return _report(
            False,
            f"{name} 还没有填写（现在是 {_show(value)}）。请写成 Tier 的一个层级：{all_tiers}。",
        )
    import_hint = "（需要先运行 from kamlib.tiers import Tier）"
    meant: Tier | None = None
    if type(value) is str:
        meant = _TIER_WORDS.get(_normalize(value).upper())
        written = f"文字 {_show(value)}"
    elif _is_int(value) or (_is_float(value) and float(value).is_integer()):
        meant = Tier(int(value)) if 1 <= value <= 4 else None
        written = f"数字 {_show(value)}"
    if meant is not None:
        return _report(
            False,
            f"{name} 写成了{written}。请不要用文字或数字，改写成 Tier.{meant.name}（不加引号）。"
            "如果提示 NameError，需要先运行 from kamlib.tiers import Tier。",
        )
    if type(value).__name__ == "Tier":
        return _report(
            False,
            f"{name} 的类型来自 {type(value).__module__}，不是 kamlib 的 Tier{import_hint}，"
            "请用 kamlib.tiers 里的 Tier 重新写。",
        )
    return _report(
        False,
        f"{name} 是{_type_zh(value)}：{_show(value)}，不是一个关系层级。请写成以下之一{import_hint}：{all_tiers}。",
    )


def check_number(value: object, name: str, low: float | None = None, high: float | None = None) -> bool:
    """Is ``value`` a finite number (int or float), within ``[low, high]`` when given?"""
    bounds = ""
    if low is not None and high is not None:
        bounds = f"，应在 {low} 到 {high} 之间"
    elif low is not None:
        bounds = f"，应不小于 {low}"
    elif high is not None:
        bounds = f"，应不大于 {high}"
    if _is_placeholder(value):
        return _report(False, f"{name} 还没有填写（现在是 {_show(value)}）。请填一个数字{bounds}。")
    if type(value) is bool:
        return _report(False, f"{name} 是布尔值 {value}，不是数字。请填一个数字{bounds}。")
    if type(value) is str:
        try:
            number = float(_normalize(value).replace(",", ""))
        except ValueError:
            return _report(False, f"{name} 是文字 {_show(value)}，不是数字。请填一个数字{bounds}。")
        return _report(False, f"{name} 写成了文字 {_show(value)}：请去掉引号，直接写成数字 {number:g}。")
    if type(value) in (pd.Series, pd.DataFrame):
        return _report(
            False,
            f"{name} 是{_type_zh(value)}，不是单个数字。请从中取出一个数（例如用 .iloc[0] 或汇总函数）。",
        )
    if not (_is_int(value) or _is_float(value)):
        return _report(False, f"{name} 应当是一个数字，现在是{_type_zh(value)}：{_show(value)}。")
    if not math.isfinite(value):
        return _report(False, f"{name} = {_show(value)}，不是有效的数字（空值或无穷大）。请检查计算过程。")
    if (low is not None and value < low) or (high is not None and value > high):
        return _report(False, f"{name} = {_show(value)}{bounds}。请检查计算过程和单位。")
    return _report(True, f"{name} = {_show(value)}，是有效的数字{bounds.replace('应', '')}。{_tail.get()}")


def check_duty_ids(value: object, name: str = "你的答案", count: int | None = None) -> bool:
    """Is ``value`` a list of distinct duty ids of :data:`kamlib.roles.DUTIES`?

    ``count``: how many ids the exercise asks for, when it says so.
    """
    known = {duty.id for duty in DUTIES}
    upper = {i.upper(): i for i in known}
    how = '请写成职责编号的列表，例如 ["编号1", "编号2"]；编号见 kamlib.roles.duties() 的 id 列'
    if _is_placeholder(value):
        return _report(False, f"{name} 还没有填写（现在是 {_show(value)}）。{how}。")
    if type(value) is str:
        single = upper.get(_normalize(value).upper())
        if single is not None:
            return _report(False, f'{name} 是一个文字，不是列表：即使只有一个编号，也要写成 ["{single}"]。')
        return _report(False, f"{name} 是文字 {_show(value)}，不是列表。{how}。")
    if type(value) is not list:
        return _report(False, f"{name} 应当是列表（用方括号 [ ]），现在是{_type_zh(value)}。{how}。")
    problems: list[str] = []
    seen: set[str] = set()
    for position, item in enumerate(value, start=1):
        if type(item) is not str:
            problems.append(f"第 {position} 项 {_show(item)} 不是文字，编号要用英文引号括起来")
            continue
        if item in known:
            if item in seen:
                problems.append(f"编号 {_show(item)} 重复了")
            seen.add(item)
            continue
        fixed = upper.get(_normalize(item).upper().replace("—", "-").replace("_", "-"))
        if fixed is not None:
            problems.append(f"第 {position} 项 {_show(item)} 应写成 {_show(fixed)}")
        else:
            problems.append(f"第 {position} 项 {_show(item)} 不是已知的职责编号")
    if count is not None and len(value) != count:
        problems.append(f"题目要求 {count} 个编号，现在有 {len(value)} 个")
    if problems:
        return _report(False, f"{name} 有问题：" + "；".join(problems) + "。编号见 kamlib.roles.duties() 的 id 列。")
    return _report(True, f"{name} 是 {len(value)} 个有效的职责编号。{_tail.get()}")


def check_indicator_scores(value: object, name: str = "你的答案", allow_unknown: bool = False) -> bool:
    """Is ``value`` a dict giving each of the six indicators a level 1-4?

    ``allow_unknown``: ``None`` counts as an allowed "unknown" level.
    """
    keys = list(INDICATORS)
    listing = "、".join(f'"{k}"（{INDICATORS[k].label_zh}）' for k in keys)
    how = f'请写成字典，例如 {{"{keys[0]}": 2, ...}}，六个键为：{listing}，每个值为 1～4 的整数'
    if _is_placeholder(value):
        return _report(False, f"{name} 还没有填写（现在是 {_show(value)}）。{how}。")
    if type(value) is not dict:
        return _report(False, f"{name} 应当是字典（dict），现在是{_type_zh(value)}。{how}。")
    by_label = {_normalize(INDICATORS[k].label_zh): k for k in keys}
    problems: list[str] = []
    for key, level in value.items():
        if type(key) is not str or key not in INDICATORS:
            suggestion = by_label.get(_normalize(key)) if type(key) is str else None
            if suggestion is None and type(key) is str:
                suggestion = {k.upper(): k for k in keys}.get(_normalize(key).upper())
            tail = f'，应写成 "{suggestion}"' if suggestion else ""
            problems.append(f"键 {_show(key)} 不是指标名{tail}")
            continue
        if level is None and allow_unknown:
            continue
        if not _is_int(level) or not 1 <= level <= 4:
            problems.append(f'"{key}" 的值 {_show(level)} 不是 1～4 的整数')
    missing = [k for k in keys if k not in value]
    if missing:
        problems.append("缺少指标 " + "、".join(f'"{k}"（{INDICATORS[k].label_zh}）' for k in missing))
    if problems:
        return _report(False, f"{name} 有问题：" + "；".join(problems) + "。")
    return _report(True, f"{name} 给出了六个指标的层级，格式正确。{_tail.get()}")


def check_dataframe(value: object, name: str, columns: Iterable[str] = (), min_rows: int = 1) -> bool:
    """Is ``value`` a DataFrame with the named ``columns`` and at least ``min_rows`` rows?"""
    columns = list(columns)
    if _is_placeholder(value):
        return _report(False, f"{name} 还没有填写（现在是 {_show(value)}）。它应当是一个表格（DataFrame）。")
    if type(value) is pd.Series:
        return _report(
            False,
            f"{name} 是一列数据（Series），不是表格（DataFrame）。可用 .to_frame() 或用双方括号 df[[列名]] 取出表格。",
        )
    if type(value) is not pd.DataFrame:
        return _report(False, f"{name} 应当是表格（DataFrame），现在是{_type_zh(value)}。")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        present = "、".join(_show(c) for c in list(value.columns)[:12])
        return _report(False, f"{name} 缺少列 {_quoted(missing)}（现有的列：{present or '无'}）。")
    if len(value) < min_rows:
        return _report(False, f"{name} 只有 {len(value)} 行，至少应有 {min_rows} 行。请检查筛选条件。")
    return _report(True, f"{name} 是一个 {len(value)} 行 × {value.shape[1]} 列的表格，包含所需的列。{_tail.get()}")


slips.install()
