"""钉钉 custom robot with 加签: ``timestamp`` (ms) and ``sign`` = urlencode(base64(HmacSHA256(
key=secret, msg="timestamp\\nsecret"))) appended to the webhook URL; markdown body.

At-least-once: the robot API has no idempotency key and no way to list sent messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import datetime
from typing import Any

from alerting import messages
from alerting.channels.base import Note
from alerting.channels.robot import RobotChannel
from yuqing.exits import md_text


def sign(timestamp_ms: int, secret: str) -> str:
    """The urlencoded ``sign`` parameter."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str | None, now: datetime) -> str:
    if not secret:
        return url
    ts = int(now.timestamp() * 1000)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={ts}&sign={sign(ts, secret)}"


def build_body(note: Note, now: datetime) -> dict[str, Any]:
    mobiles = [p.dingtalk_mobile for p in note.recipients if p.dingtalk_mobile]
    text = messages.markdown(note.payload, now)
    if mobiles:
        text += "\n\n" + " ".join(f"@{m}" for m in mobiles)
    return {
        "msgtype": "markdown",
        "markdown": {"title": md_text(messages.title(note.payload))[:64], "text": text},
        "at": {"atMobiles": mobiles, "isAtAll": False},
    }


class DingTalkChannel(RobotChannel):
    type = "dingtalk"
    label = "钉钉"
    secret_what = "钉钉加签密钥"
    rate_limited = frozenset({130101})

    def signed_url(self, url: str, key: str | None, sign_time: datetime) -> str:
        return signed_url(url, key, sign_time)

    def build_body(self, note: Note, now: datetime, key: str | None, sign_time: datetime) -> dict[str, Any]:
        return build_body(note, now)
