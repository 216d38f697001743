"""Outbox enqueue: channel selection, dedupe, payload, masking, suppression, quiet hours."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.outbox import enqueue, quiet_until
from alerting.sender import send_due
from tests.alerting.conftest_notify import T0, add_incident, incident_row
from yuqing.db.models import NotificationRow
from yuqing.timeutil import parse_datetime

FILE = {"name": "file", "type": "file", "path": "out.jsonl"}


def rows(rt):
    with rt.session() as s:
        return list(s.execute(select(NotificationRow).order_by(NotificationRow.id)).scalars())


def put(rt, kind="new_incident", key="k1", now=T0, incident_id=None, **kw):
    with rt.session() as s:
        inc = incident_row(rt, incident_id) if incident_id else None
        return enqueue(s, kind=kind, incident=inc, text=kw.pop("text", "新事件"), now=now,
                       settings=rt.settings, dedupe_key=key, **kw)


def test_one_row_per_accepting_channel_and_dedupe(make_runtime):
    rt = make_runtime([
        FILE,
        {"name": "big", "type": "file", "path": "big.jsonl", "min_severity": 3},
        {"name": "breaches", "type": "file", "path": "b.jsonl", "kinds": ["breach"]},
        {"name": "off", "type": "file", "path": "off.jsonl", "enabled": False},
    ])
    inc = add_incident(rt, severity=2)
    written = put(rt, incident_id=inc, key=f"new:{inc}")
    assert [r.channel for r in written] == ["file"]
    assert put(rt, incident_id=inc, key=f"new:{inc}") == []  # same key: no-op
    written = put(rt, kind="breach", incident_id=inc, key=f"breach:{inc}")
    assert sorted(r.channel for r in written) == ["breaches", "file"]
    assert {r.dedupe_key for r in rows(rt)} == {f"new:{inc}:file", f"breach:{inc}:file", f"breach:{inc}:breaches"}
    # a digest has no incident and ignores min_severity
    assert sorted(r.channel for r in put(rt, kind="digest", key="digest:2026-03-02")) == ["big", "file"]


def test_rolled_back_change_writes_nothing(make_runtime):
    rt = make_runtime([FILE])
    inc = add_incident(rt)
    with pytest.raises(RuntimeError):
        with rt.session() as s:
            enqueue(s, kind="new_incident", incident=incident_row(rt, inc), text="x", now=T0,
                    settings=rt.settings, dedupe_key="rolled")
            raise RuntimeError("the causing change failed")
    assert rows(rt) == []


def test_payload_is_the_contract_line_and_masked(make_runtime):
    rt = make_runtime([FILE])
    inc = add_incident(rt, severity=2)
    put(rt, incident_id=inc, key="new", text="请联系受害人王芳，电话 13812345678，身份证 110101201001011234")
    payload = rows(rt)[0].payload
    assert payload["time"] == "2026-03-02T10:00:00+08:00"
    assert payload["deadline"] == "2026-03-02T21:00:00+08:00"
    assert (payload["kind"], payload["incident_id"], payload["category"], payload["severity"], payload["stage"]) \
        == ("new_incident", inc, "rights", 2, "warning")
    dumped = json.dumps(payload, ensure_ascii=False)
    for secret in ("13812345678", "110101201001011234", "王芳", "李小红", "幸福路12号"):
        assert secret not in dumped
    assert "138****5678" in payload["text"]
    assert [p["id"] for p in payload["top_posts"]] == ["p1", "p2"]  # by engagement
    report = send_due(rt, T0)
    assert report.sent == 1
    line = json.loads(rt.settings.data_file("out.jsonl").read_text(encoding="utf-8"))
    assert list(line) == ["time", "kind", "incident_id", "category", "severity", "stage", "deadline", "text"]
    assert line["text"] == payload["text"]


def test_repeat_suppression_per_incident_and_kind(make_runtime):
    rt = make_runtime([FILE], repeat_suppression_minutes=60)
    a, b = add_incident(rt, severity=2), add_incident(rt, severity=2, title="另一事件")
    assert put(rt, "severity_up", "s1", incident_id=a)[0].status == "pending"
    assert put(rt, "severity_up", "s2", now=T0 + timedelta(minutes=30), incident_id=a)[0].status == "suppressed"
    assert put(rt, "severity_up", "s3", now=T0 + timedelta(minutes=30), incident_id=b)[0].status == "pending"
    assert put(rt, "stage_change", "s4", now=T0 + timedelta(minutes=30), incident_id=a)[0].status == "pending"
    # a second stage change soon after (e.g. closed 30 minutes after the response) is news, not a repeat
    assert put(rt, "stage_change", "s4b", now=T0 + timedelta(minutes=35), incident_id=a)[0].status == "pending"
    assert put(rt, "reminder", "c1", incident_id=a, extra={"subkind": "checklist"})[0].status == "pending"
    assert put(rt, "reminder", "r1", incident_id=a)[0].status == "pending"  # different sub-kind
    assert put(rt, "severity_up", "s5", now=T0 + timedelta(minutes=61), incident_id=a)[0].status == "pending"
    with rt.session() as s:  # a rise in severity is never a repeat
        row = incident_row(rt, a)
        row.severity = 3
        assert enqueue(s, kind="severity_up", incident=row, text="升级", now=T0 + timedelta(minutes=62),
                       settings=rt.settings, dedupe_key="s6")[0].status == "pending"
    report = send_due(rt, T0 + timedelta(minutes=70))
    assert report.sent == 8  # every row but the suppressed one
    assert len(rt.settings.data_file("out.jsonl").read_text(encoding="utf-8").splitlines()) == 8


def test_quiet_hours_delay_low_severity_only(make_runtime):
    rt = make_runtime([FILE], quiet_hours="22:00-07:00")
    night = parse_datetime("2026-03-02T23:30:00+08:00")
    low, high = add_incident(rt, severity=2), add_incident(rt, severity=3, title="重大事件")
    held = put(rt, incident_id=low, key="low", now=night)[0]
    urgent = put(rt, incident_id=high, key="high", now=night)[0]
    assert held.not_before == parse_datetime("2026-03-03T07:00:00+08:00")
    assert urgent.not_before == night
    assert send_due(rt, night).sent == 1
    assert send_due(rt, parse_datetime("2026-03-03T06:59:00+08:00")).sent == 0
    assert send_due(rt, parse_datetime("2026-03-03T07:00:00+08:00")).sent == 1  # delayed, not dropped
    kinds = [json.loads(x)["severity"] for x in
             rt.settings.data_file("out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert kinds == [3, 2]


@pytest.mark.parametrize(("local", "expected"), [
    ("2026-03-02T21:59:00+08:00", None),
    ("2026-03-02T22:00:00+08:00", "2026-03-03T07:00:00+08:00"),
    ("2026-03-03T06:00:00+08:00", "2026-03-03T07:00:00+08:00"),
    ("2026-03-03T07:00:00+08:00", None),
])
def test_quiet_window_over_midnight(local, expected):
    got = quiet_until(parse_datetime(local), "22:00-07:00")
    assert got == (parse_datetime(expected) if expected else None)
    assert quiet_until(parse_datetime("2026-03-02T13:00:00+08:00"), "12:00-14:00") == \
        parse_datetime("2026-03-02T14:00:00+08:00")
