"""The demo instance's configuration: the operator's knobs, an isolated data dir, the replay site.

Written to ``<demo dir>/yuqing.yaml`` so the crawl processes (which read ``YUQING_CONFIG``)
see exactly what the demo process sees. Never touches the operator's database or index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from yuqing.settings import Settings, load_settings, secret

# minutes between crawls of each source on the simulated clock
# (douyin runs in Chromium: the page signs its own API call, as on the real site)
DEMO_INTERVALS = {"weibo_search": 60, "weibo_hot": 60, "weibo_web": 180, "baidu_news": 120,
                  "sogou_weixin": 120, "rss": 120, "tieba": 120, "douyin": 180}
# a browser source loads one page per keyword: the demo searches it for a few words, as an operator would
DEMO_KEYWORDS = {"douyin": ["家暴", "中毒", "幼儿园"]}


def _channels(base: Settings) -> tuple[list[dict[str, Any]], list[str]]:
    """console + file always; Slack/WeCom when the operator's config has them with their secrets set."""
    channels: list[dict[str, Any]] = [
        {"name": "console", "type": "console", "min_severity": 1},
        {"name": "file", "type": "file", "path": "notifications.jsonl", "min_severity": 0},
    ]
    extra: list[str] = []
    for channel in base.channels:
        if channel.type == "slack" and channel.enabled and secret(channel.token_env, base) and channel.channel:
            channels.append(channel.model_dump(exclude_none=True))
            extra.append(f"Slack（{channel.name}）")
        elif channel.type == "wecom" and channel.enabled and secret(channel.webhook_env, base):
            channels.append(channel.model_dump(exclude_none=True))
            extra.append(f"企业微信（{channel.name}）")
    return channels, extra


def write_demo_config(demo_dir: Path, site_url: str, feed_url: str, base: Settings | None = None) -> tuple[Path, list[str]]:
    """The demo config file and the names of the optional channels it enabled."""
    base = base or load_settings()
    data = base.model_dump(mode="json", exclude={"source_path"})
    data["database_url"] = None
    data["data_dir"] = str(demo_dir.resolve())
    data["index"] = {**data["index"], "backend": "embedded", "embedded_dir": "index"}
    # share the converted base model with the operator's instance (one conversion per machine)
    data["classifier"]["base_dir"] = str(base.data_file(base.classifier.base_dir))
    data["classifier"]["model_dir"] = str(base.resolve(base.classifier.model_dir))
    data["playbooks_dir"] = str(base.resolve(base.playbooks_dir))
    data["sources"] = [
        {"name": name, "spider": name, "interval_minutes": minutes, "download_delay": 0, "concurrency": 8,
         "base_url": site_url, **({"feeds": [feed_url]} if name == "rss" else {}),
         **({"keywords": DEMO_KEYWORDS[name]} if name in DEMO_KEYWORDS else {})}
        for name, minutes in DEMO_INTERVALS.items()]
    data["channels"], extra = _channels(base)
    data["notify"] = {**data["notify"], "quiet_hours": None}
    demo_dir.mkdir(parents=True, exist_ok=True)
    path = demo_dir / "yuqing.yaml"
    header = "# 演示实例配置（yuqing demo 自动生成，每次运行覆盖）\n"
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, extra
