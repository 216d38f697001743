"""The daily digest (每日舆情汇总) at ``notify.digest_times`` (Asia/Shanghai), run by the clock tick.

A digest time passed less than ``DIGEST_WINDOW`` ago and not yet sent is sent once (keyed by day
and time); one missed for longer (the service was down) is skipped, not sent late, and so is
one before the instance's very first tick (a new database, a replay starting at 09:00).
The digest's text (``digest_text``) is built here too, from the open incidents at send time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.engine.notify import send_digest
from yuqing.db.models import IncidentRow, KeyValueRow, NotificationRow
from yuqing.domain import category_zh, severity_zh, stage_zh
from yuqing.privacy import mask
from yuqing.settings import Settings
from yuqing.timeutil import SHANGHAI, fmt_duration, fmt_local, to_shanghai, to_utc

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
    sent = 0
    first = _first_tick(session, now)
    for slot in slots(settings, now):
        if slot <= now < slot + DIGEST_WINDOW and slot >= first:
            local = to_shanghai(slot)
            sent += bool(send_digest(session, text=digest_text(session, now, settings), now=now,
                                     settings=settings, key=f"{local:%Y-%m-%dT%H:%M}"))
    return sent


def digest_text(session: Session, now: datetime, settings: Settings) -> str:
    """每日舆情汇总: open incidents by stage and severity, clocks, and the last 24 hours."""
    now = to_utc(now)
    since = now - timedelta(hours=24)
    open_rows = list(session.execute(
        select(IncidentRow).where(IncidentRow.stage.in_(("warning", "response", "aftermath")),
                                  IncidentRow.merged_into.is_(None))
        .order_by(IncidentRow.severity.desc(), IncidentRow.deadline.asc(), IncidentRow.id.asc())
    ).scalars())
    new_rows = session.execute(
        select(IncidentRow.id).where(IncidentRow.created_at >= since, IncidentRow.merged_into.is_(None))
    ).scalars().all()
    sent = session.execute(
        select(NotificationRow.id).where(NotificationRow.sent_at >= since, NotificationRow.status == "sent")
    ).scalars().all()
    lines = [f"每日舆情汇总（截至 {fmt_local(now)}）",
             f"近24小时新增事件 {len(new_rows)} 起，发出通知 {len(sent)} 条；当前未结事件 {len(open_rows)} 起。"]
    if open_rows:
        by_stage: dict[str, int] = {}
        for row in open_rows:
            by_stage[stage_zh(row.stage)] = by_stage.get(stage_zh(row.stage), 0) + 1
        lines.append("按阶段：" + "，".join(f"{k} {v} 起" for k, v in by_stage.items()))
        lines.append("")
        for row in open_rows:
            clock = ""
            if row.first_response_at is not None:
                clock = "已首次回应"
            elif row.deadline is not None:
                left = (row.deadline - now).total_seconds()
                clock = f"剩余 {fmt_duration(left)}" if left >= 0 else f"已超时 {fmt_duration(-left)}"
            lines.append(f"- #{row.id} {category_zh(row.category)} {severity_zh(row.severity)} "
                         f"{stage_zh(row.stage)} {mask(row.title or '')} {clock}".rstrip())
    else:
        lines.append("当前无未结舆情事件。")
    return "\n".join(lines)


def next_digest(settings: Settings, now: datetime) -> datetime | None:
    future = [s for s in slots(settings, now) if s > now]
    return min(future) if future else None
