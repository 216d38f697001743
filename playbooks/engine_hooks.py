"""What the playbooks add to the incident engine, through the hooks of ``yuqing.hooks``.

On entering a stage the incident gets that stage's checklist; the stage's open required items
block ``advance`` until done, skipped or overridden; an override records its reason on every
open item; every engine tick sends the overdue-item messages (``checklist_overdue``, at most one
per incident and hour), and a clock reminder about to go out carries the overdue items instead
(registered with ``alerting.engine.clock.on_reminder``, the engine's own extension point, since
``yuqing.hooks`` has no reminder hook). ``register()`` is idempotent and is called by the
composition (app/wiring.py), never by the engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from playbooks import checklist
from yuqing import hooks
from yuqing.db.models import ChecklistItemRow, IncidentRow


def _blocking(session: Session, incident: IncidentRow) -> list[ChecklistItemRow]:
    return checklist.open_required(session, incident.id, incident.stage)


def _override(session: Session, incident: IncidentRow, actor: str, now: datetime, reason: str) -> None:
    checklist.override(session, incident.id, incident.stage, actor, now, reason)


def register() -> None:
    from alerting.engine import clock

    hooks.on_stage_entered(checklist.instantiate)
    hooks.advance_blocker(_blocking)
    hooks.on_override(_override)
    hooks.on_tick(checklist.overdue_reminders)
    clock.on_reminder(checklist.fold_into_reminder)
