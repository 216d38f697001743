"""The 12-hour clock and everything that runs on the minute tick for one incident.

* clock start = the earliest ``published_at`` (else first seen) among the incident's posts; an
  older post found later moves it (and the deadline) earlier. deadline = start +
  ``clock.hours_for(severity)``; it stops counting when the first public response is recorded.
* reminders at ``clock.reminders_before_hours`` before the deadline (a threshold that had already
  passed when the incident was detected is skipped; the tightest passed one is sent once per deadline);
* ``breach`` at the deadline — at once when the incident is found already late — escalating to
  the next roster level;
* ``escalation``: an alert not acknowledged within ``roster.ack_timeout_minutes`` goes one level up
  (again after each further timeout, up to the last level);
* automatic 应对 → 善后 and 二次发酵 (善后 or 已关闭 → 应对, ``re_escalation``) from heat;
* a reminder every ``clock.aftermath_quiet_reminder_days`` for a quiet 善后 incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting import roster
from alerting.engine import texts
from alerting.engine.notify import send
from alerting.engine.stages import CLOCK_STAGES, transition
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.settings import Settings

AFTERMATH_HEAT_RATIO = 0.8  # response → aftermath once heat < ratio × peak (after the first response)
SURGE_RATIO = 1.5  # aftermath → response when heat ≥ ratio × lowest aftermath heat + SURGE_MIN
SURGE_MIN = 10.0


def _param(settings: Settings, name: str, default: float) -> float:
    return float(settings.engine.params.get(name, default))


def _features(incident: IncidentRow) -> dict[str, Any]:
    return dict(incident.features or {})


def _set(incident: IncidentRow, **values: Any) -> None:
    features = _features(incident)
    features.update(values)
    incident.features = features


def clock_start(session: Session, incident: IncidentRow) -> datetime | None:
    return session.scalar(
        select(func.min(func.coalesce(PostRow.published_at, PostRow.first_seen_at)))
        .join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
        .where(IncidentPostRow.incident_id == incident.id))


def update_deadline(session: Session, incident: IncidentRow, settings: Settings) -> None:
    start = clock_start(session, incident)
    if start is None:
        return
    from yuqing.timeutil import as_aware_utc

    start = as_aware_utc(start)
    if incident.clock_started_at is None or start < incident.clock_started_at:
        incident.clock_started_at = start
    if incident.first_response_at is None:
        incident.deadline = incident.clock_started_at + timedelta(
            hours=settings.clock.hours_for(incident.severity))


def level(incident: IncidentRow) -> int:
    return int((incident.features or {}).get("escalation_level") or 0)


def _escalate_to(incident: IncidentRow, new_level: int, now: datetime) -> None:
    _set(incident, escalation_level=new_level, escalated_at=now.isoformat())


def check_deadline(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    if incident.stage not in CLOCK_STAGES or incident.first_response_at or incident.deadline is None:
        return
    deadline = incident.deadline
    if now >= deadline:
        new_level = min(level(incident) + 1, roster.max_level(settings.roster))
        written = send(session, kind="breach", incident=incident, now=now, settings=settings,
                       key=deadline.isoformat(), level=new_level,
                       text=texts.breach(incident, now, roster.level_name(settings.roster, new_level),
                                         roster.names(settings.roster,
                                                      roster.recipients(settings.roster, new_level, now))))
        if written and new_level > level(incident):
            _escalate_to(incident, new_level, now)
        return
    passed = [h for h in settings.clock.reminders_before_hours
              if now >= deadline - timedelta(hours=h) >= incident.detected_at]
    if passed:
        hours = min(passed)
        send(session, kind="reminder", incident=incident, now=now, settings=settings,
             key=f"{hours:g}h:{deadline.isoformat()}", subkind=f"clock_{hours:g}h", level=level(incident),
             text=texts.reminder(incident, hours, now))


def check_ack(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    if incident.acknowledged_at is not None or incident.stage not in CLOCK_STAGES:
        return
    current = level(incident)
    if current >= roster.max_level(settings.roster):
        return
    since = datetime.fromisoformat((incident.features or {}).get("escalated_at") or incident.detected_at.isoformat())
    timeout = timedelta(minutes=settings.roster.ack_timeout_minutes)
    if now < since + timeout:
        return
    new_level = current + 1
    cycle = int((incident.features or {}).get("ack_cycle") or 0)
    people = roster.recipients(settings.roster, new_level, now)
    send(session, kind="escalation", incident=incident, now=now, settings=settings,
         key=f"{cycle}:{new_level}", level=new_level,
         text=texts.escalation(incident, settings.roster.ack_timeout_minutes,
                               roster.level_name(settings.roster, new_level), roster.names(settings.roster, people)))
    _escalate_to(incident, new_level, now)


def check_heat_stages(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    features = _features(incident)
    if incident.stage == "response" and incident.first_response_at is not None:
        ratio = _param(settings, "aftermath_heat_ratio", AFTERMATH_HEAT_RATIO)
        if incident.heat < ratio * (incident.peak_heat or 0.0):
            transition(session, incident, "aftermath", actor="system", now=now, settings=settings,
                       reason=f"已首次公开回应，热度由峰值 {incident.peak_heat:.0f} 回落至 {incident.heat:.0f}")
            _set(incident, aftermath_floor=incident.heat, quiet_reminders=0)
        return
    if incident.stage not in ("aftermath", "closed"):  # a closed event that flares up again reopens too
        return
    floor = float(features.get("aftermath_floor") if features.get("aftermath_floor") is not None else incident.heat)
    if incident.heat < floor:
        _set(incident, aftermath_floor=incident.heat)
        return
    if incident.heat >= floor * _param(settings, "surge_ratio", SURGE_RATIO) + _param(settings, "surge_min", SURGE_MIN):
        count = int(features.get("surges") or 0) + 1
        transition(session, incident, "response", actor="system", now=now, settings=settings, notify=False,
                   kind="re_escalation", reason=f"二次发酵：热度由 {floor:.0f} 回升至 {incident.heat:.0f}")
        incident.acknowledged_at = None
        incident.acknowledged_by = None
        _set(incident, surges=count, ack_cycle=int(features.get("ack_cycle") or 0) + 1,
             escalation_level=0, escalated_at=now.isoformat(), aftermath_floor=None)
        send(session, kind="re_escalation", incident=incident, now=now, settings=settings, key=str(count),
             text=texts.re_escalation(incident, floor, now))


def check_quiet(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    if incident.stage != "aftermath":
        return
    days = settings.clock.aftermath_quiet_reminder_days
    last = max(t for t in (incident.last_post_at, incident.stage_entered_at, incident.detected_at) if t)
    periods = int((now - last) / timedelta(days=days))
    if periods >= 1:
        send(session, kind="reminder", incident=incident, now=now, settings=settings,
             key=f"quiet:{last.isoformat()}:{periods}", subkind="aftermath_quiet",
             text=texts.quiet_aftermath(incident, days * periods))


def tick_incident(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    check_deadline(session, incident, now, settings)
    check_ack(session, incident, now, settings)
    check_heat_stages(session, incident, now, settings)
    check_quiet(session, incident, now, settings)


def next_due(incident: IncidentRow, now: datetime, settings: Settings) -> datetime | None:
    """The next moment something scheduled happens to this incident (for replay's stepping)."""
    due: list[datetime] = []
    if incident.stage in CLOCK_STAGES and incident.first_response_at is None and incident.deadline:
        due.append(incident.deadline)
        due += [incident.deadline - timedelta(hours=h) for h in settings.clock.reminders_before_hours]
    if incident.stage in CLOCK_STAGES and incident.acknowledged_at is None:
        since = (incident.features or {}).get("escalated_at")
        start = datetime.fromisoformat(since) if since else incident.detected_at
        due.append(start + timedelta(minutes=settings.roster.ack_timeout_minutes))
    if incident.stage == "aftermath":
        last = max(t for t in (incident.last_post_at, incident.stage_entered_at, incident.detected_at) if t)
        days = timedelta(days=settings.clock.aftermath_quiet_reminder_days)
        periods = int((now - last) / days) + 1
        due.append(last + periods * days)
    future = [d for d in due if d > now]
    return min(future) if future else None
