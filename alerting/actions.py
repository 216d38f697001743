"""What a person does to an incident (CLI, web, Slack, replay): each call is one short step in the
caller's transaction, writes stage history / audit, and raises ``YuqingError`` (Chinese) when the
step is not allowed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerting.engine import core, grouping, region, texts
from alerting.engine.stages import CLOCK_STAGES, OPEN_STAGES, open_required, override_checklist, transition
from yuqing.audit import record
from yuqing.db.models import IncidentPostRow, IncidentRow, NotificationRow, PostRow, ResponseRow
from yuqing.domain import NEXT_STAGE, Stage
from yuqing.errors import YuqingError
from yuqing.settings import Settings
from yuqing.timeutil import fmt_local, to_utc


def get(session: Session, incident_id: int) -> IncidentRow:
    incident = session.get(IncidentRow, int(incident_id))
    if incident is None:
        raise YuqingError(f"事件 #{incident_id} 不存在")
    if incident.merged_into is not None:
        raise YuqingError(f"事件 #{incident_id} 已并入事件 #{incident.merged_into}，请对该事件操作")
    return incident


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from yuqing.settings import load_settings

    return load_settings()


def _require_open(incident: IncidentRow) -> None:
    if incident.stage not in OPEN_STAGES:
        raise YuqingError(f"事件 #{incident.id} {texts.stage_zh(incident.stage)}，不能再操作")


def ack(session: Session, incident_id: int, actor: str, now: datetime) -> IncidentRow:
    """Acknowledge the incident's alerts: escalation for missing acknowledgement stops."""
    incident = get(session, incident_id)
    now = to_utc(now)
    if incident.acknowledged_at is not None:
        return incident  # acknowledging twice is harmless
    incident.acknowledged_at = now
    incident.acknowledged_by = actor
    incident.updated_at = now
    session.execute(update(NotificationRow).where(NotificationRow.incident_id == incident.id,
                                                  NotificationRow.acked_at.is_(None))
                    .values(acked_at=now, acked_by=actor))
    record(session, actor=actor, action="incident.ack", object_type="incident", object_id=incident.id, at=now,
           detail="确认告警")
    return incident


def advance(session: Session, incident_id: int, actor: str, now: datetime, reason: str = "",
            override_reason: str | None = None, settings: Settings | None = None) -> IncidentRow:
    """Move to the next stage (预警→应对→善后→关闭); refused while required checklist items are open."""
    incident = get(session, incident_id)
    _require_open(incident)
    settings = _settings(settings)
    now = to_utc(now)
    target = NEXT_STAGE[Stage(incident.stage)].value
    missing = open_required(session, incident)
    if missing and not override_reason:
        items = "；".join(getattr(i, "text", str(i)) for i in missing[:5])
        raise YuqingError(f"事件 #{incident.id} 在{texts.stage_zh(incident.stage)}阶段还有 {len(missing)} 项必做事项未完成"
                          f"（{items}）。完成后再推进，或填写跳过原因（--override-reason）")
    why = reason or "人工推进"
    if missing and override_reason:
        why += f"（越过未完成的必做事项：{override_reason}）"
        override_checklist(session, incident, actor, now, override_reason)
    if incident.acknowledged_at is None:
        ack(session, incident.id, actor, now)  # working on it is acknowledging it
    transition(session, incident, target, actor=actor, now=now, reason=why, settings=settings)
    return incident


def respond(session: Session, incident_id: int, actor: str, now: datetime, url: str | None,
            at: datetime | None = None, text: str = "", settings: Settings | None = None) -> IncidentRow:
    """Record a public response; the first one stops the 12-hour clock."""
    incident = get(session, incident_id)
    _require_open(incident)
    settings = _settings(settings)
    now = to_utc(now)
    at = to_utc(at) if at else now
    if at > now:
        raise YuqingError(f"回应时间 {fmt_local(at)} 晚于当前时间，不能记录尚未发生的回应")
    first = incident.first_response_at is None
    session.add(ResponseRow(incident_id=incident.id, kind="first" if first else "update", at=at, url=url,
                            text=text or "", author=actor))
    if first:
        incident.first_response_at = at
        incident.first_response_url = url
    incident.updated_at = now
    late = incident.deadline is not None and at > incident.deadline
    record(session, actor=actor, action="incident.respond", object_type="incident", object_id=incident.id,
           at=now, after={"first_response_at": at, "url": url},
           detail=("首次公开回应" if first else "后续回应") + ("（已超时）" if late and first else ""))
    if incident.acknowledged_at is None:
        ack(session, incident.id, actor, now)
    if incident.stage == "warning":
        transition(session, incident, "response", actor=actor, now=now, settings=settings,
                   reason="已发布首次公开回应")
    return incident


def dismiss(session: Session, incident_id: int, actor: str, now: datetime, reason: str,
            settings: Settings | None = None) -> IncidentRow:
    """A false alarm: closes the incident with a reason (required)."""
    if not (reason or "").strip():
        raise YuqingError("排除误报必须填写原因（--reason）")
    incident = get(session, incident_id)
    _require_open(incident)
    incident.dismissed_reason = reason.strip()
    transition(session, incident, "dismissed", actor=actor, now=to_utc(now), reason=f"误报排除：{reason.strip()}",
               settings=_settings(settings))
    return incident


def close(session: Session, incident_id: int, actor: str, now: datetime, reason: str = "",
          settings: Settings | None = None) -> IncidentRow:
    """Close an incident (善后 done). Closing from 预警/应对 needs a reason."""
    incident = get(session, incident_id)
    _require_open(incident)
    if incident.stage != "aftermath" and not reason.strip():
        raise YuqingError(f"事件 #{incident.id} 处于{texts.stage_zh(incident.stage)}阶段，直接关闭须填写原因（--reason）")
    transition(session, incident, "closed", actor=actor, now=to_utc(now), reason=reason.strip() or "善后完成，关闭事件",
               settings=_settings(settings))
    return incident


def merge(session: Session, target_id: int, source_ids: list[int], actor: str, now: datetime,
          settings: Settings | None = None) -> IncidentRow:
    """Fold other incidents into ``target_id`` (their posts move; they are kept, marked merged)."""
    target = get(session, target_id)
    settings = _settings(settings)
    now = to_utc(now)
    sources = [get(session, i) for i in dict.fromkeys(source_ids) if int(i) != target.id]
    if not sources:
        raise YuqingError("请至少指定一个要并入的其他事件")
    return core.merge_incidents(session, target, sources, actor, now, settings)


def split(session: Session, incident_id: int, post_ids: list[str], actor: str, now: datetime,
          settings: Settings | None = None) -> IncidentRow:
    """Move ``post_ids`` out of an incident into a new one (same category, its own clock)."""
    source = get(session, incident_id)
    settings = _settings(settings)
    now = to_utc(now)
    links = {row.post_id: row for row in session.scalars(
        select(IncidentPostRow).where(IncidentPostRow.incident_id == source.id))}
    wanted = list(dict.fromkeys(str(p) for p in post_ids))
    unknown = [p for p in wanted if p not in links]
    if unknown:
        raise YuqingError(f"帖子不属于事件 #{source.id}：{', '.join(unknown)}")
    if not wanted or len(wanted) == len(links):
        raise YuqingError("拆分须留下至少一条帖子在原事件中，并至少移出一条")
    first = session.get(PostRow, wanted[0])
    assert first is not None
    new = core.open_incident(session, first, now, settings)
    new.category = first.category or source.category
    for post_id in wanted:
        session.delete(links[post_id])
        session.add(IncidentPostRow(incident_id=new.id, post_id=post_id, added_at=now, reason="manual"))
    new.last_post_at = source.last_post_at
    session.flush()
    record(session, actor=actor, action="incident.split", object_type="incident", object_id=source.id, at=now,
           after={"new_incident": new.id, "posts": wanted}, detail=f"拆分出事件 #{new.id}")
    for incident in (source, new):
        grouping.rebuild_features(session, incident)
        region.rebuild(session, incident)
        incident.clock_started_at = None
    core.refresh(session, source, now, settings)
    core.refresh(session, new, now, settings, opened=True)
    return new


__all__ = ["ack", "advance", "respond", "dismiss", "close", "merge", "split", "CLOCK_STAGES"]
