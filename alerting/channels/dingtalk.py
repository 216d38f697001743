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
from alerting.channels.base import Channel, Note, SendError
from alerting.channels.webhook import post_json

RATE_LIMITED = {130101}


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
        "markdown": {"title": messages.title(note.payload)[:64], "text": text},
        "at": {"atMobiles": mobiles, "isAtAll": False},
    }


class DingTalkChannel(Channel):
    type = "dingtalk"

    def send(self, note: Note, now: datetime) -> str | None:
        url = self.secret(self.config.webhook_env, "钉钉机器人 webhook 地址")
        key = self.secret(self.config.secret_env, "钉钉加签密钥") if self.config.secret_env else None
        # the signature must be within an hour of DingTalk's clock: sign with the real send time
        data = post_json(signed_url(url, key, datetime.now(now.tzinfo)), build_body(note, now),
                         timeout=self.config.timeout_seconds, name="钉钉")
        code = data.get("errcode", 0)
        if code != 0:
            raise SendError(f"钉钉返回错误 {code}: {data.get('errmsg', '')}",
                            retry_after=60 if code in RATE_LIMITED else None)
        return None
