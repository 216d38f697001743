"""Audit log: every state change a person (or the system) makes, with before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yuqing.db.models import AuditRow
from yuqing.timeutil import to_utc


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditRow:
    """Add one audit entry in the caller's transaction (so it commits with the change itself)."""
    row = AuditRow(at=to_utc(at), actor=actor, action=action, object_type=object_type,
                   object_id=str(object_id), before=_jsonable(before), after=_jsonable(after), detail=detail)
    session.add(row)
    return row


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {}
    for key, val in value.items():
        if isinstance(val, datetime):
            out[key] = to_utc(val).isoformat()
        elif hasattr(val, "value"):  # enums
            out[key] = val.value
        else:
            out[key] = val
    return out
