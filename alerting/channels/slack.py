"""Slack through slack-sdk: one Block Kit message per incident, later notifications as thread
replies (``thread_ts`` = the first message's ts, stored as the row's ``external_id``).

Exactly-once: every message carries metadata ``{"event_type": "yuqing_notification",
"event_payload": {"key": <idempotency key>}}``; before re-sending a row that had an earlier
attempt, the sender looks for that key in the channel (or thread) history and, if found,
records the existing ts instead of posting again. A 429 answer's ``Retry-After`` is honoured.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from alerting import messages
from alerting.channels.base import Channel, Note, SendError

EVENT_TYPE = "yuqing_notification"
PERMANENT = {"invalid_auth", "not_authed", "channel_not_found", "not_in_channel", "is_archived",
             "account_inactive", "token_revoked", "invalid_blocks", "msg_too_long", "no_permission"}
BROADCAST_KINDS = {"severity_up", "breach", "escalation", "re_escalation"}


class SlackChannel(Channel):
    type = "slack"
    guarantee = "exactly-once"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            from slack_sdk import WebClient

            token = self.secret(self.config.token_env, "Slack 机器人令牌（token）")
            kwargs: dict[str, Any] = {"token": token, "timeout": int(max(1, self.config.timeout_seconds)),
                                      "retry_handlers": []}  # retries belong to the outbox
            if self.config.base_url:
                kwargs["base_url"] = self.config.base_url.rstrip("/") + "/"
            self._client = WebClient(**kwargs)
        return self._client

    @property
    def channel_id(self) -> str:
        if not self.config.channel:
            raise SendError(f"通道 {self.name} 未配置 Slack 频道（channel）", permanent=True)
        return self.config.channel

    def message(self, note: Note, now: datetime) -> dict[str, Any]:
        payload = note.payload
        mentions = " ".join(f"<@{p.slack_user}>" for p in note.recipients if p.slack_user)
        text = messages.slack_fallback(payload) + (f" {mentions}" if mentions else "")
        colour = messages.SEVERITY_COLOUR.get(int(payload.get("severity") or 0), "#9e9e9e")
        args: dict[str, Any] = {
            "channel": self.channel_id,
            "text": text,  # notification fallback (mrkdwn: escaped title)
            "attachments": [{"color": colour, "blocks": messages.slack_blocks(payload, now)}],
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {
                "key": note.idempotency_key, "notification_id": note.id,
                "incident_id": payload.get("incident_id")}},
            "unfurl_links": False,
        }
        if note.thread_ts:
            args["thread_ts"] = note.thread_ts
            if payload.get("kind") in BROADCAST_KINDS:
                args["reply_broadcast"] = True
        return args

    def send(self, note: Note, now: datetime) -> str | None:
        from slack_sdk.errors import SlackApiError, SlackRequestError

        try:
            response = self.client().chat_postMessage(**self.message(note, now))
        except SlackApiError as exc:
            raise _error(exc) from None
        except SlackRequestError as exc:
            raise SendError(f"Slack 请求无效: {exc}", permanent=True) from None
        except (OSError, TimeoutError) as exc:
            raise SendError(f"Slack 连接失败: {type(exc).__name__}") from None
        return str(response.get("ts"))

    def already_sent(self, note: Note, now: datetime) -> str | None | bool:
        from slack_sdk.errors import SlackApiError

        try:
            if note.thread_ts:
                response = self.client().conversations_replies(
                    channel=self.channel_id, ts=note.thread_ts, include_all_metadata=True, limit=200)
            else:
                since = (note.created_at or now) - timedelta(minutes=5)
                response = self.client().conversations_history(
                    channel=self.channel_id, oldest=f"{since.timestamp():.6f}", include_all_metadata=True,
                    limit=200)
        except (SlackApiError, OSError, TimeoutError):
            return None  # cannot tell: send (at-least-once in this corner)
        for msg in response.get("messages") or []:
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == EVENT_TYPE and \
                    (meta.get("event_payload") or {}).get("key") == note.idempotency_key:
                return str(msg.get("ts"))
        return False


def _error(exc: Any) -> SendError:
    response = exc.response
    status = getattr(response, "status_code", None)
    error = ""
    try:
        error = str(response.get("error") or "")
    except Exception:  # noqa: BLE001 - a non-JSON answer
        error = ""
    if status == 429 or error == "ratelimited":
        headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
        retry_after = headers.get("retry-after")
        try:
            wait = float(retry_after[0] if isinstance(retry_after, list) else retry_after) if retry_after else 60.0
        except ValueError:
            wait = 60.0
        return SendError(f"Slack 限流（HTTP 429），{wait:g} 秒后重试", retry_after=wait)
    return SendError(f"Slack 返回错误: {error or status}", permanent=error in PERMANENT)
