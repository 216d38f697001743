"""crawl_runs and source_state: one row per run, and per-source pause/back-off and cursor."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from yuqing.db.models import CrawlRunRow, SourceStateRow
from yuqing.timeutil import as_aware_utc, to_utc

SEEN_IDS_KEPT = 5000


@dataclass
class CrawlSummary:
    """What one run of one source did (written by the spider process, read by the runner)."""

    source: str
    status: str = "ok"  # ok | banned | paused | failed
    finish_reason: str = ""
    fetched: int = 0  # items that came out of the pipeline chain
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> count
    errors: dict[str, int] = field(default_factory=dict)
    ban_reason: str | None = None
    paused_until: str | None = None
    run_id: int | None = None
    stored: bool = False
    returncode: int = 0
    message: str = ""
    elapsed_seconds: float = 0.0
    peak_memory_mb: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlSummary:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def get_state(session: Session, source: str) -> SourceStateRow:
    row = session.get(SourceStateRow, source)
    if row is None:
        row = SourceStateRow(source=source, backoff_level=0, cursor={})
        session.add(row)
        session.flush()
    return row


def paused_until(session: Session, source: str, now: datetime) -> datetime | None:
    row = session.get(SourceStateRow, source)
    until = as_aware_utc(row.paused_until) if row is not None else None
    return until if until is not None and until > to_utc(now) else None


def start_run(session: Session, source: str, now: datetime) -> int:
    run = CrawlRunRow(source=source, started_at=to_utc(now), status="running", fetched=0, new=0, updated=0,
                      dropped={}, stats={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int | None, summary: CrawlSummary, stats: dict[str, Any],
               now: datetime, backoff_minutes: float, backoff_max_minutes: float,
               stored_ids: list[str]) -> None:
    """Close the run row and update the source's state (back-off grows on consecutive bans)."""
    now = to_utc(now)
    if run_id is not None:
        run = session.get(CrawlRunRow, run_id)
        if run is not None:
            run.finished_at = now
            run.status = summary.status
            run.fetched, run.new, run.updated = summary.fetched, summary.new, summary.updated
            run.dropped = dict(summary.dropped)
            run.stats = stats
            run.ban_reason = summary.ban_reason
    if summary.status == "paused":
        return
    state = get_state(session, summary.source)
    state.last_run_at = now
    if summary.status == "banned":
        level = (state.backoff_level or 0) + 1
        minutes = min(backoff_max_minutes, backoff_minutes * 2 ** (level - 1))
        state.backoff_level = level
        state.paused_until = now + timedelta(minutes=minutes)
        state.last_ban_reason = summary.ban_reason
        summary.paused_until = state.paused_until.isoformat()
    elif summary.status == "ok":
        state.backoff_level = 0
        state.paused_until = None
        state.last_ok_at = now
    cursor = dict(state.cursor or {})
    seen = list(dict.fromkeys([*reversed(stored_ids), *cursor.get("seen_ids", [])]))[:SEEN_IDS_KEPT]
    cursor["seen_ids"] = seen
    state.cursor = cursor


def seen_ids(session: Session, source: str) -> set[str]:
    row = session.get(SourceStateRow, source)
    return set((row.cursor or {}).get("seen_ids", [])) if row is not None else set()
