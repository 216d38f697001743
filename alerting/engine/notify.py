"""The engine's one door to the outbox (alerting.outbox, written in the caller's transaction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alerting import roster
from yuqing.db.models import IncidentRow
from yuqing.settings import Settings


def send(session: Session, *, kind: str, incident: IncidentRow, text: str, now: datetime,
         settings: Settings, key: str, level: int = 0, subkind: str | None = None,
         extra: dict[str, Any] | None = None) -> int:
    """Enqueue one notification (idempotent by ``key``); returns the number of rows written."""
    from alerting.outbox import enqueue

    payload = dict(extra or {})
    if subkind:
        payload["subkind"] = subkind
    rows = enqueue(session, kind=kind, incident=incident, text=text, now=now, settings=settings,
                   dedupe_key=f"{kind}:{incident.id}:{key}",
                   recipients=roster.recipients(settings.roster, level, now), escalation_level=level,
                   extra=payload)
    return len(rows)
