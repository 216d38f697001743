"""Fixtures of the notification tests: local endpoints and an instance wired to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.alerting.servers import RecordingServer, SlackServer
from tests.conftest import write_config
from yuqing.db.migrate import upgrade
from yuqing.db.models import IncidentPostRow, IncidentRow, PostRow
from yuqing.runtime import Runtime
from yuqing.settings import load_settings
from yuqing.timeutil import SimClock

# 2026-03-02 10:00 in Shanghai: outside any quiet hours used by the tests
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SLACK_TOKEN = "xoxb-test-token"
DING_SECRET = "SECdingtalk-test-secret"
FEISHU_SECRET = "feishu-test-secret"


@pytest.fixture
def webhook_server() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    server = SlackServer().start()
    yield server
    server.stop()


class SmtpRecorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpRecorder, int]]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as sock:  # a free port (the controller's readiness check needs a real one)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield recorder, port
    controller.stop()


ROSTER = {
    "people": [
        {"id": "zhang", "name": "张值班", "email": "zhang@example.org", "slack_user": "U0ZHANG",
         "wecom_user": "zhangsan", "dingtalk_mobile": "13800000001"},
        {"id": "li", "name": "李科长", "email": "li@example.org"},
    ],
    "shifts": [{"people": ["zhang"]}],
    "escalation": [{"name": "值班员"}, {"name": "科室负责人", "people": ["li"]}],
}


@pytest.fixture
def make_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Runtime]]:
    """``make_runtime(channels, **notify)`` -> a migrated instance on a SimClock at T0."""
    made: list[Runtime] = []
    monkeypatch.setenv("YUQING_TEST_SLACK_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("YUQING_TEST_DING_SECRET", DING_SECRET)
    monkeypatch.setenv("YUQING_TEST_FEISHU_SECRET", FEISHU_SECRET)
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_DATA_DIR", raising=False)

    def factory(channels: list[dict[str, Any]], **notify: Any) -> Runtime:
        sub = tmp_path / f"inst{len(made)}"
        sub.mkdir()
        notify_cfg = {"repeat_suppression_minutes": 60, "retry_base_seconds": 30, "max_attempts": 4, **notify}
        path = write_config(sub, {"channels": channels, "notify": notify_cfg, "roster": ROSTER})
        monkeypatch.setenv("YUQING_CONFIG", str(path))
        rt = Runtime(load_settings(path), SimClock(T0))
        upgrade(rt.engine)
        made.append(rt)
        return rt

    yield factory
    for rt in made:
        rt.close()


def add_incident(rt: Runtime, *, severity: int = 2, stage: str = "warning", category: str = "rights",
                 title: str = "某县女童李小红被打事件", now: datetime = T0,
                 posts: list[dict[str, Any]] | None = None) -> int:
    """An incident with posts, written directly (the engine is another area)."""
    posts = posts if posts is not None else [
        {"id": "p1", "text": "受害人王芳的电话13812345678，住在幸福路12号3栋501室", "likes": 50,
         "url": "https://weibo.com/1/p1", "author": "网友甲"},
        {"id": "p2", "text": "转发：身份证110101201001011234 的孩子（12岁）被打", "likes": 10,
         "url": "https://weibo.com/1/p2", "author": "网友乙"},
    ]
    with rt.session() as s:
        inc = IncidentRow(title=title, category=category, severity=severity, peak_severity=severity, stage=stage,
                          detected_at=now, created_at=now, updated_at=now, clock_started_at=now - timedelta(hours=1),
                          deadline=now + timedelta(hours=11))
        s.add(inc)
        s.flush()
        for p in posts:
            s.merge(PostRow(id=p["id"], platform="weibo", url=p.get("url"), author=p.get("author"), text=p["text"],
                            published_at=now - timedelta(hours=1), first_seen_at=now, last_seen_at=now,
                            likes=p.get("likes"), status="done"))
            s.flush()
            s.add(IncidentPostRow(incident_id=inc.id, post_id=p["id"], added_at=now, reason="similar"))
        return inc.id


def incident_row(rt: Runtime, incident_id: int) -> IncidentRow:
    with rt.session() as s:
        row = s.get(IncidentRow, incident_id)
        assert row is not None
        return row
