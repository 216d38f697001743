"""WeCom / DingTalk / Feishu robots against a local HTTP server: exact JSON, signatures,
500s, timeouts, error codes, back-off with an injected clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

from sqlalchemy import select

from alerting.outbox import enqueue
from alerting.sender import send_due
from tests.alerting.conftest_notify import DING_SECRET, FEISHU_SECRET, T0, add_incident, incident_row
from tests.alerting.servers import Reply
from yuqing.db.models import NotificationRow

SECRETS = ("13812345678", "王芳", "李小红", "110101201001011234", "幸福路12号")


def setup(make_runtime, monkeypatch, server, type_, **cfg):
    monkeypatch.setenv("YUQING_TEST_WEBHOOK", f"{server.url}/hook?key=robot-key")
    channel = {"name": type_, "type": type_, "webhook_env": "YUQING_TEST_WEBHOOK", "timeout_seconds": 0.5, **cfg}
    rt = make_runtime([channel], retry_base_seconds=30, max_attempts=3)
    inc = add_incident(rt, severity=2)
    with rt.session() as s:
        enqueue(s, kind="new_incident", incident=incident_row(rt, inc), text="受害人王芳电话13812345678",
                now=T0, settings=rt.settings, dedupe_key="n", recipients=["zhang"])
    return rt, inc


def row(rt):
    with rt.session() as s:
        return s.execute(select(NotificationRow)).scalar_one()


def assert_masked(text):
    for secret in SECRETS:
        assert secret not in text


def test_wecom_markdown(make_runtime, monkeypatch, webhook_server):
    rt, inc = setup(make_runtime, monkeypatch, webhook_server, "wecom")
    assert send_due(rt, T0).sent == 1
    (req,) = webhook_server.requests
    assert (req.method, req.path, req.query) == ("POST", "/hook", {"key": "robot-key"})
    assert req.headers["content-type"].startswith("application/json")
    body = req.json
    assert list(body) == ["msgtype", "markdown"] and body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith(f"### 【较大·新舆情事件】 #{inc} 权益侵害类")
    assert "- **时钟**：距首次回应时限还剩 11小时" in content and "<@zhangsan>" in content
    assert "[原文](https://weibo.com/1/p1)" in content
    assert len(content.encode("utf-8")) <= 4096
    assert_masked(req.body.decode("utf-8"))


def test_dingtalk_signed_markdown(make_runtime, monkeypatch, webhook_server):
    rt, inc = setup(make_runtime, monkeypatch, webhook_server, "dingtalk", secret_env="YUQING_TEST_DING_SECRET")
    assert send_due(rt, T0).sent == 1
    (req,) = webhook_server.requests
    assert req.query["key"] == "robot-key"
    ts = req.query["timestamp"]
    assert len(ts) == 13  # milliseconds
    # the server side check: HmacSHA256(key=secret, "timestamp\nsecret"), base64, urlencoded in the URL
    expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert req.query["sign"] == expected  # parse_qs already url-decoded it
    body = req.json
    assert body["msgtype"] == "markdown" and body["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert body["markdown"]["title"].startswith("【较大·新舆情事件】")
    assert "@13800000001" in body["markdown"]["text"]
    assert_masked(body["markdown"]["text"])


def test_feishu_signed_card(make_runtime, monkeypatch, webhook_server):
    rt, inc = setup(make_runtime, monkeypatch, webhook_server, "feishu", secret_env="YUQING_TEST_FEISHU_SECRET")
    assert send_due(rt, T0).sent == 1
    body = webhook_server.requests[0].json
    ts = body["timestamp"]
    assert isinstance(ts, str) and len(ts) == 10  # seconds, as a string
    expected = base64.b64encode(hmac.new(f"{ts}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"]["template"] == "yellow"  # 较大 = 黄
    assert card["header"]["title"] == {"tag": "plain_text", "content": f"【较大·新舆情事件】 #{inc} 权益侵害类 某县女童李某某被打事件"}
    assert card["elements"][0]["text"]["tag"] == "lark_md"
    assert_masked(json.dumps(body, ensure_ascii=False))


def test_500_then_timeout_then_success_with_backoff(make_runtime, monkeypatch, webhook_server):
    rt, _ = setup(make_runtime, monkeypatch, webhook_server, "wecom")
    webhook_server.script.extend([Reply(status=500), Reply(hang=True)])
    r1 = send_due(rt, T0)
    assert (r1.sent, r1.retried) == (0, 1) and "HTTP 500" in r1.errors[0]
    assert row(rt).not_before == T0 + timedelta(seconds=30) and row(rt).attempts == 1
    assert send_due(rt, T0 + timedelta(seconds=29)).claimed == 0  # not before its time
    t2 = T0 + timedelta(seconds=30)
    r2 = send_due(rt, t2)
    assert r2.retried == 1 and "超时" in r2.errors[0]
    assert row(rt).not_before == t2 + timedelta(seconds=60)  # doubled
    r3 = send_due(rt, t2 + timedelta(seconds=60))
    assert r3.sent == 1 and row(rt).status == "sent" and row(rt).last_error is None
    assert len(webhook_server.requests) == 3
    assert "robot-key" not in " ".join(r1.errors + r2.errors)  # the webhook key is never shown


def test_error_code_retries_until_dead(make_runtime, monkeypatch, webhook_server):
    rt, _ = setup(make_runtime, monkeypatch, webhook_server, "dingtalk", secret_env="YUQING_TEST_DING_SECRET")
    webhook_server.script.extend([Reply(body={"errcode": 310000, "errmsg": "sign not match"})] * 3)
    now = T0
    for _ in range(3):
        send_due(rt, now)
        now += timedelta(hours=1)
    final = row(rt)
    assert final.status == "dead" and final.attempts == 3 and "310000" in final.last_error
    assert send_due(rt, now + timedelta(days=1)).claimed == 0
    assert len(webhook_server.requests) == 3


def test_missing_webhook_secret_is_reported_in_chinese(make_runtime, monkeypatch, webhook_server):
    rt, _ = setup(make_runtime, monkeypatch, webhook_server, "wecom")
    monkeypatch.delenv("YUQING_TEST_WEBHOOK")
    report = send_due(rt, T0)
    assert report.retried == 1 and "请设置环境变量 YUQING_TEST_WEBHOOK" in report.errors[0]
    assert webhook_server.requests == []
