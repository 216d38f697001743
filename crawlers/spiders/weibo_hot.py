"""weibo_hot: the Weibo hot-search list; every topic is a post (kept whatever the keywords)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.parsing import iso
from crawlers.spiders.base import BaseSpider


class WeiboHotSpider(BaseSpider):
    name = "weibo_hot"
    platform = "weibo_hot"
    site = "https://weibo.com"
    keep_unmatched = True  # the alert engine matches topics to incidents

    async def start(self) -> Any:
        yield scrapy.Request(self.url("/ajax/side/hotSearch"), callback=self.parse)

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        try:
            data = json.loads(response.text)
            realtime = data["data"]["realtime"]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            self.malformed(response, "热搜 JSON 无法解析")
            return
        if data.get("ok") == -100:
            self.ctx.ban(f"微博要求验证码（ok=-100）: {data.get('url', '')}")
            return
        now = iso(self.ctx.now)
        for entry in realtime if isinstance(realtime, list) else []:
            if not isinstance(entry, dict) or not entry.get("word") or entry.get("is_ad"):
                continue
            word = str(entry["word"]).strip()
            post: dict[str, Any] = {
                "id": f"weibo_hot:{word}",
                "platform": self.platform,
                "url": f"https://s.weibo.com/weibo?q={quote('#' + word + '#')}",
                "title": word,
                "text": word,
                "published_at": now,
                "views": entry.get("num"),  # heat
                "rank": entry.get("rank"),
                "label": entry.get("label_name") or None,
            }
            yield {k: v for k, v in post.items() if v is not None}
