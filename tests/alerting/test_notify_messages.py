"""Chinese texts: the clock line, the digest, the console channel."""

from __future__ import annotations

from datetime import timedelta

from alerting import messages
from alerting.engine import digest
from alerting.outbox import enqueue
from alerting.sender import send_due
from tests.alerting.conftest_notify import T0, add_incident, incident_row


def test_time_left_and_overdue():
    payload = {"deadline": "2026-03-02T21:00:00+08:00", "stage": "response"}
    assert messages.time_left(payload, T0) == "距首次回应时限还剩 11小时（截止 2026-03-02 21:00）"
    late = T0 + timedelta(hours=12, minutes=30)
    assert messages.time_left(payload, late) == "已超过首次回应时限 1小时30分（截止 2026-03-02 21:00）"
    assert messages.time_left({**payload, "stage": "closed"}, T0) is None


def test_digest_text_lists_open_incidents(make_runtime):
    rt = make_runtime([{"name": "file", "type": "file", "path": "out.jsonl"}])
    a = add_incident(rt, severity=4, stage="response")
    b = add_incident(rt, severity=1, title="一般事件")
    add_incident(rt, severity=2, stage="closed", title="已结事件")
    with rt.session() as s:
        text = digest.digest_text(s, T0 + timedelta(hours=12), rt.settings)
    lines = text.splitlines()
    assert lines[0] == "每日舆情汇总（截至 2026-03-02 22:00）"
    assert "当前未结事件 2 起" in lines[1] and "近24小时新增事件 3 起" in lines[1]
    assert lines[2] == "按阶段：应对 1 起，预警 1 起"
    assert lines[4].startswith(f"- #{a} 权益侵害类 特别重大（I级·红色） 应对 某县女童李某某被打事件 已超时 1小时")
    assert lines[5].startswith(f"- #{b} ")
    assert "李小红" not in text and "已结事件" not in text


def test_console_channel_prints_chinese_panel(make_runtime, capsys):
    rt = make_runtime([{"name": "console", "type": "console"}])
    inc = add_incident(rt, severity=3)
    with rt.session() as s:
        enqueue(s, kind="new_incident", incident=incident_row(rt, inc), text="受害人王芳电话13812345678",
                now=T0, settings=rt.settings, dedupe_key="n")
    assert send_due(rt, T0).sent == 1
    out = capsys.readouterr().out
    assert "新舆情事件" in out and "重大（II级·橙色）" in out and "138****5678" in out
    assert "王芳" not in out and "13812345678" not in out
