"""The channel registry: each channel class under its ``type`` (the ``channels[].type`` setting).

Kept apart from the base class, as ElastAlert2 keeps ``alerts_mapping`` apart from ``Alerter``:
the base never imports a channel, and a new channel is one module plus one line here.
"""

from __future__ import annotations

from alerting.channels.base import Channel
from alerting.channels.console import ConsoleChannel
from alerting.channels.dingtalk import DingTalkChannel
from alerting.channels.email import EmailChannel
from alerting.channels.feishu import FeishuChannel
from alerting.channels.file import FileChannel
from alerting.channels.slack import SlackChannel
from alerting.channels.wecom import WeComChannel
from yuqing.settings import ChannelSettings, Settings

CHANNEL_TYPES: dict[str, type[Channel]] = {
    cls.type: cls
    for cls in (ConsoleChannel, FileChannel, SlackChannel, WeComChannel, DingTalkChannel, FeishuChannel, EmailChannel)
}


def make_channel(config: ChannelSettings, settings: Settings) -> Channel:
    """The channel object for one ``channels[]`` entry (its type is validated by the settings)."""
    return CHANNEL_TYPES[config.type](config, settings)
