"""The engine's door to the outbox (alerting.outbox, written in the caller's transaction).

Every notification the engine raises goes through here: ``send`` for an incident (its recipients
from the roster at ``level``, its dedupe key ``kind:incident:key``) and ``send_digest`` for the
daily digest. One other writer enqueues directly: the playbooks' overdue-item reminders
(``playbooks.checklist.overdue_reminders``, run by the engine's tick hook), because their
dedupe key names the checklist items, not a stage of the engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alerting import roster
from alerting.outbox import enqueue
from yuqing.db.models import IncidentRow
from yuqing.settings import Settings


def send(session: Session, *, kind: str, incident: IncidentRow, text: str, now: datetime,
         settings: Settings, key: str, level: int = 0, subkind: str | None = None,
         extra: dict[str, Any] | None = None) -> int:
    """Enqueue one notification (idempotent by ``key``); returns the number of rows written."""
    payload = dict(extra or {})
    if subkind:
        payload["subkind"] = subkind
    rows = enqueue(session, kind=kind, incident=incident, text=text, now=now, settings=settings,
                   dedupe_key=f"{kind}:{incident.id}:{key}",
                   recipients=roster.recipients(settings.roster, level, now), escalation_level=level,
                   extra=payload)
    return len(rows)


def send_digest(session: Session, *, text: str, now: datetime, settings: Settings, key: str) -> int:
    """Enqueue the digest (no incident) once per ``key`` (its day and time)."""
    return len(enqueue(session, kind="digest", incident=None, text=text, now=now, settings=settings,
                       dedupe_key=f"digest:{key}"))
