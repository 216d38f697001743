"""The Slack 确认 button: signature verification and the acknowledgement it records."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from alerting import slack_actions
from tests.alerting.conftest_notify import T0, add_incident, incident_row
from yuqing.db.models import AuditRow

SIGNING = "slack-signing-test-secret"


def request(payload: dict, *, at=T0, key=SIGNING):
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(at.timestamp()))
    sig = "v0=" + hmac.new(key.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}, body


def click(incident_id, user="U0ZHANG"):
    return {"type": "block_actions", "user": {"id": user, "username": "zhang"},
            "actions": [{"action_id": "yuqing_ack", "value": str(incident_id), "type": "button"}]}


def runtime(make_runtime, monkeypatch, slack_server):
    monkeypatch.setenv("YUQING_TEST_SLACK_SIGNING", SIGNING)
    return make_runtime([{"name": "slack", "type": "slack", "token_env": "YUQING_TEST_SLACK_TOKEN",
                          "channel": "C0DUTY", "base_url": slack_server.url + "/api/",
                          "secret_env": "YUQING_TEST_SLACK_SIGNING"}])


def test_ack_button_acknowledges_the_incident(make_runtime, monkeypatch, slack_server):
    rt = runtime(make_runtime, monkeypatch, slack_server)
    inc = add_incident(rt)
    headers, body = request(click(inc))
    status, data = slack_actions.handle(rt, headers, body, now=T0 + timedelta(seconds=30))
    assert status == 200 and data["text"] == f"事件 #{inc} 已由 zhang 确认"
    row = incident_row(rt, inc)
    assert row.acknowledged_by == "zhang" and row.acknowledged_at == T0 + timedelta(seconds=30)
    with rt.session() as s:
        assert s.execute(select(AuditRow.actor).where(AuditRow.action == "incident.ack")).scalars().all() == ["zhang"]
    # an unknown Slack user is recorded by id; a second click changes nothing
    headers, body = request(click(inc, user="U0OTHER"))
    assert slack_actions.handle(rt, headers, body, now=T0 + timedelta(seconds=40))[0] == 200
    assert incident_row(rt, inc).acknowledged_by == "zhang"


def test_bad_or_stale_signature_is_rejected(make_runtime, monkeypatch, slack_server):
    rt = runtime(make_runtime, monkeypatch, slack_server)
    inc = add_incident(rt)
    headers, body = request(click(inc), key="wrong-secret")
    assert slack_actions.handle(rt, headers, body, now=T0)[0] == 401
    headers, body = request(click(inc), at=T0 - timedelta(minutes=10))  # replayed later
    assert slack_actions.handle(rt, headers, body, now=T0)[0] == 401
    headers, body = request(click(inc))
    tampered = body.replace(str(inc).encode(), b"999")
    assert slack_actions.handle(rt, headers, tampered, now=T0)[0] == 401
    assert incident_row(rt, inc).acknowledged_at is None


def test_unknown_incident_gets_a_chinese_reason(make_runtime, monkeypatch, slack_server):
    rt = runtime(make_runtime, monkeypatch, slack_server)
    headers, body = request(click(4242))
    status, data = slack_actions.handle(rt, headers, body, now=T0)
    assert status == 200 and data["text"].startswith("确认失败：") and data["response_type"] == "ephemeral"


def test_router_mounts_on_fastapi(make_runtime, monkeypatch, slack_server):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    rt = runtime(make_runtime, monkeypatch, slack_server)
    inc = add_incident(rt)
    app = FastAPI()
    app.include_router(slack_actions.router(rt))
    headers, body = request(click(inc))  # signed at T0, the runtime's SimClock time
    response = TestClient(app).post("/slack/actions", content=body, headers=headers)
    assert response.status_code == 200 and incident_row(rt, inc).acknowledged_by == "zhang"
