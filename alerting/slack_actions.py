"""Slack interactivity: verify a request's signature and turn the 确认 button into an ack.

Framework-free core (:func:`handle`) plus :func:`router` for FastAPI, which the web area mounts
(``app.include_router(slack_actions.router(rt))`` → ``POST /slack/actions``). The signing secret
is read through ``secret_env`` of the first Slack channel (default ``YUQING_SLACK_SIGNING_SECRET``).
Acknowledging twice is harmless (``alerting.actions.ack`` is idempotent), so Slack's own retries
are safe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from alerting.messages import ACK_ACTION_ID
from yuqing.errors import YuqingError
from yuqing.settings import Settings, secret
from yuqing.timeutil import to_utc

DEFAULT_SECRET_ENV = "YUQING_SLACK_SIGNING_SECRET"


class _FixedClock:
    """slack-sdk's verifier asks a clock for epoch seconds: give it ours (injectable)."""

    def __init__(self, now: datetime) -> None:
        self._now = to_utc(now).timestamp()

    def now(self) -> float:
        return self._now


def signing_secret(settings: Settings) -> str | None:
    env = next((c.secret_env for c in settings.channels if c.type == "slack" and c.secret_env), None)
    return secret(env or DEFAULT_SECRET_ENV, settings)


def verify(settings: Settings, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """True when the request carries a valid ``X-Slack-Signature`` made within 5 minutes of ``now``."""
    from slack_sdk.signature import SignatureVerifier

    key = signing_secret(settings)
    if not key:
        return False
    lower = {k.lower(): v for k, v in headers.items()}
    verifier = SignatureVerifier(key, clock=_FixedClock(now))  # type: ignore[arg-type]
    return verifier.is_valid_request(body, lower)


def actor_for(settings: Settings, user: Mapping[str, Any]) -> str:
    """The roster person with this Slack user id, else ``slack:<id>``."""
    user_id = str(user.get("id") or "")
    for person in settings.all_people():  # the top-level roster and every unit's
        if person.slack_user and person.slack_user == user_id:
            return person.id
    return f"slack:{user_id or user.get('username') or '未知用户'}"


def handle(rt: Any, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """Process one interactive request; returns (HTTP status, JSON body with a Chinese text)."""
    now = to_utc(now or rt.clock.now())
    if not verify(rt.settings, headers, body, now):
        return 401, {"text": "请求签名无效或已过期，已拒绝"}
    try:
        form = parse_qs(body.decode("utf-8"))
        payload = json.loads(form["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        return 400, {"text": "无法解析 Slack 交互请求（缺少 payload）"}
    if payload.get("type") != "block_actions":
        return 200, {"text": "已忽略：不是按钮操作"}
    action = next((a for a in payload.get("actions") or [] if a.get("action_id") == ACK_ACTION_ID), None)
    if action is None:
        return 200, {"text": "已忽略：未知的按钮"}
    try:
        incident_id = int(action.get("value"))
    except (TypeError, ValueError):
        return 400, {"text": f"按钮携带的事件编号无效: {action.get('value')!r}"}
    actor = actor_for(rt.settings, payload.get("user") or {})
    from alerting import actions

    try:
        with rt.session() as session:
            incident = actions.ack(session, incident_id, actor, now)
            who = incident.acknowledged_by or actor
    except YuqingError as exc:
        return 200, {"response_type": "ephemeral", "replace_original": False, "text": f"确认失败：{exc}"}
    return 200, {"response_type": "in_channel", "replace_original": False,
                 "text": f"事件 #{incident_id} 已由 {who} 确认"}


def router(rt: Any) -> Any:
    """A FastAPI router with ``POST /slack/actions``."""
    from fastapi import APIRouter, Request
    from fastapi.responses import JSONResponse

    api = APIRouter()

    async def slack_actions(request: Request) -> JSONResponse:
        body = await request.body()
        status, data = handle(rt, dict(request.headers), body)
        return JSONResponse(data, status_code=status)

    # this module uses postponed annotations; give FastAPI the real class
    slack_actions.__annotations__["request"] = Request
    api.post("/slack/actions")(slack_actions)
    return api
