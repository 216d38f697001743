"""Slack through slack-sdk against a local Slack Web API: Block Kit, threads, 429, idempotency."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from alerting.channels.registry import make_channel
from alerting.outbox import enqueue
from alerting.sender import _load_note, claim_due, send_due
from tests.alerting.conftest_notify import T0, add_incident, incident_row
from tests.alerting.servers import Reply
from yuqing.db.models import NotificationRow


def slack_cfg(server):
    return {"name": "slack", "type": "slack", "token_env": "YUQING_TEST_SLACK_TOKEN", "channel": "C0DUTY",
            "base_url": server.url + "/api/"}


def put(rt, kind, key, incident_id, now=T0, text="事件通报", recipients=None):
    with rt.session() as s:
        return enqueue(s, kind=kind, incident=incident_row(rt, incident_id), text=text, now=now,
                       settings=rt.settings, dedupe_key=key, recipients=recipients)


def statuses(rt):
    with rt.session() as s:
        return [(r.kind, r.status, r.external_id, r.attempts) for r in
                s.execute(select(NotificationRow).order_by(NotificationRow.id)).scalars()]


def test_block_kit_message_then_thread_replies(make_runtime, slack_server):
    rt = make_runtime([slack_cfg(slack_server)])
    inc = add_incident(rt, severity=3)
    put(rt, "new_incident", "n", inc, text="受害人王芳电话13812345678", recipients=["zhang"])
    assert send_due(rt, T0).sent == 1
    put(rt, "stage_change", "s", inc, now=T0 + timedelta(minutes=5))
    put(rt, "breach", "b", inc, now=T0 + timedelta(minutes=6))
    assert send_due(rt, T0 + timedelta(minutes=10)).sent == 2

    root, reply, breach = slack_server.messages
    assert root["channel"] == "C0DUTY" and root["thread_ts"] is None
    assert reply["thread_ts"] == root["ts"] and breach["thread_ts"] == root["ts"]
    assert breach["reply_broadcast"] is True and not reply["reply_broadcast"]
    assert "<@U0ZHANG>" in root["text"]  # the on-duty person is mentioned
    attachment = root["attachments"][0]
    assert attachment["color"] == "#fb8c00"  # 重大 = orange
    blocks = attachment["blocks"]
    assert blocks[0]["type"] == "header" and "权益侵害类" in blocks[0]["text"]["text"]
    fields = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in blocks[1]["fields"]}
    assert fields["*等级*"] == "重大（II级·橙色）" and fields["*阶段*"] == "预警"
    assert fields["*时钟*"].startswith("距首次回应时限还剩 11小时")
    posts = next(b for b in blocks if "代表性帖文" in (b.get("text") or {}).get("text", ""))
    assert "<https://weibo.com/1/p1|原文>" in posts["text"]["text"]
    button = next(b for b in blocks if b["type"] == "actions")["elements"][0]
    assert (button["action_id"], button["value"], button["text"]["text"]) == ("yuqing_ack", str(inc), "确认")
    dumped = json.dumps(slack_server.messages, ensure_ascii=False)
    for secret in ("13812345678", "王芳", "李小红", "110101201001011234", "幸福路12号"):
        assert secret not in dumped
    # the root's ts is stored as external_id
    assert statuses(rt)[0][2] == root["ts"]
    assert slack_server.requests[0].headers["authorization"] == "Bearer xoxb-test-token"


def test_429_retry_after_is_honoured(make_runtime, slack_server):
    rt = make_runtime([slack_cfg(slack_server)], retry_base_seconds=5)
    inc = add_incident(rt, severity=2)
    put(rt, "new_incident", "n", inc)
    slack_server.script.append(Reply(status=429, body={"ok": False, "error": "ratelimited"},
                                     headers={"Retry-After": "120"}))
    report = send_due(rt, T0)
    assert (report.sent, report.retried) == (0, 1) and "429" in report.errors[0]
    with rt.session() as s:
        row = s.execute(select(NotificationRow)).scalar_one()
        assert row.status == "pending" and row.not_before == T0 + timedelta(seconds=120)
        assert row.attempts == 0  # a rate limit is not a failed attempt
    assert send_due(rt, T0 + timedelta(seconds=119)).claimed == 0
    assert send_due(rt, T0 + timedelta(seconds=120)).sent == 1
    assert len(slack_server.messages) == 1


def test_bad_token_is_dead_at_once(make_runtime, slack_server, monkeypatch):
    monkeypatch.setenv("YUQING_TEST_SLACK_TOKEN", "xoxb-wrong")
    rt = make_runtime([slack_cfg(slack_server)])
    put(rt, "new_incident", "n", add_incident(rt))
    report = send_due(rt, T0)
    assert report.dead == 1 and "invalid_auth" in report.errors[0]
    assert "xoxb-wrong" not in report.errors[0]


def test_send_then_crash_before_mark_is_not_sent_twice(make_runtime, slack_server):
    """The worker posted the message and died before recording it: the retry finds it by metadata."""
    rt = make_runtime([slack_cfg(slack_server)], claim_timeout_seconds=300)
    inc = add_incident(rt, severity=2)
    put(rt, "new_incident", "n", inc)
    (claimed,) = claim_due(rt, T0, "dead-worker")
    note = _load_note(rt, claimed.id, "dead-worker", {"slack": "slack"})
    make_channel(rt.settings.channels[0], rt.settings).send(note, T0)  # ... and the worker dies here
    assert len(slack_server.messages) == 1
    assert send_due(rt, T0 + timedelta(seconds=299)).claimed == 0  # the claim is still fresh
    report = send_due(rt, T0 + timedelta(seconds=301))
    assert (report.sent, report.already_delivered) == (1, 1)
    assert len(slack_server.messages) == 1
    assert statuses(rt) == [("new_incident", "sent", slack_server.messages[0]["ts"], 2)]
    # a reply in the thread is found the same way
    put(rt, "stage_change", "s", inc, now=T0 + timedelta(minutes=10))
    (claimed,) = claim_due(rt, T0 + timedelta(minutes=10), "dead-worker")
    note = _load_note(rt, claimed.id, "dead-worker", {"slack": "slack"})
    assert note.thread_ts == slack_server.messages[0]["ts"]
    make_channel(rt.settings.channels[0], rt.settings).send(note, T0)
    report = send_due(rt, T0 + timedelta(minutes=20))
    assert report.already_delivered == 1 and len(slack_server.messages) == 2
