"""weibo_web: the desktop search page s.weibo.com/weibo; splits the time range at the page cap."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawlers.selectors import WEIBO_VERIFIED
from crawlers.selectors import WEIBO_WEB as SEL
from crawlers.spiders.base import BaseSpider
from yuqing.timeutil import SHANGHAI

SEARCH_PATH = "/weibo?q={q}&typeall=1&suball=1&timescope=custom:{start}:{end}&page={page}"
_UID = re.compile(r"weibo\.com/(?:u/)?(\d+)")
_FOLD = re.compile(r'<a[^>]*action-type="fl_(?:un)?fold"[^>]*>.*?</a>', re.S)


def post_url(href: str) -> str | None:
    """The public weibo.com URL of a card's time link (without tracking parameters)."""
    if not href:
        return None
    href = href.split("?")[0]
    if href.startswith("//"):
        return "https:" + href
    if href.startswith("/"):
        return "https://weibo.com" + href
    return href


def fmt_hour(dt: datetime) -> str:
    local = dt.astimezone(SHANGHAI)
    return f"{local:%Y-%m-%d}-{local.hour}"


def action_counts(card: Selector) -> dict[str, str]:
    """转发/评论/赞 from the action bar; the label alone means 0 (the pipeline parses counts)."""
    out: dict[str, str] = {}
    kinds = {"forward": "reposts", "comment": "comments", "like": "likes"}
    labels = {"转发": "reposts", "评论": "comments", "赞": "likes"}
    for li in card.css(SEL["actions"]):
        text = " ".join(t.strip() for t in li.css("::text").getall() if t.strip())
        action = li.css("a::attr(action-type)").get() or ""
        field = next((f for k, f in kinds.items() if k in action), None)
        if field is None:
            field = next((f for label, f in labels.items() if text.startswith(label)), None)
        if field is None:
            continue
        for label in labels:
            text = text.replace(label, "")
        out[field] = text.strip() or "0"
    return out


class WeiboWebSpider(BaseSpider):
    name = "weibo_web"
    platform = "weibo"
    site = "https://s.weibo.com"

    def setup(self) -> None:
        super().setup()
        self.range_end = self.ctx.now.astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0) \
            + timedelta(hours=1)
        days = float(getattr(self, "days", None) or self.ctx.option("days", 1))
        self.range_start = (self.since or self.range_end - timedelta(days=days)).astimezone(SHANGHAI) \
            .replace(minute=0, second=0, microsecond=0)

    def page_request(self, keyword: str, start: datetime, end: datetime, page: int) -> scrapy.Request:
        url = self.url(SEARCH_PATH.format(q=quote(keyword), start=fmt_hour(start), end=fmt_hour(end), page=page))
        return scrapy.Request(url, callback=self.parse,
                              cb_kwargs={"keyword": keyword, "start": start, "end": end, "page": page})

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield self.page_request(keyword, self.range_start, self.range_end, 1)

    def parse(self, response: Response, keyword: str, start: datetime, end: datetime,
              page: int) -> Iterator[Any]:
        if response.css(SEL["no_result"]):
            return
        cards = response.css(SEL["card"])
        if not cards:
            self.malformed(response, "搜索页没有找到微博卡片")
            return
        entries: list[tuple[str, Any]] = []
        for card in cards:
            post = self.card_post(response, card)
            if post is None:
                continue
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        has_next = bool(response.css(SEL["next"]).get())
        if not has_next or self.page_exhausted(entries):
            return
        if page >= self.max_pages:
            # the site shows at most ~50 pages: split the time range so hot keywords are complete
            if end - start > timedelta(hours=1):
                middle = start + timedelta(hours=max(1, int((end - start).total_seconds() // 7200)))
                self.crawler.stats.inc_value("yuqing/weibo_web/range_splits")
                yield self.page_request(keyword, middle, end, 1)
                yield self.page_request(keyword, start, middle, 1)
            else:
                self.crawler.stats.inc_value("yuqing/weibo_web/truncated")
            return
        yield self.page_request(keyword, start, end, page + 1)

    def card_post(self, response: Response, card: Selector) -> dict[str, Any] | None:
        mid = card.attrib.get("mid")
        if not mid:
            return None
        author = card.css(SEL["author"])
        text = card.css(SEL["text_full"]) or card.css(SEL["text"])
        link = card.css(SEL["from_link"])
        link = link[0] if link else None
        href = link.attrib.get("href", "") if link is not None else ""
        time_text = " ".join(t.strip() for t in link.css("::text").getall()) if link is not None else None
        avatar = " ".join(card.css(f"{SEL['avatar']} *::attr(class)").getall())
        vtype = next((label for cls, label in WEIBO_VERIFIED.items() if cls in avatar), None)
        author_href = author.attrib.get("href", "") if author else ""
        uid = _UID.search(author_href)
        post: dict[str, Any] = {
            "id": f"weibo:{mid}",
            "platform": "weibo",
            "url": post_url(href),
            "text": _FOLD.sub("", text[0].get()) if text else "",
            "published_at": time_text or None,
            "author": (author.attrib.get("nick-name") or author.css("::text").get()) if author else None,
            "author_id": uid.group(1) if uid else None,
            "author_verified": vtype is not None,
            "author_verified_type": vtype,
            **action_counts(card),
        }
        return {k: v for k, v in post.items() if v is not None}
