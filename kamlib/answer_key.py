"""Answer keys kept out of plain sight in the learner's notebooks.

A lesson quiz's key and a self-study exercise's checks travel inside the notebook as one
opaque string made by :func:`encode` (JSON, compressed, mixed with a fixed salt, then
base64). It is not encryption — a determined learner can decode it — but no answer,
explanation or hidden test can be read off a cell or found by searching the notebook.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

__all__ = ["encode", "decode", "AnswerKeyError"]

_PREFIX = "kam1:"
_SALT = hashlib.sha256("重点客户管理·自学答案".encode()).digest()


class AnswerKeyError(ValueError):
    """The string is not an answer key made by :func:`encode` (e.g. edited by hand)."""


def _mix(data: bytes) -> bytes:
    pad = (_SALT * (len(data) // len(_SALT) + 1))[: len(data)]
    return bytes(a ^ b for a, b in zip(data, pad))


def encode(value: Any) -> str:
    """``value`` (plain JSON data) as an opaque one-line string."""
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return _PREFIX + base64.urlsafe_b64encode(_mix(zlib.compress(raw, 9))).decode("ascii")


def decode(key: str) -> Any:
    """The value :func:`encode` turned into ``key``; :class:`AnswerKeyError` for anything else."""
    if not isinstance(key, str) or not key.startswith(_PREFIX):
        raise AnswerKeyError("答案密钥无效：它不是由 kamlib 生成的（请不要修改检查单元格）。")
    try:
        return json.loads(zlib.decompress(_mix(base64.urlsafe_b64decode(key[len(_PREFIX) :]))))
    except (ValueError, zlib.error) as exc:
        raise AnswerKeyError("答案密钥已损坏（请不要修改检查单元格；可删除该笔记本后重新生成自学版）。") from exc
