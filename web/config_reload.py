"""Pure ASGI middleware: the web process follows the configuration version in force (at most one
check per ``every_seconds``), so `yuqing serve` without the scheduler also sees a change recorded by
another process (`yuqing config import`, another web instance) within a minute."""

from __future__ import annotations

import time
from typing import Any

import anyio

from yuqing import config_store

CHECK_SECONDS = 20.0


class ConfigReload:
    def __init__(self, app: Any, rt: Any, every_seconds: float = CHECK_SECONDS) -> None:
        self.app, self.rt, self.every = app, rt, every_seconds
        self.checked_at = float("-inf")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and time.monotonic() >= self.checked_at + self.every:
            self.checked_at = time.monotonic()  # the database is asked in a worker thread, at most every period
            await anyio.to_thread.run_sync(config_store.reload_if_due, self.rt, 0.0)
        await self.app(scope, receive, send)
