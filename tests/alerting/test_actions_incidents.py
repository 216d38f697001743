"""Actions a person takes (ack, advance, respond, dismiss, close, merge, split) and the roster."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from alerting import actions, roster
from alerting.engine.core import handle_posts, tick
from yuqing.audit import record  # noqa: F401  (the audit table is what we read back)
from yuqing.db.models import AuditRow, IncidentRow, NotificationRow, PostRow, StageHistoryRow
from yuqing.domain import Post
from yuqing.errors import YuqingError
from yuqing.runtime import Runtime
from yuqing.settings import RosterSettings
from yuqing.store import store_posts

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def _open(rt: Runtime, *posts: tuple[str, str, int]) -> list[int]:
    now = T0 + timedelta(minutes=10)
    objs = [Post.model_validate({"id": pid, "platform": "weibo", "text": text,
                                 "published_at": (T0 + timedelta(minutes=m)).isoformat()}) for pid, text, m in posts]
    with rt.session() as s:
        store_posts(s, objs, now)
        rows = list(s.scalars(select(PostRow).order_by(PostRow.id)))
        for row in rows:
            row.category, row.severity = "rights", 2
        report = handle_posts(s, rows, now, rt.settings)
        return report.opened


def _notes(rt: Runtime, kind: str) -> int:
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(NotificationRow).where(NotificationRow.kind == kind))


def test_advance_is_guarded_by_the_checklist_and_recorded(runtime: Runtime) -> None:
    pytest.importorskip("playbooks.checklist")
    (iid,) = _open(runtime, ("p1", "江西南昌一幼儿园女童坠楼身亡", 0))
    now = T0 + timedelta(hours=1)
    with runtime.session() as s, pytest.raises(YuqingError, match="必做事项未完成"):
        actions.advance(s, iid, "duty1", now, settings=runtime.settings)
    with runtime.session() as s:
        actions.advance(s, iid, "duty1", now, reason="成立应对小组", override_reason="领导电话指示先行应对",
                        settings=runtime.settings)
    with runtime.session() as s:
        inc = s.get(IncidentRow, iid)
        assert inc.stage == "response" and inc.acknowledged_by == "duty1"
        last = s.scalars(select(StageHistoryRow).where(StageHistoryRow.incident_id == iid)
                         .order_by(StageHistoryRow.id.desc())).first()
        assert (last.from_stage, last.to_stage, last.actor) == ("warning", "response", "duty1")
        assert "领导电话指示先行应对" in last.reason
        assert s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "incident.stage")) >= 2
    assert _notes(runtime, "stage_change") == 1


def test_respond_stops_clock_and_dismiss_needs_reason(runtime: Runtime) -> None:
    a, b = _open(runtime, ("p1", "江西南昌一幼儿园女童坠楼身亡", 0), ("p2", "湖南邵阳女子遭家暴重伤住院", 5))
    now = T0 + timedelta(hours=2)
    with runtime.session() as s:
        actions.respond(s, a, "duty1", now, "https://weibo.com/x", at=T0 + timedelta(hours=1, minutes=30),
                        settings=runtime.settings)
    with runtime.session() as s, pytest.raises(YuqingError, match="晚于当前时间"):
        actions.respond(s, a, "duty1", now, "https://x", at=now + timedelta(hours=1), settings=runtime.settings)
    with runtime.session() as s, pytest.raises(YuqingError, match="原因"):
        actions.dismiss(s, b, "duty1", now, "  ", settings=runtime.settings)
    with runtime.session() as s:
        actions.dismiss(s, b, "duty1", now, "同名旧闻", settings=runtime.settings)
    # long after both deadlines: the responded and the dismissed incident never breach
    with runtime.session() as s:
        tick(s, T0 + timedelta(hours=13), runtime.settings)
    assert _notes(runtime, "breach") == 0
    with runtime.session() as s:
        inc = s.get(IncidentRow, a)
        # responded and heat fell from its peak: 善后 by itself
        assert inc.first_response_at == T0 + timedelta(hours=1, minutes=30) and inc.stage == "aftermath"
        assert s.get(IncidentRow, b).stage == "dismissed"
        with pytest.raises(YuqingError, match="已排除"):
            actions.advance(s, b, "duty1", now, settings=runtime.settings)


def test_ack_stops_escalation(runtime: Runtime) -> None:
    (iid,) = _open(runtime, ("p1", "江西南昌一幼儿园女童坠楼身亡", 0))
    detected = T0 + timedelta(minutes=10)
    with runtime.session() as s:
        tick(s, detected + timedelta(minutes=16), runtime.settings)
    assert _notes(runtime, "escalation") == 1
    with runtime.session() as s:
        actions.ack(s, iid, "head", detected + timedelta(minutes=20))
    with runtime.session() as s:
        tick(s, detected + timedelta(minutes=60), runtime.settings)
    assert _notes(runtime, "escalation") == 1
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(NotificationRow)
                        .where(NotificationRow.acked_by == "head")) >= 1


def test_merge_and_split(runtime: Runtime) -> None:
    a, b = _open(runtime, ("p1", "江西南昌一幼儿园女童坠楼身亡", 30), ("p2", "湖南邵阳女子遭家暴重伤住院", 0))
    now = T0 + timedelta(hours=1)
    with runtime.session() as s:
        target = actions.merge(s, a, [b], "head", now, settings=runtime.settings)
        # the merged incident's clock starts at the earliest post of both
        assert target.clock_started_at == T0
    with runtime.session() as s:
        assert s.get(IncidentRow, b).merged_into == a
        with pytest.raises(YuqingError, match="已并入"):
            actions.ack(s, b, "head", now)
    with runtime.session() as s:
        new = actions.split(s, a, ["p2"], "head", now, settings=runtime.settings)
        new_id = new.id
        with pytest.raises(YuqingError, match="不属于"):
            actions.split(s, a, ["nope"], "head", now, settings=runtime.settings)
    with runtime.session() as s:
        from alerting.engine.incident_json import post_ids

        assert post_ids(s, a) == ["p1"] and post_ids(s, new_id) == ["p2"]
        assert s.get(IncidentRow, a).clock_started_at == T0 + timedelta(minutes=30)


def test_roster_shifts_holidays_and_levels() -> None:
    settings = RosterSettings.model_validate({
        "people": [{"id": "day", "name": "白班"}, {"id": "night", "name": "夜班"}, {"id": "hol", "name": "节假日"},
                   {"id": "head", "name": "科长"}, {"id": "boss", "name": "领导"}],
        "shifts": [{"people": ["day"], "weekdays": [1, 2, 3, 4, 5], "start": "08:00", "end": "20:00"},
                   {"people": ["night"], "weekdays": [1, 2, 3, 4, 5], "start": "20:00", "end": "08:00"}],
        "holidays": [date(2026, 3, 4)], "holiday_people": ["hol"],
        "escalation": [{"name": "值班员"}, {"name": "科室负责人", "people": ["head"]},
                       {"name": "分管领导", "people": ["boss"]}],
    })
    local = lambda s: datetime.fromisoformat(s + "+08:00")  # noqa: E731
    assert roster.on_duty(settings, local("2026-03-02T09:00")) == ["day"]  # Monday
    assert roster.on_duty(settings, local("2026-03-02T23:00")) == ["night"]
    assert roster.on_duty(settings, local("2026-03-03T03:00")) == ["night"]  # Monday's night shift
    assert roster.on_duty(settings, local("2026-03-07T03:00")) == ["night"]  # Friday night into Saturday
    assert roster.on_duty(settings, local("2026-03-07T12:00")) == []  # Saturday day: nobody
    assert roster.on_duty(settings, local("2026-03-04T12:00")) == ["hol"]
    assert roster.recipients(settings, 0, local("2026-03-02T09:00")) == ["day"]
    assert roster.recipients(settings, 2, local("2026-03-02T09:00")) == ["day", "head", "boss"]
    assert roster.recipients(settings, 9, local("2026-03-02T09:00")) == ["day", "head", "boss"]
    assert roster.level_name(settings, 1) == "科室负责人"
