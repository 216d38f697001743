"""Notification channels: one module per channel behind :class:`alerting.channels.base.Channel`."""

from __future__ import annotations

from alerting.channels.base import Channel, Note, SendError, make_channel

__all__ = ["Channel", "Note", "SendError", "make_channel"]
