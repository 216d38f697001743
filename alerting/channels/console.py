"""Console channel (demo): a rich panel on standard output. At-least-once (nothing to look up)."""

from __future__ import annotations

from datetime import datetime

from alerting import messages
from alerting.channels.base import Channel, Note

_STYLE = {0: "grey50", 1: "blue", 2: "yellow", 3: "dark_orange", 4: "red"}


class ConsoleChannel(Channel):
    type = "console"

    def send(self, note: Note, now: datetime) -> str | None:
        from rich.console import Console
        from rich.panel import Panel

        text = messages.plain_text(note.payload, now)
        head, _, body = text.partition("\n")
        style = _STYLE.get(int(note.payload.get("severity") or 0), "white")
        Console(highlight=False).print(Panel(body or head, title=head, border_style=style, expand=False))
        return None
