"""`yuqing ingest`: JSON Lines → database, in batches, bad lines reported and skipped.

One bad line never costs another: malformed lines become :class:`LineError` (see
:mod:`yuqing.validation`), and a batch the database refuses is retried one post at a time, so
only the post that cannot be stored is reported (with its line number); the others are stored.
A database that cannot be used at all (down, locked) is fatal: the error is raised, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError

from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import StoreResult, store_posts
from yuqing.validation import LineError, read_jsonl

BATCH = 500
log = logging.getLogger(__name__)
# What a refused insert can raise (driver errors are wrapped by SQLAlchemy; bad values may not be).
_STORE_ERRORS = (SQLAlchemyError, ValueError, TypeError, OverflowError, UnicodeError)
# The database itself is unusable (down, locked, wrong credentials): fatal, not one line's fault.
_FATAL = (OperationalError, InterfaceError, DisconnectionError)


@dataclass
class IngestReport:
    result: StoreResult = field(default_factory=StoreResult)
    errors: list[LineError] = field(default_factory=list)
    blank: int = 0


def ingest_stream(rt: Runtime, stream: IO[str] | IO[bytes], source: str = "ingest", name: str = "") -> IngestReport:
    """Store every valid line of ``stream``; errors (line order) in the report, never raised per line.

    A text stream with a binary ``buffer`` (an opened file, stdin) is read through the buffer,
    so an invalid UTF-8 byte rejects only its line.
    """
    report = IngestReport()
    batch: list[tuple[int, Post]] = []

    def store(items: list[tuple[int, Post]]) -> None:
        with rt.session() as session:
            report.result += store_posts(session, [p for _, p in items], rt.clock.now(), source=source)

    def flush() -> None:
        if not batch:
            return
        try:
            store(batch)
        except _FATAL:
            raise
        except _STORE_ERRORS as exc:
            log.warning("批量写入失败（%d 条），逐条重试: %s", len(batch), exc)
            for number, post in batch:
                try:
                    store([(number, post)])
                except _FATAL:
                    raise
                except _STORE_ERRORS as one:
                    report.errors.append(LineError(number, f"数据库拒绝写入: {_first_line(one)}"))
        batch.clear()

    for number, _obj, item in read_jsonl(stream):
        if item is None:
            report.blank += 1
        elif isinstance(item, LineError):
            report.errors.append(item)
        else:
            batch.append((number, item))
            if len(batch) >= BATCH:
                flush()
    flush()
    report.errors.sort(key=lambda e: e.line)
    return report


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
