"""The 12-hour clock and everything that runs on the minute tick for one incident.

* clock start = the earliest ``published_at`` (else first seen) among the incident's posts; an
  older post found later moves it (and the deadline) earlier. deadline = start +
  ``clock.hours_for(severity)``; it stops counting when the first public response is recorded.
* ``reminder``: exactly the configured ``clock.reminders_before_hours`` before the deadline, each at
  most once per incident (a threshold that had already passed when the incident was detected is
  skipped; when several pass at once only the tightest goes out and the others count as done), none
  after the first response or the deadline. Overdue checklist items due for a message fold into a
  reminder about to go out (``on_reminder``: the playbooks register the addendum);
* ``breach`` at the deadline — at once when the incident is found already late — escalating to
  the next roster level;
* ``escalation``: an alert not acknowledged within ``roster.ack_timeout_minutes`` goes one level up
  (again after each further timeout, up to the last level);
* automatic 应对 → 善后 from heat (first response recorded, heat below ``aftermath_heat_ratio`` × the
  peak since entering 应对; after a 二次发酵 not before ``surge_window_hours``);
* 二次发酵 (善后 or 已关闭 → 应对, ``re_escalation``): ≥ ``surge_posts`` (default 8) posts with
  engagement ≥ ``surge_post_engagement`` (default 3000) published within ``surge_window_hours``
  (default 2) since the incident entered 善后;
* a prompt to close every ``clock.aftermath_quiet_reminder_days`` for a quiet 善后 incident (kind
  ``stage_change``, sub-kind ``aftermath_quiet``: ``reminder`` belongs to the clock alone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting import roster, units
from alerting.engine import texts
from alerting.engine.heat import engagement_of
from alerting.engine.notify import send
from alerting.engine.stages import CLOCK_STAGES, transition
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.settings import Settings

AFTERMATH_HEAT_RATIO = 0.8  # response → aftermath once heat < ratio × peak (after the first response)
SURGE_POSTS = 8  # aftermath → response on this many high-engagement posts ...
SURGE_POST_ENGAGEMENT = 3000.0  # ... each with at least this engagement ...
SURGE_WINDOW_HOURS = 2.0  # ... published within this many hours

# (session, incident, now, settings) -> Chinese lines to append to a clock reminder about to go out
ReminderAddendum = Callable[[Session, IncidentRow, datetime, Settings], "str | None"]
REMINDER_ADDENDA: list[ReminderAddendum] = []


def on_reminder(addendum: ReminderAddendum) -> ReminderAddendum:
    """Register what a clock reminder carries besides the clock (idempotent)."""
    if addendum not in REMINDER_ADDENDA:
        REMINDER_ADDENDA.append(addendum)
    return addendum


def _duty(settings: Settings, incident: IncidentRow) -> Any:
    """The roster of the incident's current owner unit (alerting.units): reminders follow the owner."""
    return units.roster_of(settings, units.owner(settings, incident))


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


def update_deadline(session: Session, incident: IncidentRow, settings: Settings, *,
                    posts: list[PostRow] | None = None) -> None:
    """``posts``: the incident's posts when the caller read them already (else the start is queried)."""
    start = clock_start(session, incident) if posts is None else min(
        (p.published_at or p.first_seen_at for p in posts if (p.published_at or p.first_seen_at)), default=None)
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
        duty = _duty(settings, incident)
        new_level = min(level(incident) + 1, roster.max_level(duty))
        written = send(session, kind="breach", incident=incident, now=now, settings=settings,
                       key=deadline.isoformat(), level=new_level,
                       text=texts.breach(incident, now, roster.level_name(duty, new_level),
                                         roster.names(duty, roster.recipients(duty, new_level, now))))
        if written and new_level > level(incident):
            _escalate_to(incident, new_level, now)
        return
    done = {float(h) for h in (incident.features or {}).get("reminders_done") or []}
    passed = [float(h) for h in settings.clock.reminders_before_hours
              if now >= deadline - timedelta(hours=h) >= incident.detected_at]
    if not passed or min(passed) in done:
        return
    hours = min(passed)
    extra = [a for a in (fn(session, incident, now, settings) for fn in REMINDER_ADDENDA) if a]
    send(session, kind="reminder", incident=incident, now=now, settings=settings,
         key=f"{hours:g}h", subkind=f"clock_{hours:g}h", level=level(incident),
         text=texts.reminder(incident, hours, now) + "".join(f"\n{a}" for a in extra))
    _set(incident, reminders_done=sorted(done | set(passed)))


def next_reminder_at(incident: IncidentRow, now: datetime, settings: Settings) -> datetime | None:
    """When the next clock reminder goes out (None: no more, responded, or the clock stopped)."""
    if incident.stage not in CLOCK_STAGES or incident.first_response_at or incident.deadline is None:
        return None
    done = {float(h) for h in (incident.features or {}).get("reminders_done") or []}
    times = [incident.deadline - timedelta(hours=h) for h in settings.clock.reminders_before_hours
             if float(h) not in done]
    future = [t for t in times if t >= now and t >= incident.detected_at and t < incident.deadline]
    return min(future) if future else None


def check_ack(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    if incident.acknowledged_at is not None or incident.stage not in CLOCK_STAGES:
        return
    current = level(incident)
    duty = _duty(settings, incident)
    if current >= roster.max_level(duty):
        return
    since = datetime.fromisoformat((incident.features or {}).get("escalated_at") or incident.detected_at.isoformat())
    timeout = timedelta(minutes=duty.ack_timeout_minutes)
    if now < since + timeout:
        return
    new_level = current + 1
    cycle = int((incident.features or {}).get("ack_cycle") or 0)
    people = roster.recipients(duty, new_level, now)
    send(session, kind="escalation", incident=incident, now=now, settings=settings,
         key=f"{cycle}:{new_level}", level=new_level,
         text=texts.escalation(incident, duty.ack_timeout_minutes,
                               roster.level_name(duty, new_level), roster.names(duty, people)))
    _escalate_to(incident, new_level, now)


def surge_posts(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> int:
    """High-engagement posts of the incident published in the surge window since it entered 善后."""
    window = timedelta(hours=_param(settings, "surge_window_hours", SURGE_WINDOW_HOURS))
    since = max(t for t in (now - window, incident.stage_entered_at) if t is not None)
    floor = _param(settings, "surge_post_engagement", SURGE_POST_ENGAGEMENT)
    published = func.coalesce(PostRow.published_at, PostRow.first_seen_at)
    rows = session.execute(
        select(PostRow.reposts, PostRow.comments, PostRow.likes, PostRow.views)
        .join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
        .where(IncidentPostRow.incident_id == incident.id, published > since, published <= now))
    return sum(1 for r in rows if engagement_of(*r) >= floor)


def check_heat_stages(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    features = _features(incident)
    if incident.stage == "response":
        peak = max(float(features.get("stage_peak_heat") or 0.0), incident.heat)
        if peak != features.get("stage_peak_heat"):
            _set(incident, stage_peak_heat=peak)
        if incident.first_response_at is None:
            return
        window = timedelta(hours=_param(settings, "surge_window_hours", SURGE_WINDOW_HOURS))
        if features.get("surges") and now - incident.stage_entered_at < window:
            return  # a 二次发酵 is not over before its window is
        ratio = _param(settings, "aftermath_heat_ratio", AFTERMATH_HEAT_RATIO)
        if incident.heat < ratio * peak:
            transition(session, incident, "aftermath", actor="system", now=now, settings=settings,
                       reason=f"已首次公开回应，热度由峰值 {peak:.0f} 回落至 {incident.heat:.0f}")
            _set(incident, quiet_reminders=0)
        return
    if incident.stage not in ("aftermath", "closed"):  # a closed event that flares up again reopens too
        return
    posts = surge_posts(session, incident, now, settings)
    if posts < _param(settings, "surge_posts", SURGE_POSTS):
        return
    count = int(features.get("surges") or 0) + 1
    hours = _param(settings, "surge_window_hours", SURGE_WINDOW_HOURS)
    transition(session, incident, "response", actor="system", now=now, settings=settings, notify=False,
               kind="re_escalation", reason=f"二次发酵：{hours:g} 小时内 {posts} 条高互动帖")
    incident.acknowledged_at = None
    incident.acknowledged_by = None
    _set(incident, surges=count, ack_cycle=int(features.get("ack_cycle") or 0) + 1,
         escalation_level=0, escalated_at=now.isoformat(), stage_peak_heat=incident.heat)
    send(session, kind="re_escalation", incident=incident, now=now, settings=settings, key=str(count),
         text=texts.re_escalation(incident, posts, hours, now))


def check_quiet(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> None:
    if incident.stage != "aftermath":
        return
    days = settings.clock.aftermath_quiet_reminder_days
    last = max(t for t in (incident.last_post_at, incident.stage_entered_at, incident.detected_at) if t)
    periods = int((now - last) / timedelta(days=days))
    if periods >= 1:
        send(session, kind="stage_change", incident=incident, now=now, settings=settings,
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
        due.append(start + timedelta(minutes=_duty(settings, incident).ack_timeout_minutes))
    if incident.stage == "aftermath":
        last = max(t for t in (incident.last_post_at, incident.stage_entered_at, incident.detected_at) if t)
        days = timedelta(days=settings.clock.aftermath_quiet_reminder_days)
        periods = int((now - last) / days) + 1
        due.append(last + periods * days)
    future = [d for d in due if d > now]
    return min(future) if future else None
