"""File channel: one JSON line per notification, exactly the contract's notify-file line.

Exactly-once: a re-sent row (after a stale claim) first looks for its own line in the file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from alerting.channels.base import Channel, Note, SendError
from alerting.outbox import contract_line


def line_for(note: Note) -> str:
    return json.dumps(contract_line(note.payload), ensure_ascii=False, sort_keys=False)


class FileChannel(Channel):
    type = "file"
    guarantee = "exactly-once"

    @property
    def path(self) -> Path:
        return self.settings.data_file(self.config.path or "notifications.jsonl")

    def send(self, note: Note, now: datetime) -> str | None:
        line = line_for(note)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise SendError(f"无法写入通知文件 {self.path}: {exc.strerror or exc}") from None
        return None

    def already_sent(self, note: Note, now: datetime) -> bool:
        if not self.path.exists():
            return False
        line = line_for(note)
        with self.path.open(encoding="utf-8") as fh:
            return any(existing.rstrip("\n") == line for existing in fh)
