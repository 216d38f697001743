"""The daily digest (每日舆情汇总) at ``notify.digest_times`` (Asia/Shanghai), run by the clock tick.

A digest time passed less than ``DIGEST_WINDOW`` ago and not yet sent is sent once (keyed by day
and time); one missed for longer (the service was down) is skipped, not sent late, and so is
one before the instance's very first tick (a new database, a replay starting at 09:00).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from yuqing.db.models import KeyValueRow
from yuqing.settings import Settings
from yuqing.timeutil import SHANGHAI, to_shanghai, to_utc

DIGEST_WINDOW = timedelta(hours=1)
FIRST_TICK_KEY = "engine.first_tick"


def _times(settings: Settings) -> list[time]:
    out = []
    for value in settings.notify.digest_times:
        try:
            out.append(time.fromisoformat(value.strip()))
        except ValueError:
            continue  # doctor reports bad settings; the tick must not die on them
    return out


def slots(settings: Settings, now: datetime) -> list[datetime]:
    """Digest moments of yesterday, today and tomorrow (aware UTC)."""
    day = to_shanghai(now).date()
    return sorted(to_utc(datetime.combine(day + timedelta(days=d), t, tzinfo=SHANGHAI))
                  for d in (-1, 0, 1) for t in _times(settings))


def _first_tick(session: Session, now: datetime) -> datetime:
    """When this instance first ran the tick (kv_state): no digest is due for a time before it."""
    row = session.get(KeyValueRow, FIRST_TICK_KEY)
    if row is None:
        session.add(KeyValueRow(key=FIRST_TICK_KEY, value={"at": now.isoformat()}, updated_at=now))
        session.flush()
        return now
    return datetime.fromisoformat(row.value["at"])


def send_due_digests(session: Session, now: datetime, settings: Settings) -> int:
    from alerting.messages import digest_text
    from alerting.outbox import enqueue

    sent = 0
    first = _first_tick(session, now)
    for slot in slots(settings, now):
        if slot <= now < slot + DIGEST_WINDOW and slot >= first:
            local = to_shanghai(slot)
            rows = enqueue(session, kind="digest", incident=None, text=digest_text(session, now, settings), now=now,
                           settings=settings, dedupe_key=f"digest:{local:%Y-%m-%dT%H:%M}")
            sent += bool(rows)
    return sent


def next_digest(settings: Settings, now: datetime) -> datetime | None:
    future = [s for s in slots(settings, now) if s > now]
    return min(future) if future else None
