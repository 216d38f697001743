"""rss: RSS 2.0 / Atom feeds (UTF-8, GBK, GB2312), filtered by the keyword schemes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response

from crawlers.spiders.base import BaseSpider, split_arg

_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9_\-]+)["']""")
# GB2312 feeds routinely contain GBK characters; GB18030 decodes all of them
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030"}


def decode_feed(body: bytes, header_charset: str | None) -> str:
    match = _DECL.match(body)
    declared = match.group(1).decode("ascii").lower() if match else None
    encoding = declared or (header_charset or "utf-8").lower()
    encoding = _SUPERSETS.get(encoding, encoding)
    try:
        text = body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        text = body.decode("utf-8", errors="replace")
    # the text is already decoded: drop the declaration so the XML parser does not re-decode
    return re.sub(r"""^\s*<\?xml[^>]*\?>""", "", text, count=1)


class RssSpider(BaseSpider):
    name = "rss"
    platform = "rss"
    site = ""

    def __init__(self, feeds: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds_arg = split_arg(feeds)

    def setup(self) -> None:
        super().setup()
        self.feeds = self.feeds_arg or (list(self.ctx.source.feeds) if self.ctx.source else [])
        if not self.feeds:
            self.logger.warning("没有配置 RSS 源（config/ 中 sources 的 feeds，或 -a feeds=URL,URL）")

    async def start(self) -> Any:
        for feed in self.feeds:
            yield scrapy.Request(self.rewrite(feed), callback=self.parse, cb_kwargs={"feed": feed})

    def parse(self, response: Response, feed: str) -> Iterator[dict[str, Any]]:
        charset = None
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if "charset=" in content_type:
            charset = content_type.split("charset=")[-1].split(";")[0].strip()
        parsed = feedparser.parse(decode_feed(response.body, charset))
        if not parsed.entries:
            if parsed.bozo:
                self.malformed(response, f"RSS 无法解析: {parsed.get('bozo_exception')}")
            return
        outlet = parsed.feed.get("title")
        for entry in parsed.entries:
            link = entry.get("link") or entry.get("id")
            if not link:
                self.crawler.stats.inc_value("yuqing/errors/entry_without_link")
                continue
            content = entry.get("content")
            body = content[0].get("value") if content else entry.get("summary", "")
            post: dict[str, Any] = {
                "id": "rss:" + hashlib.sha1(str(entry.get("id") or link).encode("utf-8")).hexdigest()[:20],
                "platform": self.platform,
                "url": link,
                "title": entry.get("title") or "",
                "text": body or entry.get("title") or "",
                "author": entry.get("author") or outlet,
                "outlet": outlet,
                "feed": feed,
                "published_at": entry.get("published") or entry.get("updated") or None,
            }
            post = {k: v for k, v in post.items() if v is not None}
            if not self.skip_old(post):
                yield post
