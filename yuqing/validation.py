"""Validate wire-format posts (shared/schema/post.schema.json) with readable Chinese reasons.

Guarantees, for every reader of JSON Lines posts (`yuqing ingest`, `yuqing classify`, the
crawlers' store step):

* one bad line never costs another: :func:`read_jsonl` decodes each line on its own (bytes →
  UTF-8 per line, so an invalid byte names its line), and any malformed content becomes a
  :class:`LineError` with a Chinese reason — never an exception out of the reader;
* values that would crash a later step are refused or cleaned here, once: integers beyond
  64 bits (and the 4,300-digit limit of Python's ``int``), NaN/Infinity, nesting deeper than
  :data:`MAX_DEPTH`, lines longer than :data:`MAX_LINE_BYTES`, dates outside
  :data:`YEAR_MIN`–:data:`YEAR_MAX`, counts that do not fit the database column, strings
  longer than their column; lone surrogates and NUL characters are replaced by U+FFFD
  (the line is kept);
* a UTF-8 byte-order mark and CRLF / CR line ends are accepted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import jsonschema
from pydantic import ValidationError

from yuqing.domain import Post
from yuqing.exits import safe_url

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "post.schema.json"

MAX_DEPTH = 64  # posts are flat; extra fields may nest a little, never a thousand levels
MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_INT_DIGITS = 19  # checked on the digit string, before Python builds the int
INT64_MAX = 2**63 - 1
COUNT_MAX = 2**31 - 1  # the count columns are INTEGER (32-bit on PostgreSQL)
YEAR_MIN, YEAR_MAX = 1900, 2199
COUNT_FIELDS = ("reposts", "comments", "likes", "views", "author_followers")
# Columns of bounded width (yuqing/db/models.py PostRow): longer values are refused, not cut.
MAX_CHARS = {"id": 255, "platform": 32, "author": 255, "author_id": 255, "repost_of": 255}
_BAD_CHARS = re.compile("[\ud800-\udfff\x00]")
_BOM = "\ufeff"


class LineRejected(ValueError):
    """A line (or decoded value) that is not a usable post; the message is the Chinese reason."""


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


# --- decoding one line -------------------------------------------------------------------------

def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise LineRejected(f"整数超出 64 位范围（{len(digits)} 位数字，最多 {MAX_INT_DIGITS} 位）")
    value = int(text)
    if abs(value) > INT64_MAX:
        raise LineRejected(f"整数超出 64 位范围: {text}")
    return value


def _parse_float(text: str) -> float:
    if len(text) > 64:
        raise LineRejected(f"数字过长（{len(text)} 个字符）")
    value = float(text)
    if not math.isfinite(value):
        raise LineRejected(f"数字超出范围: {text}")
    return value


def _parse_constant(name: str) -> Any:
    raise LineRejected(f"不允许 {name}（JSON 不支持 NaN/Infinity）")


def _clean_str(value: str) -> str:
    return _BAD_CHARS.sub("\ufffd", value) if _BAD_CHARS.search(value) else value


def clean_value(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of a decoded JSON value with lone surrogates / NUL replaced (U+FFFD).

    Iterative (no recursion), so any depth is safe; LineRejected beyond ``max_depth`` and for
    non-finite floats or integers beyond 64 bits (values that did not come through
    :func:`loads_line`, e.g. a crawler item).
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        item, parent, key, depth = stack.pop()
        if isinstance(item, dict | list) and depth > max_depth:
            raise LineRejected(f"嵌套层数过深（超过 {max_depth} 层）")
        if isinstance(item, dict):
            out: Any = {}
            for k, v in item.items():
                ck = _clean_str(k) if isinstance(k, str) else str(k)
                out[ck] = None
                stack.append((v, out, ck, depth + 1))
        elif isinstance(item, list | tuple):
            out = [None] * len(item)
            for i, v in enumerate(item):
                stack.append((v, out, i, depth + 1))
        elif isinstance(item, str):
            out = _clean_str(item)
        elif isinstance(item, bool) or item is None:
            out = item
        elif isinstance(item, int):
            if abs(item) > INT64_MAX:
                raise LineRejected(f"整数超出 64 位范围: {str(item)[:30]}…")
            out = item
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise LineRejected(f"数字超出范围: {item}")
            out = item
        else:
            out = item
        parent[key] = out
    return root[0]


def loads_line(line: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Decode one JSON Lines line (bytes or str) into a cleaned value; LineRejected with a reason."""
    if isinstance(line, bytes):
        if len(line) > MAX_LINE_BYTES:
            raise LineRejected(f"行过长（{len(line)} 字节，最多 {MAX_LINE_BYTES} 字节）")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineRejected(f"不是 UTF-8 编码（本行第 {exc.start + 1} 个字节 0x{line[exc.start]:02x}）") from None
    else:
        text = line
        if len(text) > MAX_LINE_BYTES:
            raise LineRejected(f"行过长（{len(text)} 个字符）")
    text = text.strip().lstrip(_BOM).strip()
    try:
        obj = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except LineRejected:
        raise
    except json.JSONDecodeError as exc:
        raise LineRejected(f"JSON 格式错误: {exc.msg}（第 {exc.colno} 列）") from None
    except RecursionError:
        raise LineRejected(f"嵌套层数过深（超过 {max_depth} 层）") from None
    except (ValueError, OverflowError) as exc:
        raise LineRejected(f"JSON 无法解析: {exc}") from None
    return clean_value(obj, max_depth)


# --- one decoded value → Post --------------------------------------------------------------------

def _check_bounds(obj: dict[str, Any]) -> None:
    for name in COUNT_FIELDS:
        value = obj.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > COUNT_MAX:
            raise LineRejected(f"字段 {name} 无效: {value} 超出范围（最大 {COUNT_MAX}）")
    for name, limit in MAX_CHARS.items():
        value = obj.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise LineRejected(f"字段 {name} 过长（{len(value)} 个字符，最多 {limit} 个）")


def _check_date(name: str, value: datetime | None) -> None:
    if value is None:
        return
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise LineRejected(f"字段 {name} 无效: 年份 {value.year} 超出范围（{YEAR_MIN}–{YEAR_MAX}）")
    try:
        value.utcoffset()
        value.timestamp()
    except (OverflowError, ValueError, OSError):
        raise LineRejected(f"字段 {name} 无效: 时间超出范围") from None


def post_from_obj(obj: Any) -> Post:
    """A Post from a decoded JSON value; ValueError (LineRejected) with a Chinese reason naming the field.

    Never raises anything else: a value that did not come through :func:`loads_line` is cleaned
    and bounded here too.
    """
    if not isinstance(obj, dict):
        raise LineRejected(f"应为 JSON 对象，实际是 {_kind(obj)}")
    try:
        obj = clean_value(obj)
        _check_bounds(obj)
        errors = sorted(_validator().iter_errors(obj), key=lambda e: [str(p) for p in e.path])
        if errors:
            err = errors[0]
            field = ".".join(str(p) for p in err.path)
            if err.validator == "required":
                missing = err.message.split("'")[1] if "'" in err.message else err.message
                raise LineRejected(f"缺少必填字段: {missing}")
            raise LineRejected(f"字段 {field or '(对象)'} 无效: {_short(err.message)}")
        try:
            post = Post.model_validate(obj)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise LineRejected(f"字段 {field} 无效: {_short(first['msg'])}") from None
        _check_date("published_at", post.published_at)
        _check_date("fetched_at", post.fetched_at)
        if post.url is not None and safe_url(post.url) is None:
            post.url = None  # only absolute http(s) links are kept (a javascript: link is never stored)
        return post
    except LineRejected:
        raise
    except RecursionError:
        raise LineRejected("嵌套层数过深") from None
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise LineRejected(f"无效的帖子: {_short(str(exc))}") from None


def _kind(obj: Any) -> str:
    return {list: "数组", str: "字符串", int: "整数", float: "数字", bool: "布尔值",
            type(None): "null"}.get(type(obj), type(obj).__name__)


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[:limit] + "…"


# --- JSON Lines --------------------------------------------------------------------------------

@dataclass
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def _physical_lines(stream: IO[str] | IO[bytes] | Iterable[str | bytes]) -> Iterator[str | bytes]:
    """Lines as bytes when the stream has a binary buffer (decoded per line later), else as text.

    A text file object opened by the caller is read through its ``buffer`` (before anything
    was read from it), so an invalid UTF-8 byte rejects its own line only. Line ends: LF, CRLF
    and a lone CR.
    """
    source: Any = getattr(stream, "buffer", None) or stream
    for raw in source:
        if isinstance(raw, bytes):
            body = raw[:-1] if raw.endswith(b"\n") else raw
            body = body[:-1] if body.endswith(b"\r") else body
            yield from body.split(b"\r") if b"\r" in body else (body,)
        else:
            body = raw[:-1] if raw.endswith("\n") else raw
            body = body[:-1] if body.endswith("\r") else body
            yield from body.split("\r") if "\r" in body else (body,)


def read_jsonl(
    stream: IO[str] | IO[bytes] | Iterable[str | bytes],
) -> Iterator[tuple[int, dict[str, Any] | None, Post | LineError | None]]:
    """Yield (line number, cleaned object, Post or LineError) for each line; blank lines yield None.

    Never raises for the content of a line (see the module docstring); the object is the
    cleaned one (lone surrogates replaced), safe to write back as UTF-8.
    """
    for number, line in enumerate(_physical_lines(stream), start=1):
        if isinstance(line, bytes):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip():
                yield number, None, None
                continue
        elif not line.strip().lstrip(_BOM).strip():
            yield number, None, None
            continue
        try:
            obj = loads_line(line)
        except LineRejected as exc:
            yield number, None, LineError(number, str(exc))
            continue
        try:
            yield number, obj, post_from_obj(obj)
        except LineRejected as exc:
            yield number, obj if isinstance(obj, dict) else None, LineError(number, str(exc))
