"""Stage changes: history, audit, playbook checklist and the stage_change notification.

warning 预警 → response 应对 (a person, or automatically at severity ≥ clock.auto_response_severity)
→ aftermath 善后 (a person, or automatically once the first public response is recorded and heat
has fallen below ``aftermath_heat_ratio`` × peak) → closed (a person). aftermath → response on a
new surge (二次发酵). Any open stage → dismissed (a false alarm, with a reason).

What a stage brings beyond that (the playbook checklist, its guard and override) comes through
the engine hooks of ``yuqing.hooks``; the engine never imports the area that fills them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alerting.engine import texts
from alerting.engine.notify import send
from yuqing import hooks
from yuqing.audit import record
from yuqing.db.models import IncidentRow, StageHistoryRow
from yuqing.settings import Settings

OPEN_STAGES = ("warning", "response", "aftermath")
CLOCK_STAGES = ("warning", "response")  # the clock runs until the first public response


def instantiate_checklist(session: Session, incident: IncidentRow, stage: str, now: datetime,
                          settings: Settings) -> None:
    for hook in hooks.STAGE_HOOKS:
        hook(session, incident, stage, now, settings)


def open_required(session: Session, incident: IncidentRow) -> list:
    """What still blocks leaving the incident's stage (playbooks registers the blocker)."""
    return [item for blocker in hooks.ADVANCE_BLOCKERS for item in blocker(session, incident)]


def override_checklist(session: Session, incident: IncidentRow, actor: str, now: datetime, reason: str) -> None:
    for hook in hooks.OVERRIDE_HOOKS:
        hook(session, incident, actor, now, reason)


def history(session: Session, incident: IncidentRow, old: str | None, new: str, actor: str,
            now: datetime, reason: str) -> StageHistoryRow:
    row = StageHistoryRow(incident_id=incident.id, from_stage=old, to_stage=new, at=now, actor=actor,
                          reason=reason)
    session.add(row)
    record(session, actor=actor, action="incident.stage", object_type="incident", object_id=incident.id,
           at=now, before={"stage": old}, after={"stage": new}, detail=reason)
    return row


def transition(session: Session, incident: IncidentRow, new: str, *, actor: str, now: datetime,
               reason: str, settings: Settings, notify: bool = True,
               kind: str = "stage_change") -> None:
    """Move ``incident`` to stage ``new`` (no checks here; the callers decide what is allowed)."""
    old = incident.stage
    if old == new:
        return
    incident.stage = new
    incident.stage_entered_at = now
    incident.updated_at = now
    incident.version = (incident.version or 0) + 1
    if new == "response":  # 应对 → 善后 compares heat with the peak since entering 应对
        incident.features = {**(incident.features or {}), "stage_peak_heat": incident.heat or 0.0}
    if new in ("closed", "dismissed"):
        incident.closed_at = now
    elif old in ("closed", "dismissed"):
        incident.closed_at = None
    row = history(session, incident, old, new, actor, now, reason)
    session.flush()
    if new in OPEN_STAGES:
        instantiate_checklist(session, incident, new, now, settings)
    if notify and kind == "stage_change":
        send(session, kind="stage_change", incident=incident, now=now, settings=settings,
             text=texts.stage_change(incident, old, reason, actor), key=str(row.id))
