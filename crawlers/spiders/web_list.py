"""web_list: a generic list-page → detail-page spider driven by selectors in config/.

A source in config/yuqing.yaml::

    - name: nvxing_forum
      spider: web_list
      args:
        list_urls: [https://bbs.example.cn/forum-12-1.html]
        item: "ul.threads li"             # one element per post on the list page
        link: "a.title::attr(href)"       # detail link (relative or absolute)
        list_title: "a.title::text"       # optional
        list_time: "span.date::text"      # optional
        next: "a.next::attr(href)"        # optional next list page
        title: "h1::text"                 # detail page
        text: "div.content"               # detail page (HTML → text)
        time: "span.time::text"
        author: "span.author::text"
        platform: web                     # optional

Selectors starting with "/" or "(" are XPath, others CSS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from parsel import Selector, SelectorList
from scrapy.http import Response

from crawlers.spiders.base import BaseSpider
from yuqing.errors import ConfigError

REQUIRED = ("list_urls", "item", "link", "text")


def select(node: Selector | Response, query: str | None) -> SelectorList:
    if not query:
        return SelectorList([])
    return node.xpath(query) if query.startswith(("/", "(", "./")) else node.css(query)


def first_html(node: Selector | Response, query: str | None) -> str | None:
    found = select(node, query)
    return found[0].get() if found else None


class WebListSpider(BaseSpider):
    name = "web_list"
    platform = "web"
    site = ""

    def setup(self) -> None:
        super().setup()
        self.conf: dict[str, Any] = dict(self.ctx.source.args) if self.ctx.source else {}
        missing = [key for key in REQUIRED if not self.conf.get(key)]
        if missing:
            raise ConfigError(f"web_list 数据源“{self.ctx.source_name}”缺少选择器配置: {', '.join(missing)}"
                              "（在 config/ 的 sources[].args 中填写）")
        urls = self.conf["list_urls"]
        self.list_urls = [urls] if isinstance(urls, str) else list(urls)
        self.platform = str(self.conf.get("platform", "web"))
        first = urlsplit(self.list_urls[0])
        self.site = f"{first.scheme}://{first.netloc}"  # real_url() maps test/mirror URLs back

    async def start(self) -> Any:
        for url in self.list_urls:
            yield scrapy.Request(self.rewrite(url), callback=self.parse, cb_kwargs={"page": 1})

    def parse(self, response: Response, page: int) -> Iterator[Any]:
        items = select(response, self.conf["item"])
        if not items:
            self.malformed(response, "列表页选择器没有找到条目")
            return
        entries: list[tuple[str, Any]] = []
        for node in items:
            href = select(node, self.conf["link"]).get()
            if not href:
                self.crawler.stats.inc_value("yuqing/errors/item_without_link")
                continue
            url = self.real_url(response.urljoin(href.strip()))
            post_id = f"{self.platform}:" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:20]
            listed_time = (select(node, self.conf.get("list_time")).get() or "").strip() or None
            entries.append((post_id, listed_time))
            if listed_time and self.is_old(listed_time):
                self.crawler.stats.inc_value("yuqing/skipped/older_than_since")
                continue
            listed = {"id": post_id, "url": url, "list_title": select(node, self.conf.get("list_title")).get(),
                      "list_time": listed_time}
            yield scrapy.Request(self.rewrite(url), callback=self.parse_detail, cb_kwargs={"listed": listed})
        next_href = select(response, self.conf.get("next")).get()
        if next_href and page < self.max_pages and not self.page_exhausted(entries):
            yield scrapy.Request(response.urljoin(next_href), callback=self.parse, cb_kwargs={"page": page + 1})

    def parse_detail(self, response: Response, listed: dict[str, Any]) -> Iterator[dict[str, Any]]:
        text = first_html(response, self.conf["text"])
        if text is None:
            self.malformed(response, "详情页选择器没有找到正文")
            return
        title = first_html(response, self.conf.get("title")) or listed.get("list_title") or ""
        post: dict[str, Any] = {
            "id": listed["id"],
            "platform": self.platform,
            "url": listed["url"],
            "title": title,
            "text": text,
            "author": (select(response, self.conf.get("author")).get() or "").strip() or None,
            "published_at": (select(response, self.conf.get("time")).get() or "").strip()
            or listed.get("list_time"),
            "site": self.ctx.source_name,
        }
        post = {k: v for k, v in post.items() if v not in (None, "")}
        post.setdefault("text", "")
        if not self.skip_old(post):
            yield post
