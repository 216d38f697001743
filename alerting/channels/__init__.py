"""Notification channels: one module per channel behind :class:`alerting.channels.base.Channel`,
registered by type in :mod:`alerting.channels.registry`."""

from __future__ import annotations

from alerting.channels.base import Channel, Note, SendError
from alerting.channels.registry import make_channel

__all__ = ["Channel", "Note", "SendError", "make_channel"]
