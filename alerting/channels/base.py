"""The one small base class every channel implements (the registry is alerting/channels/registry.py).

Delivery guarantees (see also alerting/sender.py):

* ``send`` is called only for a row this worker claimed; it returns an external id (or None).
* ``already_sent`` is asked before re-sending a row whose previous claim went stale (a worker
  died after claiming it). A channel that can look its own messages up answers from the remote
  side (Slack: message metadata; file: the exact line) and so is exactly-once; the others answer
  ``None`` ("cannot tell") and are at-least-once in that narrow window (send done, mark lost).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from yuqing.settings import ChannelSettings, Person, Settings, secret


class SendError(Exception):
    """A failed delivery. ``retry_after`` (seconds) when the remote side asked us to wait;
    ``permanent`` when retrying cannot help (bad token, unknown channel)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


@dataclass
class Note:
    """One outbox row as a channel sees it."""

    id: int
    dedupe_key: str
    kind: str
    channel: str
    payload: dict[str, Any]
    recipients: list[Person] = field(default_factory=list)
    thread_ts: str | None = None  # Slack: the incident's first message
    created_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """Stable per notification and channel (e.g. the e-mail Message-ID)."""
        return hashlib.sha256(self.dedupe_key.encode("utf-8")).hexdigest()[:32]


class Channel:
    type: ClassVar[str] = ""
    guarantee: ClassVar[str] = "at-least-once"

    def __init__(self, config: ChannelSettings, settings: Settings) -> None:
        self.config = config
        self.settings = settings

    @property
    def name(self) -> str:
        return self.config.name

    def secret(self, env_name: str | None, what: str) -> str:
        value = secret(env_name, self.settings)
        if not value:
            raise SendError(f"通道 {self.name} 缺少{what}：请设置环境变量 {env_name or '(未配置)'}"
                            f"（或写入 config/secrets.env）")
        return value

    def send(self, note: Note, now: datetime) -> str | None:
        raise NotImplementedError

    def already_sent(self, note: Note, now: datetime) -> str | None | bool:
        """After a stale claim: the external id (or True) if the note is known delivered,
        False if known not delivered, None when the channel cannot tell."""
        return None

    def close(self) -> None:
        return None
