"""Transactional outbox: notification rows written in the caller's transaction.

:func:`enqueue` never talks to the network. It writes one ``notifications`` row per enabled
channel that accepts the notification (``min_severity`` / ``kinds``), in the same transaction
as the change that causes it, so a rolled-back change never alerts and a committed change
always does. :mod:`alerting.sender` delivers the rows later.

Policies applied here, at write time, so they are deterministic and visible in the table:

* dedupe: ``dedupe_key + ':' + channel`` is unique; enqueueing the same key twice returns ``[]``.
* repeat suppression: a notification of the same incident, kind (and checklist sub-kind),
  escalation level and channel written within ``notify.repeat_suppression_minutes`` whose
  severity was not lower is stored with status ``suppressed`` (kept for audit, never sent).
* quiet hours: below severity 3 the row's ``not_before`` moves to the end of the quiet window
  (delayed, never dropped); severity >= 3 is never held back.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuqing.db.models import IncidentPostRow, IncidentRow, NotificationRow, PostRow
from yuqing.exits import safe_url
from yuqing.privacy import mask, mask_then_cut
from yuqing.settings import ChannelSettings, Settings
from yuqing.timeutil import SHANGHAI, iso_shanghai, to_shanghai, to_utc

KINDS: tuple[str, ...] = (
    "new_incident", "severity_up", "stage_change", "reminder", "breach",
    "escalation", "re_escalation", "digest", "checklist_overdue",
)
# kinds that are never held back or suppressed as repeats (each is a distinct, dated event)
UNSUPPRESSED_KINDS = frozenset({"digest", "stage_change"})  # each is a distinct event, never a repeat
NEVER_HELD_SEVERITY = 3
TOP_POSTS = 3


def channel_accepts(channel: ChannelSettings, kind: str, severity: int) -> bool:
    """Whether ``channel`` takes a notification of ``kind`` at ``severity`` (digests ignore severity)."""
    if not channel.enabled:
        return False
    if channel.kinds and kind not in channel.kinds:
        return False
    return kind == "digest" or severity >= channel.min_severity


def parse_quiet_hours(spec: str | None) -> tuple[time, time] | None:
    """'22:00-07:00' -> (22:00, 07:00); None/empty -> None. Raises ValueError with a Chinese message."""
    if not spec:
        return None
    try:
        start_s, end_s = (part.strip() for part in spec.split("-"))
        start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    except ValueError:
        raise ValueError(f"notify.quiet_hours 格式应为 HH:MM-HH:MM，得到 {spec!r}") from None
    return start, end


def quiet_until(now: datetime, spec: str | None) -> datetime | None:
    """The end of the quiet window containing ``now`` (aware UTC), or None outside quiet hours."""
    window = parse_quiet_hours(spec)
    if window is None:
        return None
    start, end = window
    if start == end:
        return None
    local = to_shanghai(now)
    t = local.time()
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # over midnight, e.g. 22:00-07:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return to_utc(datetime.combine(end_day, end, tzinfo=SHANGHAI))


def _incident_fields(incident: IncidentRow | None) -> dict[str, Any]:
    if incident is None:
        return {"incident_id": None, "category": None, "severity": 0, "stage": None, "deadline": None,
                "title": ""}
    return {
        "incident_id": incident.id,
        "category": str(incident.category) if incident.category is not None else None,
        "severity": int(incident.severity or 0),
        "stage": str(incident.stage) if incident.stage is not None else None,
        "deadline": iso_shanghai(incident.deadline),
        "title": mask(incident.title or ""),
        "clock_started_at": iso_shanghai(incident.clock_started_at),
        "first_response_at": iso_shanghai(incident.first_response_at),
        "heat": float(incident.heat or 0.0),
    }


def top_posts(session: Session, incident_id: int | None, limit: int = TOP_POSTS) -> list[dict[str, Any]]:
    """The incident's most engaged posts, masked, for rich channels."""
    if incident_id is None:
        return []
    engagement = (func.coalesce(PostRow.reposts, 0) + func.coalesce(PostRow.comments, 0)
                  + func.coalesce(PostRow.likes, 0))
    rows = session.execute(
        select(PostRow).join(IncidentPostRow, IncidentPostRow.post_id == PostRow.id)
        .where(IncidentPostRow.incident_id == incident_id)
        .order_by(engagement.desc(), PostRow.published_at.asc(), PostRow.id.asc())
        .limit(limit)
    ).scalars()
    out = []
    for post in rows:
        text = f"{post.title}\n{post.text}" if post.title else post.text
        out.append({
            "id": post.id,
            "platform": post.platform,
            "url": safe_url(post.url),  # only http(s) is ever linked
            "author": mask(post.author or ""),
            "text": mask_then_cut(text, 200),  # mask first, then cut
            "published_at": iso_shanghai(post.published_at),
            "engagement": (post.reposts or 0) + (post.comments or 0) + (post.likes or 0),
        })
    return out


def _suppressed(session: Session, *, incident_id: int | None, kind: str, channel: str, level: int,
                subkind: str | None, severity: int, now: datetime, minutes: float,
                items: list[Any] | None = None, unit: str | None = None) -> bool:
    """A repeat: same incident, kind (+ sub-kind), level and channel recently, severity not lower.
    Checklist reminders are about items: a reminder for other items is never a repeat."""
    if incident_id is None or kind in UNSUPPRESSED_KINDS or minutes <= 0:
        return False
    since = now - timedelta(minutes=minutes)
    rows = session.execute(
        select(NotificationRow.payload).where(
            NotificationRow.incident_id == incident_id,
            NotificationRow.kind == kind,
            NotificationRow.channel == channel,
            NotificationRow.escalation_level == level,
            NotificationRow.status != "suppressed",
            NotificationRow.status != "dead",
            NotificationRow.created_at >= since,
        )
    ).scalars()
    for payload in rows:
        if (payload or {}).get("subkind") != subkind or (payload or {}).get("unit") != unit:
            continue
        if items is not None and set((payload.get("extra") or {}).get("item_ids") or []) != set(items):
            continue
        if int((payload or {}).get("severity") or 0) >= severity:
            return True
    return False


def enqueue(
    session: Session,
    *,
    kind: str,
    incident: IncidentRow | None,
    text: str,
    now: datetime,
    settings: Settings,
    dedupe_key: str,
    recipients: list[str] | None = None,
    escalation_level: int = 0,
    extra: dict[str, Any] | None = None,
    unit: Any = None,
) -> list[NotificationRow]:
    """Write one outbox row per accepting channel in the caller's transaction.

    ``incident`` is an ``IncidentRow`` (or anything with its attributes, or a dict), or None for
    a digest. ``text`` is the Chinese message body; it is masked here. Returns the rows written
    (status ``pending``, or ``suppressed`` for a repeat); ``[]`` when ``dedupe_key`` was already
    enqueued or no channel accepts it.

    ``unit`` (a ``yuqing.settings.Unit``): the federation unit it goes to — its channels are used and
    it is recorded (``unit_id``, payload ``unit``). Omitted for an incident while units are
    configured: the incident's owner (alerting.units.owner); for a digest: the root unit.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = to_utc(now)
    fields = _incident_fields(incident)
    severity = fields["severity"]
    extra = dict(extra or {})
    subkind = extra.get("subkind")
    if unit is None and settings.units:
        from alerting import units as _units

        unit = _units.owner(settings, incident) if incident is not None and not isinstance(incident, dict) \
            else _units.root(settings)
    pool = settings.channels
    if unit is not None:
        from alerting.units import channels_of

        pool = channels_of(settings, unit)
    channels = [c for c in pool if channel_accepts(c, kind, severity)]
    if not channels:
        return []
    keys = {c.name: f"{dedupe_key}:{c.name}" for c in channels}
    existing = set(session.execute(
        select(NotificationRow.dedupe_key).where(NotificationRow.dedupe_key.in_(list(keys.values())))
    ).scalars())
    if existing:
        return []  # the same key twice is a no-op

    payload_base: dict[str, Any] = {
        "time": iso_shanghai(now),
        "kind": kind,
        "incident_id": fields["incident_id"],
        "category": fields["category"],
        "severity": severity,
        "stage": fields["stage"],
        "deadline": fields["deadline"],
        "text": mask(text),  # always: no setting lets personal data out (seed 002)
        "title": fields["title"],
        "clock_started_at": fields.get("clock_started_at"),
        "heat": fields.get("heat", 0.0),
        "subkind": subkind,
        "escalation_level": escalation_level,
        "top_posts": top_posts(session, fields["incident_id"]),
        "extra": extra,
    }
    unit_id = getattr(unit, "id", None) if settings.units else None
    if unit_id is not None:
        payload_base["unit"] = unit_id
        payload_base["unit_name"] = unit.name
    held = None if severity >= NEVER_HELD_SEVERITY else quiet_until(now, settings.notify.quiet_hours)
    rows: list[NotificationRow] = []
    for channel in channels:
        suppressed = _suppressed(
            session, incident_id=fields["incident_id"], kind=kind, channel=channel.name,
            level=escalation_level, subkind=subkind, severity=severity, now=now,
            minutes=settings.notify.repeat_suppression_minutes,
            items=extra.get("item_ids") if subkind == "checklist" else None, unit=unit_id)
        row = NotificationRow(
            dedupe_key=keys[channel.name],
            kind=kind,
            incident_id=fields["incident_id"],
            channel=channel.name,
            recipients=list(recipients or []),
            escalation_level=escalation_level,
            payload=dict(payload_base),
            created_at=now,
            not_before=held or now,
            status="suppressed" if suppressed else "pending",
            attempts=0,
            last_error="重复通知已抑制" if suppressed else None,
            unit_id=unit_id,
        )
        rows.append(row)
    if session.get_bind().dialect.name == "sqlite":
        # pysqlite's SAVEPOINT without an open transaction would commit the caller's work on
        # RELEASE; SQLite serialises writers anyway, so the check above is the guard there.
        session.add_all(rows)
        session.flush()
        return rows
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        # a concurrent writer enqueued the same key first: still a no-op
        return []
    return rows


def contract_line(payload: dict[str, Any]) -> dict[str, Any]:
    """The notify-file line of the contract: exactly its eight keys, plus ``unit`` (the federation
    unit it went to) once units are configured."""
    line = {key: payload.get(key) for key in
            ("time", "kind", "incident_id", "category", "severity", "stage", "deadline", "text")}
    if payload.get("unit"):
        line["unit"] = payload["unit"]
    return line
