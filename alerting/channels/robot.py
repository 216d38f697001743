"""The chat-robot webhook channels (企业微信, 钉钉, 飞书) share one delivery: read the webhook URL
(and the optional signing secret) from the environment, build the robot's body, POST it as JSON,
and read the robot's own error code from the reply.

Guarantees: the webhook URL (it carries the robot key) never appears in an error message, only
its host; HTTP 429 and the robot's own rate-limit codes become ``SendError.retry_after``; 4xx
other than 429 is permanent. At-least-once: no robot API has an idempotency key or a way to list
what it received.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import httpx

from alerting.channels.base import Channel, Note, SendError


def redact_url(url: str) -> str:
    """The webhook URL carries the robot key: never show more than its host."""
    try:
        return httpx.URL(url).host or "webhook"
    except Exception:  # noqa: BLE001 - any malformed URL
        return "webhook"


def post_json(url: str, body: dict[str, Any], *, timeout: float, name: str) -> dict[str, Any]:
    """POST ``body``; raise SendError with a Chinese reason (never the URL's secret part)."""
    host = redact_url(url)
    try:
        response = httpx.post(url, json=body, timeout=timeout,
                              headers={"Content-Type": "application/json; charset=utf-8"})
    except httpx.TimeoutException:
        raise SendError(f"{name} 请求超时（{host}，{timeout:g} 秒）") from None
    except httpx.HTTPError as exc:
        raise SendError(f"{name} 连接失败（{host}）: {type(exc).__name__}") from None
    if response.status_code == 429:
        raise SendError(f"{name} 限流（HTTP 429）", retry_after=_retry_after(response))
    if response.status_code >= 400:
        raise SendError(f"{name} 返回 HTTP {response.status_code}（{host}）",
                        permanent=response.status_code in (400, 401, 403, 404))
    try:
        data = response.json()
    except ValueError:
        raise SendError(f"{name} 返回的不是 JSON（HTTP {response.status_code}）") from None
    return data if isinstance(data, dict) else {}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class RobotChannel(Channel):
    """A robot webhook: subclasses say how to sign the URL or body and how the reply names errors."""

    label: ClassVar[str] = ""  # the platform's name in messages (企业微信 …)
    secret_what: ClassVar[str] = ""  # what the signing secret is called; "" = the robot signs nothing
    rate_limited: ClassVar[frozenset[int]] = frozenset()
    code_field: ClassVar[str] = "errcode"
    message_field: ClassVar[str] = "errmsg"

    def build_body(self, note: Note, now: datetime, key: str | None, sign_time: datetime) -> dict[str, Any]:
        raise NotImplementedError

    def signed_url(self, url: str, key: str | None, sign_time: datetime) -> str:
        return url

    def reply_error(self, data: dict[str, Any]) -> tuple[int, str]:
        return int(data.get(self.code_field, 0) or 0), str(data.get(self.message_field, ""))

    def send(self, note: Note, now: datetime) -> str | None:
        url = self.secret(self.config.webhook_env, f"{self.label}机器人 webhook 地址")
        key = (self.secret(self.config.secret_env, self.secret_what)
               if self.secret_what and self.config.secret_env else None)
        # a signature must be within an hour of the robot's clock: sign with the real send time
        sign_time = datetime.now(now.tzinfo)
        data = post_json(self.signed_url(url, key, sign_time), self.build_body(note, now, key, sign_time),
                         timeout=self.config.timeout_seconds, name=self.label)
        code, message = self.reply_error(data)
        if code != 0:
            raise SendError(f"{self.label}返回错误 {code}: {message}",
                            retry_after=60 if code in self.rate_limited else None)
        return None
