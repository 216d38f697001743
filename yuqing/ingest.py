"""`yuqing ingest`: JSON Lines → database, in batches, bad lines reported and skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import StoreResult, store_posts
from yuqing.validation import LineError, read_jsonl

BATCH = 500


@dataclass
class IngestReport:
    result: StoreResult = field(default_factory=StoreResult)
    errors: list[LineError] = field(default_factory=list)
    blank: int = 0


def ingest_stream(rt: Runtime, stream: IO[str], source: str = "ingest", name: str = "") -> IngestReport:
    report = IngestReport()
    batch: list[Post] = []

    def flush() -> None:
        if batch:
            with rt.session() as session:
                report.result += store_posts(session, batch, rt.clock.now(), source=source)
            batch.clear()

    for _number, _obj, item in read_jsonl(stream):
        if item is None:
            report.blank += 1
        elif isinstance(item, LineError):
            report.errors.append(item)
        else:
            batch.append(item)
            if len(batch) >= BATCH:
                flush()
    flush()
    return report
