"""飞书 custom robot with 签名校验: body carries ``timestamp`` (seconds, string) and ``sign`` =
base64(HmacSHA256(key="timestamp\\nsecret", msg=b"")); an interactive card coloured by severity.

At-least-once: the robot API has no idempotency key and no way to list sent messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from alerting import messages
from alerting.channels.base import Note
from alerting.channels.robot import RobotChannel


def sign(timestamp_s: int, secret: str) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def build_body(note: Note, now: datetime, secret: str | None, sign_time: datetime) -> dict[str, Any]:
    severity = int(note.payload.get("severity") or 0)
    body: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": messages.title(note.payload)},
                       "template": messages.FEISHU_TEMPLATE.get(severity, "grey")},
            "elements": [{"tag": "div", "text": {"tag": "lark_md",
                                                 "content": messages.markdown(note.payload, now)}}],
        },
    }
    if secret:
        ts = int(sign_time.timestamp())
        body = {"timestamp": str(ts), "sign": sign(ts, secret), **body}
    return body


class FeishuChannel(RobotChannel):
    type = "feishu"
    label = "飞书"
    secret_what = "飞书签名密钥"
    rate_limited = frozenset({11232})

    def build_body(self, note: Note, now: datetime, key: str | None, sign_time: datetime) -> dict[str, Any]:
        return build_body(note, now, key, sign_time)

    def reply_error(self, data: dict[str, Any]) -> tuple[int, str]:
        return (int(data.get("code", data.get("StatusCode", 0)) or 0),
                str(data.get("msg", data.get("StatusMessage", ""))))
