"""weibo_hot: the Weibo hot-search list (weibo.com/ajax/side/hotSearch); every topic is a post.

Guarantees, per topic of ``data.realtime``: ``rank`` is the 1-based position on the list
(``realpos``, else the zero-based ``rank`` + 1, else the place in the list), ``label`` is
沸/热/新/爆… (``label_name``, else ``icon_desc``), ``onboard_at`` is when it entered the list,
``views`` is the heat (``num``). Ads (``is_ad``, ``ad_type``, a non-empty ``ad_info``) are
skipped and counted (``yuqing/skipped/ad``). Pinned government topics (``data.hotgov`` /
``data.hotgovs``) are emitted with ``pinned: true`` and no rank. Topics are kept whatever the
keywords: the alert engine matches them to incidents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.parsing import iso, parse_date
from crawlers.spiders.base import BaseSpider

AD_FIELDS = ("is_ad", "ad_type", "ad_info")


def is_ad(entry: dict[str, Any]) -> bool:
    return any(entry.get(key) not in (None, "", 0, "0", False) for key in AD_FIELDS)


def position(entry: dict[str, Any], index: int) -> int:
    """1-based place on the list: realpos, else Weibo's zero-based rank + 1, else the index + 1."""
    for key, offset in (("realpos", 0), ("rank", 1)):
        value = entry.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip().isdigit():
            return int(value) + offset
    return index + 1


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
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            self.malformed(response, "热搜 JSON 无法解析")
            return
        if isinstance(data, dict) and data.get("ok") == -100:
            self.ctx.ban(f"微博要求登录/验证码（ok=-100）: {data.get('url', '')}")
            return
        body = data.get("data") if isinstance(data, dict) else None
        realtime = body.get("realtime") if isinstance(body, dict) else None
        if not isinstance(realtime, list):
            self.malformed(response, "热搜 JSON 没有 data.realtime 列表")
            return
        pinned = body.get("hotgovs") if isinstance(body.get("hotgovs"), list) else []
        if isinstance(body.get("hotgov"), dict):
            pinned = [body["hotgov"], *pinned]
        seen: set[str] = set()
        for entry in pinned:
            post = self.topic(entry, None) if isinstance(entry, dict) else None
            if post and post["id"] not in seen:
                seen.add(post["id"])
                yield post
        for index, entry in enumerate(realtime):
            if not isinstance(entry, dict):
                continue
            if is_ad(entry):
                self.crawler.stats.inc_value("yuqing/skipped/ad")
                continue
            post = self.topic(entry, position(entry, index))
            if post and post["id"] not in seen:
                seen.add(post["id"])
                yield post

    def topic(self, entry: dict[str, Any], rank: int | None) -> dict[str, Any] | None:
        word = str(entry.get("word") or entry.get("note") or "").strip().strip("#").strip()
        if not word:
            return None
        onboard = entry.get("onboard_time")
        try:
            onboard_at = iso(parse_date(onboard, self.ctx.now)) if onboard not in (None, "", 0) else None
        except ValueError:
            onboard_at = None
        post: dict[str, Any] = {
            "id": f"weibo_hot:{word}",
            "platform": self.platform,
            "url": f"https://s.weibo.com/weibo?q={quote('#' + word + '#')}",
            "title": word,
            "text": word,
            "published_at": iso(self.ctx.now),
            "views": entry.get("num") if entry.get("num") not in ("", None) else entry.get("raw_hot"),  # heat
            "rank": rank,
            "pinned": True if rank is None else None,
            "label": (entry.get("label_name") or entry.get("icon_desc") or entry.get("small_icon_desc")
                      or None),
            "onboard_at": onboard_at,
            "category": entry.get("category") or entry.get("flag_desc") or None,
        }
        return {k: v for k, v in post.items() if v is not None}
