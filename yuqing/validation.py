"""Validate wire-format posts (shared/schema/post.schema.json) with readable Chinese reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import jsonschema
from pydantic import ValidationError

from yuqing.domain import Post

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "post.schema.json"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def post_from_obj(obj: Any) -> Post:
    """A Post from a decoded JSON value; ValueError with a Chinese reason naming the field."""
    if not isinstance(obj, dict):
        raise ValueError(f"应为 JSON 对象，实际是 {type(obj).__name__}")
    errors = sorted(_validator().iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        field = ".".join(str(p) for p in err.path)
        if err.validator == "required":
            return _raise(f"缺少必填字段: {err.message.split(chr(39))[1] if chr(39) in err.message else err.message}")
        return _raise(f"字段 {field or '(对象)'} 无效: {err.message}")
    try:
        return Post.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"字段 {field} 无效: {first['msg']}") from None


def _raise(message: str) -> Post:
    raise ValueError(message)


@dataclass
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def read_jsonl(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | None, Post | LineError | None]]:
    """Yield (line number, raw object, Post or LineError) for each line; blank lines yield None."""
    for number, raw_line in enumerate(stream, start=1):
        line = raw_line.strip()
        if not line:
            yield number, None, None
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, LineError(number, f"JSON 格式错误: {exc.msg}（第 {exc.colno} 列）")
            continue
        try:
            yield number, obj, post_from_obj(obj)
        except ValueError as exc:
            yield number, obj if isinstance(obj, dict) else None, LineError(number, str(exc))
