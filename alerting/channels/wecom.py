"""企业微信 group robot: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the webhook.

At-least-once: the robot API has no idempotency key and no way to list sent messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerting import messages
from alerting.channels.base import Note
from alerting.channels.robot import RobotChannel

MAX_BYTES = 4096  # the robot's markdown limit


def truncate_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def build_body(note: Note, now: datetime) -> dict[str, Any]:
    content = messages.markdown(note.payload, now)
    mentions = [p.wecom_user for p in note.recipients if p.wecom_user]
    if mentions:
        content += "\n" + " ".join(f"<@{user}>" for user in mentions)
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(content, MAX_BYTES)}}


class WeComChannel(RobotChannel):
    type = "wecom"
    label = "企业微信"
    rate_limited = frozenset({45009})

    def build_body(self, note: Note, now: datetime, key: str | None, sign_time: datetime) -> dict[str, Any]:
        return build_body(note, now)
