"""baidu_news: Baidu news search, newest first (tn=news&rtt=4)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.selectors import BAIDU_NEWS as SEL
from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/s?tn=news&rtt=4&word={q}&pn={pn}"


def url_id(prefix: str, url: str) -> str:
    return f"{prefix}:{hashlib.sha1(url.encode('utf-8')).hexdigest()[:20]}"


class BaiduNewsSpider(BaseSpider):
    name = "baidu_news"
    platform = "news"
    site = "https://www.baidu.com"

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        url = self.url(SEARCH_PATH.format(q=quote(keyword), pn=10 * (page - 1)))
        return scrapy.Request(url, callback=self.parse, cb_kwargs={"keyword": keyword, "page": page})

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield self.page_request(keyword, 1)

    def parse(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        results = response.css(SEL["result"])
        entries: list[tuple[str, Any]] = []
        for result in results:
            link = result.css(SEL["title_link"])
            if not link:
                continue
            href = link[0].attrib.get("href", "")
            if not href:
                continue
            url = response.urljoin(href)
            summary = result.css(SEL["summary"])
            post: dict[str, Any] = {
                "id": url_id("news", url),
                "platform": self.platform,
                "url": url,
                "title": link[0].get(),
                "text": summary[0].get() if summary else "",
                "author": (result.css(SEL["source"]).get() or "").strip() or None,
                "published_at": (result.css(SEL["time"]).get() or "").strip() or None,
            }
            post = {k: v for k, v in post.items() if v is not None}
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        if not entries:
            if not results and not response.css(SEL["no_result"]):
                self.malformed(response, "百度新闻结果页没有找到结果")
            return
        has_next = any(SEL["next_label"] in "".join(a.css("::text").getall()) for a in response.css(SEL["next"]))
        if has_next and page < self.max_pages and not self.page_exhausted(entries):
            yield self.page_request(keyword, page + 1)
