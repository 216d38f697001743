"""tieba: Baidu Tieba's site-wide search (tieba.baidu.com/f/search/res), newest first (sm=1).

Guarantees, per hit (div.s_post): ``id`` ``tieba:<pid>`` for a reply hit (``?pid=`` in the
link) or ``tieba:<tid>`` for a thread, ``url`` the public thread (or reply) URL, ``title`` without
the "回复:" prefix (``is_reply`` marks replies, ``thread_id`` names the thread), ``text`` the
snippet, ``forum`` the 吧 name, ``author``, ``published_at`` from "YYYY-MM-DD HH:MM" (Beijing).
Paging follows ``a.next`` up to ``max_pages`` and stops at `since` / posts already stored.
A redirect to wappass.baidu.com or a 200 "百度安全验证" page pauses the source (middleware);
a logged-in cookie (BDUSS, from ``cookie_env``) makes the search usable for longer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.selectors import TIEBA as SEL
from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/f/search/res?ie=utf-8&qw={q}&rn={rn}&pn={page}&sm=1"
_TID = re.compile(r"/p/(\d+)")
_REPLY = re.compile(r"^\s*回复[:：]\s*")


def hit_ids(href: str, data_tid: str | None) -> tuple[str | None, str | None]:
    """(thread id, post id) of a result link such as /p/6792193701?pid=133584103476&cid=…#…"""
    match = _TID.search(href or "")
    tid = match.group(1) if match else (data_tid or None)
    pid = (parse_qs(urlsplit(href or "").query).get("pid") or [None])[0]
    return tid, pid if pid and pid.isdigit() else None


class TiebaSpider(BaseSpider):
    name = "tieba"
    platform = "tieba"
    site = "https://tieba.baidu.com"

    def setup(self) -> None:
        super().setup()
        self.rows = int(getattr(self, "rn", None) or self.ctx.option("rn", 20))

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(self.url(SEARCH_PATH.format(q=quote(keyword), rn=self.rows, page=page)),
                              callback=self.parse, cb_kwargs={"keyword": keyword, "page": page})

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield self.page_request(keyword, 1)

    def parse(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        hits = response.css(SEL["post"])
        entries: list[tuple[str, Any]] = []
        for hit in hits:
            post = self.hit_post(hit)
            if post is None:
                self.crawler.stats.inc_value("yuqing/errors/bad_card")
                continue
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        if not entries:
            if not hits and not response.css(SEL["list"]) and SEL["no_result"] not in response.text:
                self.malformed(response, "贴吧搜索结果页没有找到结果列表")
            return
        if response.css(SEL["next"]).get() and page < self.max_pages and not self.page_exhausted(entries):
            yield self.page_request(keyword, page + 1)

    def hit_post(self, hit: Any) -> dict[str, Any] | None:
        link = hit.css(SEL["title_link"])
        if not link:
            return None
        href = link[0].attrib.get("href", "")
        tid, pid = hit_ids(href, link[0].attrib.get("data-tid"))
        if not tid:
            return None
        title_text = re.sub(r"<[^>]+>", "", link[0].get())
        is_reply = bool(_REPLY.match(title_text))
        content = hit.css(SEL["content"])
        author = " ".join(t.strip() for t in hit.css(SEL["author"]).getall() if t.strip())
        forum = " ".join(t.strip() for t in hit.css(SEL["forum"]).getall() if t.strip())
        post: dict[str, Any] = {
            "id": f"tieba:{pid or tid}",
            "platform": self.platform,
            "url": f"{self.site}/p/{tid}" + (f"?pid={pid}#{pid}" if pid else ""),
            "title": _REPLY.sub("", title_text),
            "text": content[0].get() if content else "",
            "author": author or None,
            "forum": forum or None,
            "published_at": (hit.css(SEL["date"]).get() or "").strip() or None,
            "thread_id": f"tieba:{tid}",
            "is_reply": is_reply,
        }
        return {k: v for k, v in post.items() if v is not None}
