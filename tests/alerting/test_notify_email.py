"""E-mail to a real local aiosmtpd server: UTF-8 subject, text + HTML parts, masking, recipients."""

from __future__ import annotations

from sqlalchemy import select

from alerting.outbox import enqueue
from alerting.sender import send_due
from tests.alerting.conftest_notify import T0, add_incident, incident_row
from yuqing.db.models import NotificationRow


def test_email_is_utf8_text_and_html_and_masked(make_runtime, smtp_server):
    recorder, port = smtp_server
    rt = make_runtime([{"name": "mail", "type": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
                        "mail_from": "yuqing@fulian.example", "mail_to": ["duty@fulian.example"]}])
    inc = add_incident(rt, severity=4)
    with rt.session() as s:
        enqueue(s, kind="breach", incident=incident_row(rt, inc), text="受害人王芳电话13812345678，已超时",
                now=T0, settings=rt.settings, dedupe_key="breach", recipients=["zhang", "li"], escalation_level=1)
    report = send_due(rt, T0)
    assert report.sent == 1, report.errors
    ((mail_from, rcpt, msg),) = recorder.messages
    assert mail_from == "yuqing@fulian.example"
    assert rcpt == ["duty@fulian.example", "zhang@example.org", "li@example.org"]
    assert msg["Subject"] == f"【特别重大·超过回应时限】 #{inc} 权益侵害类 某县女童李某某被打事件"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "等级：特别重大（I级·红色）" in text and "上报层级：第 1 级" in text
    assert "#e53935" in html and "<a href='https://weibo.com/1/p1'>原文</a>" in html
    for part in (text, html, str(msg["Subject"])):
        for secret in ("13812345678", "王芳", "李小红", "110101201001011234", "幸福路12号"):
            assert secret not in part
    with rt.session() as s:
        row = s.execute(select(NotificationRow)).scalar_one()
        assert row.external_id == msg["Message-ID"]
        assert msg["Message-ID"].endswith("@fulian.example>")


def test_smtp_down_is_retried(make_runtime):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rt = make_runtime([{"name": "mail", "type": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
                        "mail_to": ["duty@fulian.example"], "timeout_seconds": 1}])
    inc = add_incident(rt)
    with rt.session() as s:
        enqueue(s, kind="new_incident", incident=incident_row(rt, inc), text="新事件", now=T0,
                settings=rt.settings, dedupe_key="n")
    report = send_due(rt, T0)
    assert report.retried == 1 and f"无法连接邮件服务器 127.0.0.1:{port}" in report.errors[0]
