"""sogou_weixin: WeChat articles found through weixin.sogou.com (type=2: articles).

Guarantees per result (ul.news-list li): ``title``, ``text`` (p.txt-info), ``author`` (the
account), ``published_at`` (``timeConvert('<epoch>')``), a stable ``id`` from account + title.
Result links are ``/link?url=…`` jump links that expire: with ``resolve_links`` (default on) the
jump page is fetched and the article URL it builds in script (``url += '…'`` pieces) becomes
``url`` (``jump_url`` keeps the jump link; ``url_temporary`` marks a signed mp.weixin.qq.com
link); when that fails the jump link stays in ``url`` with ``url_expires: true``. Antispider
redirects and 200 seccode pages pause the source (crawlers.middlewares).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.selectors import SOGOU_JUMP, SOGOU_JUMP_PIECE, SOGOU_TIME
from crawlers.selectors import SOGOU_WEIXIN as SEL
from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/weixin?type=2&query={q}&page={page}"
_TIME = re.compile(SOGOU_TIME)
_PIECE = re.compile(SOGOU_JUMP_PIECE)
_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.S | re.I)


def jump_target(page: str) -> str | None:
    """The article URL a Sogou jump page assembles in script, or None."""
    scripts = _SCRIPT.findall(page or "")
    url = next((u for u in ("".join(_PIECE.findall(script)) for script in scripts) if u), "")
    return url if url.startswith(("http://", "https://")) else None


class SogouWeixinSpider(BaseSpider):
    name = "sogou_weixin"
    platform = "wechat"
    site = "https://weixin.sogou.com"

    def setup(self) -> None:
        super().setup()
        value = getattr(self, "resolve_links", None)
        if value is None:
            value = self.ctx.option("resolve_links", True)
        self.resolve = str(value).lower() not in ("0", "false", "no")

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
            if self.skip_old(post):
                continue
            if href and SOGOU_JUMP in href:
                if self.resolve:
                    yield scrapy.Request(response.urljoin(href), callback=self.parse_jump, errback=self.jump_failed,
                                         cb_kwargs={"post": post}, meta={"post": post}, dont_filter=True,
                                         headers={"Referer": response.url})
                    continue
                post["url_expires"] = True
            yield post
        if not entries:
            if not items and not response.css(SEL["no_result"]) and not response.css(SEL["list"]):
                self.malformed(response, "搜狗微信结果页没有找到文章列表")
            return
        if response.css(SEL["next"]).get() and page < self.max_pages and not self.page_exhausted(entries):
            yield self.page_request(keyword, page + 1)

    def parse_jump(self, response: Response, post: dict[str, Any]) -> Iterator[Any]:
        target = jump_target(response.text)
        if target is None:
            yield self._unresolved(post)
            return
        post["jump_url"] = post.get("url")
        post["url"] = target
        if "signature=" in target or "timestamp=" in target:
            post["url_temporary"] = True  # a signed link (src=11&timestamp=…&signature=…) also expires
        yield post

    def jump_failed(self, failure: Any) -> Iterator[Any]:
        post = failure.request.meta.get("post")
        if post is not None:
            yield self._unresolved(post)

    def _unresolved(self, post: dict[str, Any]) -> dict[str, Any]:
        self.crawler.stats.inc_value("yuqing/errors/jump_link_unresolved")
        post["url_expires"] = True
        return post
