"""The daily digest (每日舆情汇总) at ``notify.digest_times`` (Asia/Shanghai), run by the clock tick.

A digest time passed less than ``DIGEST_WINDOW`` ago and not yet sent is sent once (keyed by day
and time); one missed for longer (the service was down) is skipped, not sent late.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from yuqing.settings import Settings
from yuqing.timeutil import SHANGHAI, to_shanghai, to_utc

DIGEST_WINDOW = timedelta(hours=1)


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


def send_due_digests(session: Session, now: datetime, settings: Settings) -> int:
    from alerting.messages import digest_text
    from alerting.outbox import enqueue

    sent = 0
    for slot in slots(settings, now):
        if slot <= now < slot + DIGEST_WINDOW:
            local = to_shanghai(slot)
            rows = enqueue(session, kind="digest", incident=None, text=digest_text(session, now, settings), now=now,
                           settings=settings, dedupe_key=f"digest:{local:%Y-%m-%dT%H:%M}")
            sent += bool(rows)
    return sent


def next_digest(settings: Settings, now: datetime) -> datetime | None:
    future = [s for s in slots(settings, now) if s > now]
    return min(future) if future else None
