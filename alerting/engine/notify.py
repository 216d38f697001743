"""The engine's door to the outbox (alerting.outbox, written in the caller's transaction).

Every notification the engine raises goes through here: ``send`` for an incident (its recipients
from the owner unit's roster at ``level``, its channels the owner's, its dedupe key
``kind:incident:key``; a breach or severity >= 3 also goes to the owner's parent unit, 上报, see
alerting.units) and ``send_digest`` for the
daily digest. One other writer enqueues directly: the playbooks' overdue-item messages (kind
``checklist_overdue``, ``playbooks.checklist.overdue_reminders``, run by the engine's tick hook),
at most one per incident and hour and checked against ``sent_this_minute`` too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting import roster, units
from alerting.outbox import enqueue
from yuqing.db.models import IncidentRow, NotificationRow
from yuqing.settings import Settings
from yuqing.timeutil import to_utc


def send(session: Session, *, kind: str, incident: IncidentRow, text: str, now: datetime,
         settings: Settings, key: str, level: int = 0, subkind: str | None = None,
         extra: dict[str, Any] | None = None) -> int:
    """Enqueue one notification (idempotent by ``key``); returns the number of rows written.

    Never two of one ``kind`` for one incident in the same minute: the second is dropped."""
    if sent_this_minute(session, incident.id, kind, now):
        return 0
    payload = dict(extra or {})
    if subkind:
        payload["subkind"] = subkind
    units.assign(incident, settings, session)  # the owner follows the region (unless moved by hand)
    owner = units.owner(settings, incident)
    duty = units.roster_of(settings, owner)
    rows = enqueue(session, kind=kind, incident=incident, text=text, now=now, settings=settings,
                   dedupe_key=f"{kind}:{incident.id}:{key}",
                   recipients=roster.recipients(duty, min(level, roster.max_level(duty)), now),
                   escalation_level=level, extra=payload, unit=owner)
    up = units.report_up_to(settings, owner, kind, int(incident.severity or 0))
    if up is not None:  # 上报: the parent unit gets its own copy, to its roster and channels
        up_duty = units.roster_of(settings, up)
        rows += enqueue(session, kind=kind, incident=incident, text=text, now=now, settings=settings,
                        dedupe_key=f"{kind}:{incident.id}:{key}:up:{up.id}",
                        recipients=roster.recipients(up_duty, 0, now), escalation_level=level,
                        extra={**payload, "reported_up": True, "from_unit": owner.id}, unit=up)
    return len(rows)


def sent_this_minute(session: Session, incident_id: int | None, kind: str, now: datetime) -> bool:
    """Whether a notification of ``kind`` for the incident was already enqueued in ``now``'s minute."""
    start = to_utc(now).replace(second=0, microsecond=0)
    session.flush()
    return session.scalar(select(NotificationRow.id).where(
        NotificationRow.incident_id == incident_id, NotificationRow.kind == kind,
        NotificationRow.created_at >= start, NotificationRow.created_at < start + timedelta(minutes=1))
        .limit(1)) is not None


def send_digest(session: Session, *, text: str, now: datetime, settings: Settings, key: str) -> int:
    """Enqueue the digest (no incident) once per ``key`` (its day and time)."""
    return len(enqueue(session, kind="digest", incident=None, text=text, now=now, settings=settings,
                       dedupe_key=f"digest:{key}"))
