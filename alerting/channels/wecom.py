"""企业微信 group robot: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the webhook.

At-least-once: the robot API has no idempotency key and no way to list sent messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerting import messages
from alerting.channels.base import Channel, Note, SendError
from alerting.channels.webhook import post_json

MAX_BYTES = 4096  # the robot's markdown limit
RATE_LIMITED = {45009}


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


class WeComChannel(Channel):
    type = "wecom"

    def send(self, note: Note, now: datetime) -> str | None:
        url = self.secret(self.config.webhook_env, "企业微信机器人 webhook 地址")
        data = post_json(url, build_body(note, now), timeout=self.config.timeout_seconds, name="企业微信")
        code = data.get("errcode", 0)
        if code != 0:
            raise SendError(f"企业微信返回错误 {code}: {data.get('errmsg', '')}",
                            retry_after=60 if code in RATE_LIMITED else None)
        return None
