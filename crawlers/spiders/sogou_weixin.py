"""sogou_weixin: WeChat articles found through weixin.sogou.com (type=2: articles)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.selectors import SOGOU_TIME
from crawlers.selectors import SOGOU_WEIXIN as SEL
from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/weixin?type=2&query={q}&page={page}"
_TIME = re.compile(SOGOU_TIME)


class SogouWeixinSpider(BaseSpider):
    name = "sogou_weixin"
    platform = "wechat"
    site = "https://weixin.sogou.com"

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(self.url(SEARCH_PATH.format(q=quote(keyword), page=page)), callback=self.parse,
                              cb_kwargs={"keyword": keyword, "page": page})

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield self.page_request(keyword, 1)

    def parse(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        items = response.css(SEL["item"])
        entries: list[tuple[str, Any]] = []
        for li in items:
            link = li.css(SEL["title_link"])
            if not link:
                continue
            title_html = link[0].get()
            account = (li.css(SEL["account"]).get() or "").strip() or None
            script = " ".join(li.css(SEL["time_script"]).getall())
            match = _TIME.search(script)
            stamp = match.group(1) if match else li.css(SEL["time_attr"]).get()
            href = link[0].attrib.get("href", "")
            title_key = re.sub(r"<[^>]+>", "", title_html).strip()
            digest = hashlib.sha1(f"{account or ''}\n{title_key}".encode()).hexdigest()[:20]
            summary = li.css(SEL["summary"])
            post: dict[str, Any] = {
                "id": f"wechat:{digest}",
                "platform": self.platform,
                "url": self.real_url(response.urljoin(href)) if href else None,
                "title": title_html,
                "text": summary[0].get() if summary else "",
                "author": account,
                "published_at": stamp or None,
            }
            post = {k: v for k, v in post.items() if v is not None}
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        if not entries:
            if not items and not response.css(SEL["no_result"]) and not response.css(SEL["list"]):
                self.malformed(response, "搜狗微信结果页没有找到文章列表")
            return
        if response.css(SEL["next"]).get() and page < self.max_pages and not self.page_exhausted(entries):
            yield self.page_request(keyword, page + 1)
