"""Checklist state of an incident: created on stage entry, worked by people, reminded when overdue.

Every change a person (or the system) makes is written to the audit log in the caller's
transaction, with the item's state before and after.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playbooks.loader import load_all
from playbooks.schema import PLAYBOOK_STAGES, Due
from yuqing import audit
from yuqing.db.models import ChecklistItemRow, IncidentRow
from yuqing.domain import STAGE_ZH, Stage
from yuqing.errors import YuqingError
from yuqing.settings import Settings
from yuqing.timeutil import fmt_duration, fmt_local, to_utc

OPEN, DONE, SKIPPED, OVERRIDDEN = "open", "done", "skipped", "overridden"
STATUS_ZH = {OPEN: "待办", DONE: "已完成", SKIPPED: "已跳过", OVERRIDDEN: "已越过"}

ItemRef = int | tuple[int, str]


def _stage_value(stage: str | Stage) -> str:
    return stage.value if isinstance(stage, Stage) else str(stage)


def due_at(due: Due | None, incident: IncidentRow, stage_start: datetime, settings: Settings) -> datetime | None:
    """The absolute due time of an item: anchored on the stage start, the incident clock or the deadline."""
    if due is None:
        return None
    clock = incident.clock_started_at or incident.detected_at or stage_start
    if due.anchor == "clock_start":
        base = clock
    elif due.anchor == "deadline":
        base = incident.deadline or (clock + timedelta(hours=settings.clock.hours_for(int(incident.severity or 1))))
    elif due.anchor == "detected":
        base = incident.detected_at or stage_start
    else:  # stage_start / <stage>_start
        base = stage_start
    return to_utc(base) + timedelta(hours=due.hours)


def instantiate(session: Session, incident_row: IncidentRow, stage: str | Stage, now: datetime,
                settings: Settings) -> list[ChecklistItemRow]:
    """Create the stage's checklist items for the incident (idempotent: only missing items are added).

    Returns every item of that stage, in playbook order. Stages without a playbook (closed,
    dismissed) and incidents without a crisis category get no items.
    """
    stage = _stage_value(stage)
    if stage not in PLAYBOOK_STAGES:
        return []
    books = load_all(settings)
    book = books.get(str(incident_row.category))
    if book is None:
        return []
    if incident_row.id is None:
        session.flush()
    existing = {row.item_id: row for row in items(session, incident_row.id, stage)}
    added = []
    for position, item in enumerate(book.stage(stage).items):
        if item.id in existing:
            continue
        row = ChecklistItemRow(
            incident_id=incident_row.id, stage=stage, item_id=item.id, position=position, text=item.text,
            role=item.role, assignee=None, guidance=item.guidance, required=item.required,
            due_at=due_at(item.due, incident_row, to_utc(now), settings), status=OPEN, created_at=to_utc(now),
        )
        session.add(row)
        added.append(row)
    if added:
        session.flush()
        audit.record(session, actor="system", action="checklist.instantiate", object_type="incident",
                     object_id=incident_row.id, at=now,
                     after={"stage": stage, "items": [r.item_id for r in added]},
                     detail=f"进入{STAGE_ZH[Stage(stage)]}阶段，生成清单 {len(added)} 项（{book.name} v{book.version}）")
    return items(session, incident_row.id, stage)


def items(session: Session, incident_id: int, stage: str | Stage | None = None) -> list[ChecklistItemRow]:
    """The incident's items (one stage, or all in stage order), in playbook order."""
    query = select(ChecklistItemRow).where(ChecklistItemRow.incident_id == incident_id)
    if stage is not None:
        query = query.where(ChecklistItemRow.stage == _stage_value(stage))
    rows = list(session.execute(query).scalars())
    order = {s: i for i, s in enumerate(PLAYBOOK_STAGES)}
    rows.sort(key=lambda r: (order.get(r.stage, 99), r.position, r.id))
    return rows


def open_required(session: Session, incident_id: int, stage: str | Stage) -> list[ChecklistItemRow]:
    """The advance guard: required items of the stage that are neither done nor skipped."""
    return [r for r in items(session, incident_id, stage) if r.required and r.status == OPEN]


def _state(row: ChecklistItemRow) -> dict[str, Any]:
    return {"status": row.status, "assignee": row.assignee, "done_by": row.done_by, "done_at": row.done_at,
            "skip_reason": row.skip_reason}


def resolve(session: Session, ref: ItemRef) -> ChecklistItemRow:
    """An item by primary key, or by (incident id, item id) — the current stage's first."""
    if isinstance(ref, int):
        row = session.get(ChecklistItemRow, ref)
        if row is None:
            raise YuqingError(f"清单事项 {ref} 不存在")
        return row
    incident_id, item_id = ref
    rows = [r for r in items(session, incident_id) if r.item_id == item_id]
    if not rows:
        incident = session.get(IncidentRow, incident_id)
        if incident is None:
            raise YuqingError(f"事件 {incident_id} 不存在")
        known = "、".join(r.item_id for r in items(session, incident_id, incident.stage)) or "（无）"
        raise YuqingError(f"事件 {incident_id} 没有清单事项 “{item_id}”（当前阶段的事项：{known}）")
    incident = session.get(IncidentRow, incident_id)
    current = [r for r in rows if incident is not None and r.stage == incident.stage]
    if current:
        return current[0]
    return max(rows, key=lambda r: (r.created_at, r.id))


def _change(session: Session, row: ChecklistItemRow, *, actor: str, now: datetime, action: str,
            detail: str, **changes: Any) -> ChecklistItemRow:
    before = _state(row)
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()
    audit.record(session, actor=actor, action=action, object_type="checklist_item", object_id=row.id, at=now,
                 before=before, after=_state(row),
                 detail=f"事件 {row.incident_id} {STAGE_ZH[Stage(row.stage)]}阶段 {row.item_id}「{row.text}」{detail}")
    return row


def _need_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise YuqingError("请说明操作人（--by）")
    return actor


def check(session: Session, ref: ItemRef, actor: str, now: datetime) -> ChecklistItemRow:
    """Mark an item done."""
    actor = _need_actor(actor)
    row = resolve(session, ref)
    if row.status == DONE:
        raise YuqingError(f"事项 {row.item_id} 已由 {row.done_by} 于 {fmt_local(row.done_at)} 完成")
    return _change(session, row, actor=actor, now=now, action="checklist.done", detail="标记为已完成",
                   status=DONE, done_at=to_utc(now), done_by=actor, skip_reason=None)


def skip(session: Session, ref: ItemRef, actor: str, now: datetime, reason: str) -> ChecklistItemRow:
    """Skip an item; a reason is required (it is what leaders read afterwards)."""
    actor = _need_actor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise YuqingError("跳过事项必须说明理由")
    row = resolve(session, ref)
    if row.status != OPEN:
        raise YuqingError(f"事项 {row.item_id} 当前状态为“{STATUS_ZH.get(row.status, row.status)}”，只能跳过待办事项")
    return _change(session, row, actor=actor, now=now, action="checklist.skip", detail=f"跳过，理由：{reason}",
                   status=SKIPPED, done_at=to_utc(now), done_by=actor, skip_reason=reason)


def reassign(session: Session, ref: ItemRef, actor: str, now: datetime, assignee: str) -> ChecklistItemRow:
    """Give an item to a named person (the role stays as the playbook says)."""
    actor = _need_actor(actor)
    assignee = (assignee or "").strip()
    if not assignee:
        raise YuqingError("请指定新的负责人")
    row = resolve(session, ref)
    if row.status != OPEN:
        raise YuqingError(f"事项 {row.item_id} 已{STATUS_ZH.get(row.status, row.status)}，无需改派")
    return _change(session, row, actor=actor, now=now, action="checklist.reassign",
                   detail=f"改派：{row.assignee or row.role} → {assignee}", assignee=assignee)


def override(session: Session, incident_id: int, stage: str | Stage, actor: str, now: datetime,
             reason: str) -> list[ChecklistItemRow]:
    """A person lets the stage advance with required items still open: each is marked 'overridden'.

    ``alerting.actions.advance(..., override_reason=...)`` calls this; the reason is required.
    """
    actor = _need_actor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise YuqingError("越过未完成的必做事项必须说明理由")
    rows = open_required(session, incident_id, stage)
    for row in rows:
        _change(session, row, actor=actor, now=now, action="checklist.override", detail=f"越过，理由：{reason}",
                status=OVERRIDDEN, done_at=to_utc(now), done_by=actor, skip_reason=reason)
    if rows:
        audit.record(session, actor=actor, action="checklist.override_stage", object_type="incident",
                     object_id=incident_id, at=now, before={"open_required": [r.item_id for r in rows]},
                     after={"open_required": []},
                     detail=f"{STAGE_ZH[Stage(_stage_value(stage))]}阶段 {len(rows)} 项必做事项未完成即推进，理由：{reason}")
    return rows


def guard(session: Session, incident_id: int, stage: str | Stage) -> str | None:
    """A Chinese reason why the stage cannot advance yet, or None."""
    rows = open_required(session, incident_id, stage)
    if not rows:
        return None
    names = "；".join(f"{r.item_id}「{r.text}」" for r in rows[:5]) + ("等" if len(rows) > 5 else "")
    return (f"{STAGE_ZH[Stage(_stage_value(stage))]}阶段还有 {len(rows)} 项必做事项未完成：{names}。"
            "请完成或说明理由跳过；确需推进请填写越过理由（--override）。")


def _reminder_text(incident: IncidentRow, rows: list[ChecklistItemRow], now: datetime) -> str:
    stage = STAGE_ZH[Stage(rows[0].stage)]
    lines = [f"【清单逾期】事件 #{incident.id}「{incident.title or '未命名事件'}」{stage}阶段有 {len(rows)} 项未按时完成："]
    for row in rows:
        owner = row.assignee or row.role
        late = fmt_duration((to_utc(now) - to_utc(row.due_at)).total_seconds()) if row.due_at else ""
        lines.append(f"· {row.text}（负责：{owner}；应于 {fmt_local(row.due_at)} 前完成，已逾期 {late}）")
    lines.append(f"查看清单：yuqing incidents checklist {incident.id}")
    return "\n".join(lines)


OVERDUE_EVERY = timedelta(hours=1)  # at most one checklist_overdue per incident and hour
FOLD_WINDOW = timedelta(minutes=10)  # a clock reminder due this soon carries the overdue items


def _quiet(incident: IncidentRow) -> bool:
    """No overdue messages once the incident is responded to, closed or dismissed."""
    return incident.first_response_at is not None or incident.stage in ("closed", "dismissed")


def _overdue(session: Session, now: datetime, incident_id: int | None = None) -> list[tuple[Any, Any]]:
    query = (select(ChecklistItemRow, IncidentRow).join(IncidentRow, IncidentRow.id == ChecklistItemRow.incident_id)
             .where(ChecklistItemRow.status == OPEN, ChecklistItemRow.reminded_at.is_(None),
                    ChecklistItemRow.due_at.is_not(None), ChecklistItemRow.due_at <= now,
                    ChecklistItemRow.stage == IncidentRow.stage, IncidentRow.first_response_at.is_(None),
                    IncidentRow.stage.not_in(("closed", "dismissed")))
             .order_by(ChecklistItemRow.incident_id, ChecklistItemRow.due_at, ChecklistItemRow.position))
    if incident_id is not None:
        query = query.where(ChecklistItemRow.incident_id == incident_id)
    return list(session.execute(query).all())


def _last_reminded(session: Session, incident_id: int) -> datetime | None:
    last = session.scalar(select(func.max(ChecklistItemRow.reminded_at))
                          .where(ChecklistItemRow.incident_id == incident_id))
    return to_utc(last) if last is not None else None


def overdue_reminders(session: Session, now: datetime, settings: Settings) -> int:
    """Enqueue the overdue-item messages (kind ``checklist_overdue``; items of the current stage only).

    Per incident at most one message an hour (the items that fall due meanwhile wait and share the
    next one), none while a clock reminder is due within ``FOLD_WINDOW`` (it carries them, see
    ``fold_into_reminder``), none once the incident is responded to, closed or dismissed. Every
    item is reminded once (``reminded_at``). Returns the number of items reminded.
    """
    from alerting.engine.clock import next_reminder_at
    from alerting.engine.notify import sent_this_minute
    from alerting.outbox import enqueue

    now = to_utc(now)
    by_incident: dict[int, tuple[IncidentRow, list[ChecklistItemRow]]] = {}
    for item, incident in _overdue(session, now):
        by_incident.setdefault(incident.id, (incident, []))[1].append(item)
    count = 0
    for incident, group in by_incident.values():
        if _quiet(incident):
            continue
        last = _last_reminded(session, incident.id)
        if last is not None and now - last < OVERDUE_EVERY:
            continue
        due = next_reminder_at(incident, now, settings)
        if due is not None and due - now <= FOLD_WINDOW:
            continue
        if sent_this_minute(session, incident.id, "checklist_overdue", now):
            continue
        enqueue(session, kind="checklist_overdue", incident=incident, text=_reminder_text(incident, group, now),
                now=now, settings=settings, dedupe_key="checklist:" + ",".join(str(r.id) for r in group),
                extra={"subkind": "checklist", "item_id": group[0].item_id,
                       "item_ids": [r.item_id for r in group], "checklist_item_pks": [r.id for r in group]})
        for item in group:
            item.reminded_at = now
        count += len(group)
    session.flush()
    return count


def fold_into_reminder(session: Session, incident: IncidentRow, now: datetime, settings: Settings) -> str | None:
    """The overdue items a clock reminder about to go out carries (they count as reminded), or None."""
    now = to_utc(now)
    if _quiet(incident):
        return None
    group = [item for item, _ in _overdue(session, now, incident.id)]
    if not group:
        return None
    for item in group:
        item.reminded_at = now
    session.flush()
    lines = [f"另有 {len(group)} 项处置清单事项逾期："]
    for row in group:
        lines.append(f"· {row.text}（负责：{row.assignee or row.role}；应于 {fmt_local(row.due_at)} 前完成）")
    lines.append(f"查看清单：yuqing incidents checklist {incident.id}")
    return "\n".join(lines)
