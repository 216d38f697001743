"""Checklist state on a real migrated database: stage entry, guard, actions, audit, overdue reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from playbooks import checklist
from playbooks.loader import get_playbook
from playbooks.schema import Due
from tests.playbooks.conftest import T0, make_incident
from yuqing.db.models import AuditRow, ChecklistItemRow, NotificationRow
from yuqing.errors import YuqingError
from yuqing.timeutil import SimClock


def _audit(session, action: str) -> list[AuditRow]:
    return list(session.execute(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)).scalars())


def test_instantiate_on_stage_entry_with_due_times(runtime, session) -> None:
    inc = make_incident(session, category="rights")
    entered = T0 + timedelta(minutes=30)
    rows = checklist.instantiate(session, inc, "warning", entered, runtime.settings)
    book = get_playbook("rights", runtime.settings)
    assert [r.item_id for r in rows] == [i.id for i in book.stages["warning"].items]
    by_id = {r.item_id: r for r in rows}
    assert by_id["collect_info"].due_at == entered + timedelta(hours=1)
    assert by_id["collect_info"].role == "值班员" and by_id["collect_info"].status == "open"
    assert by_id["no_identity_spread"].required is False

    later = T0 + timedelta(hours=2)
    response = checklist.instantiate(session, inc, "response", later, runtime.settings)
    due = {r.item_id: r.due_at for r in response}
    assert due["first_response"] == inc.deadline  # {from: deadline, hours: 0}
    assert due["draft_statement"] == inc.deadline - timedelta(hours=3)
    assert due["form_team"] == later + timedelta(hours=1)

    # idempotent: a second call adds nothing and writes no second audit entry
    again = checklist.instantiate(session, inc, "response", later + timedelta(hours=1), runtime.settings)
    assert [r.id for r in again] == [r.id for r in response]
    assert len(_audit(session, "checklist.instantiate")) == 2
    assert checklist.instantiate(session, inc, "closed", later, runtime.settings) == []


def test_due_anchors_and_fallback_deadline(runtime, session) -> None:
    inc = make_incident(session)
    start = T0 + timedelta(hours=1)
    assert checklist.due_at(Due(**{"from": "clock_start", "hours": 4}), inc, start, runtime.settings) == T0 + timedelta(hours=4)
    assert checklist.due_at(Due(**{"from": "detected", "hours": 1}), inc, start, runtime.settings) == \
        inc.detected_at + timedelta(hours=1)
    inc.deadline = None  # not set yet: the clock settings decide
    expected = T0 + timedelta(hours=runtime.settings.clock.hours_for(2) - 2)
    assert checklist.due_at(Due(**{"from": "deadline", "hours": -2}), inc, start, runtime.settings) == expected


def test_guard_actions_and_audit(runtime, session) -> None:
    inc = make_incident(session, category="image")
    now = T0 + timedelta(hours=1)
    rows = checklist.instantiate(session, inc, "warning", now, runtime.settings)
    required = [r for r in rows if r.required]
    assert [r.item_id for r in checklist.open_required(session, inc.id, "warning")] == [r.item_id for r in required]
    assert "必做事项未完成" in checklist.guard(session, inc.id, "warning")

    done = checklist.check(session, (inc.id, "collect_info"), "zhang", now)
    assert done.status == "done" and done.done_by == "zhang" and done.done_at == now
    with pytest.raises(YuqingError, match="已由 zhang"):
        checklist.check(session, (inc.id, "collect_info"), "li", now)
    with pytest.raises(YuqingError, match="理由"):
        checklist.skip(session, (inc.id, "check_authenticity"), "li", now, "  ")
    skipped = checklist.skip(session, (inc.id, "check_authenticity"), "li", now, "原视频已由警方确认真实")
    assert skipped.status == "skipped" and skipped.skip_reason == "原视频已由警方确认真实"
    moved = checklist.reassign(session, rows[1].id, "zhang", now, "王主任")  # by primary key
    assert moved.assignee == "王主任" and moved.role == "办公室"
    with pytest.raises(YuqingError, match="没有清单事项"):
        checklist.check(session, (inc.id, "no_such_item"), "zhang", now)

    entries = _audit(session, "checklist.done") + _audit(session, "checklist.skip") + _audit(session, "checklist.reassign")
    assert [e.actor for e in entries] == ["zhang", "li", "zhang"]
    assert entries[0].before["status"] == "open" and entries[0].after["status"] == "done"
    assert entries[1].after["skip_reason"] == "原视频已由警方确认真实"
    assert entries[2].before["assignee"] is None and entries[2].after["assignee"] == "王主任"
    assert all(e.object_type == "checklist_item" and e.at == now for e in entries)

    left = checklist.open_required(session, inc.id, "warning")
    assert {r.item_id for r in left} == {"verify_identity", "analyze_trend", "judge_level", "alert_leaders"}
    with pytest.raises(YuqingError, match="理由"):
        checklist.override(session, inc.id, "warning", "boss", now, "")
    overridden = checklist.override(session, inc.id, "warning", "boss", now, "舆情急剧升温，先行进入应对")
    assert {r.status for r in overridden} == {"overridden"}
    assert checklist.open_required(session, inc.id, "warning") == []
    assert checklist.guard(session, inc.id, "warning") is None
    (summary,) = _audit(session, "checklist.override_stage")
    assert summary.actor == "boss" and set(summary.before["open_required"]) == {r.item_id for r in left}
    assert len(_audit(session, "checklist.override")) == len(left)


def _reminders(session) -> list[NotificationRow]:
    return list(session.execute(select(NotificationRow).where(NotificationRow.kind == "checklist_overdue")
                                .order_by(NotificationRow.id)).scalars())


def test_overdue_reminders_on_a_simulated_clock(runtime, session) -> None:
    clock = SimClock(T0 + timedelta(minutes=30))
    inc = make_incident(session, category="emergency", severity=3)
    rows = checklist.instantiate(session, inc, "warning", clock.now(), runtime.settings)
    first_due = min(r.due_at for r in rows)
    assert first_due == clock.now() + timedelta(minutes=30)  # collect_info: 0.5 h

    clock.advance(timedelta(minutes=29))
    assert checklist.overdue_reminders(session, clock.now(), runtime.settings) == 0
    assert _reminders(session) == []

    clock.advance(timedelta(minutes=1))
    assert checklist.overdue_reminders(session, clock.now(), runtime.settings) == 1
    (note,) = _reminders(session)
    assert note.incident_id == inc.id and note.status == "pending"
    assert note.payload["extra"]["subkind"] == "checklist"
    assert note.payload["extra"]["item_id"] == "collect_info"
    assert "收集相关信息" in note.payload["text"] and "值班员" in note.payload["text"]

    # never repeated
    clock.advance(timedelta(minutes=5))
    assert checklist.overdue_reminders(session, clock.now(), runtime.settings) == 0

    # done items are not reminded; the two items due at +1 h share one message, which waits
    # until an hour has passed since the last one (issue 16: one checklist_overdue per incident-hour)
    checklist.check(session, (inc.id, "alert_leaders"), "zhang", clock.now())
    clock.advance(timedelta(minutes=30))
    assert checklist.overdue_reminders(session, clock.now(), runtime.settings) == 0
    clock.advance(timedelta(minutes=25))
    due_now = {r.item_id for r in checklist.items(session, inc.id, "warning")
               if r.status == "open" and r.reminded_at is None and r.due_at <= clock.now()}
    assert {"confirm_casualties"} < due_now  # what fell due in the hour waited and goes out together
    assert checklist.overdue_reminders(session, clock.now(), runtime.settings) == len(due_now)
    assert len(_reminders(session)) == 2
    reminded = {r.item_id for r in checklist.items(session, inc.id, "warning") if r.reminded_at is not None}
    assert reminded == {"collect_info"} | due_now

    # items of a stage the incident has left are not reminded
    inc.stage = "response"
    session.flush()
    clock.advance(timedelta(hours=3))
    assert checklist.overdue_reminders(session, clock.now(), runtime.settings) == 0
    remaining = session.execute(select(ChecklistItemRow).where(ChecklistItemRow.reminded_at.is_(None),
                                                               ChecklistItemRow.status == "open")).scalars().all()
    assert {r.item_id for r in remaining} == {"analyze_trend", "judge_level"} - due_now
