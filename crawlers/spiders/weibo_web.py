"""weibo_web: the desktop search page s.weibo.com/weibo; splits the time range at the page cap.

Guarantees per card (div.card-wrap[mid]), in the markups of 2018 (p.from, i.icon-vip-b, a.name)
and of today (div.from, svg#woo_svg_v…, a[nick-name]): ``url`` and ``published_at`` from the
first link of ``.from`` (the exact time the mid encodes when the shown one is coarse), the full
text when the card has one (``p.txt[node-type=feed_list_content_full]``), counts from the
``action-type`` links, ``author_verified`` / ``author_verified_type`` (蓝V 黄V 红V 金V) from the
badge. A repost also emits its original (from div.card-comment) and carries ``repost_of``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawlers.parsing import refine_with_mid
from crawlers.selectors import WEIBO_OWN, WEIBO_VERIFIED
from crawlers.selectors import WEIBO_WEB as SEL
from crawlers.spiders.base import BaseSpider
from yuqing.timeutil import SHANGHAI

SEARCH_PATH = "/weibo?q={q}&typeall=1&suball=1&timescope=custom:{start}:{end}&page={page}"
_UID = re.compile(r"weibo\.com/(?:u/)?(\d+)|^/(?:u/)?(\d+)")
_FOLD = re.compile(r'<a[^>]*action-type="fl_(?:un)?fold"[^>]*>.*?</a>', re.S)
_ICON = re.compile(r'<i[^>]*class="[^"]*wbicon[^"]*"[^>]*>.*?</i>', re.S)  # icon-font glyphs ("2" = 📍)
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BID = re.compile(r"^[0-9A-Za-z]{8,10}$")
_MID_DATA = re.compile(r"(?:^|&)mid=(\d+)")


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


def bid_to_mid(bid: str) -> str | None:
    """The numeric mid of a base62 bid ("GFHQlFsjb" → "4299399859880269"): 4-character groups
    from the right, each a base62 number written as 7 decimal digits (the first unpadded)."""
    if not _BID.match(bid or ""):
        return None
    groups = []
    while bid:
        groups.insert(0, bid[-4:])
        bid = bid[:-4]
    out = ""
    for i, group in enumerate(groups):
        value = 0
        for ch in group:
            value = value * 62 + _BASE62.index(ch)
        out += str(value) if i == 0 else str(value).zfill(7)
    return out


def fmt_hour(dt: datetime) -> str:
    local = dt.astimezone(SHANGHAI)
    return f"{local:%Y-%m-%d}-{local.hour}"


def _text_of(node: Selector | None) -> str:
    return " ".join(t.strip() for t in node.xpath(".//text()").getall() if t.strip()) if node is not None else ""


def _count(node: Selector | None, label: str) -> str | None:
    """"转发 28" → "28"; the label alone ("评论 ", "转发") means 0; no link → unknown."""
    if node is None:
        return None
    text = _text_of(node).replace(label, "").strip()
    return text or "0"


def _first(nodes: Any) -> Selector | None:
    return nodes[0] if nodes else None


def badge(node: Selector, own: bool = True) -> str | None:
    """蓝V / 黄V / 红V / 金V from the card's own badge (svg id or href, i.icon-vip-*, link title);
    own=False: anywhere in the node (the reposted original's block)."""
    for query in ("badge_svg", "badge_class", "badge_title"):
        xpath = SEL[query] if own else SEL[query].replace(WEIBO_OWN, "")
        for value in node.xpath(xpath).getall():
            label = next((lab for frag, lab in WEIBO_VERIFIED.items() if frag in value), None)
            if label:
                return label
    return None


def uid_of(href: str) -> str | None:
    match = _UID.search(href or "")
    return (match.group(1) or match.group(2)) if match else None


def clean_html(markup: str) -> str:
    return _ICON.sub("", _FOLD.sub("", markup))


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
            try:
                posts = self.card_posts(card)
            except Exception as exc:  # one odd card never costs the rest of the page
                self.crawler.stats.inc_value("yuqing/errors/bad_card")
                self.logger.warning("跳过无法识别的微博卡片: %s", exc)
                continue
            if posts:
                entries.append((posts[-1]["id"], posts[-1].get("published_at")))
            for post in posts:
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

    def card_posts(self, card: Selector) -> list[dict[str, Any]]:
        """The card's post, preceded by its reposted original when it has one."""
        mid = card.attrib.get("mid")
        if not mid:
            return []
        now = self.ctx.now
        author = _first(card.xpath(SEL["author"])) or _first(card.xpath(SEL["author_fallback"]))
        text = (_first(card.xpath(SEL["text_full"])) or _first(card.xpath(SEL["text"]))
                or _first(card.xpath(SEL["text_any"])))
        link = _first(card.xpath(SEL["from_link"]))
        href = link.attrib.get("href", "") if link is not None else ""
        time_text = _text_of(link) or None
        vtype = badge(card)
        author_href = author.attrib.get("href", "") if author is not None else ""
        name = author.attrib.get("nick-name") or _text_of(author) if author is not None else None
        if not name:
            name = card.xpath(SEL["author_attr"] + "/@nick-name").get()
        post: dict[str, Any] = {
            "id": f"weibo:{mid}",
            "platform": "weibo",
            "url": post_url(href),
            "text": clean_html(text.get()) if text is not None else "",
            "published_at": refine_with_mid(time_text, mid, now),
            "author": name or None,
            "author_id": uid_of(author_href),
            "author_verified": vtype is not None,
            "author_verified_type": vtype,
            "author_verified_label": vtype,
            "reposts": _count(_first(card.xpath(SEL["forward"])), "转发"),
            "comments": _count(_first(card.xpath(SEL["comment"])), "评论"),
            "likes": _count(_first(card.xpath(SEL["like"])), "赞"),
        }
        out: list[dict[str, Any]] = []
        repost = _first(card.xpath(SEL["repost"]))
        original = self.original_post(repost) if repost is not None else None
        if original is not None:
            post["repost_of"] = original["id"]
            post["_context_text"] = original["text"]
            original["_context_text"] = post["text"]
            out.append(original)
        out.append({k: v for k, v in post.items() if v is not None})
        return out

    def original_post(self, node: Selector) -> dict[str, Any] | None:
        """The reposted original inside div.card-comment (id from the like link or the bid)."""
        link = _first(node.xpath(SEL["orig_from_link"]))
        href = link.attrib.get("href", "") if link is not None else ""
        like_data = node.xpath(SEL["orig_like_data"]).get() or ""
        match = _MID_DATA.search(like_data)
        bid = (post_url(href) or "").rstrip("/").rsplit("/", 1)[-1]
        mid = match.group(1) if match else bid_to_mid(bid)
        if not mid:
            return None
        author = _first(node.xpath(SEL["orig_author"]))
        vtype = badge(node, own=False)
        text = _first(node.xpath(SEL["orig_text_full"])) or _first(node.xpath(SEL["orig_text"]))
        counts: dict[str, str] = {}
        for li in node.xpath(SEL["orig_acts"]):
            words = _text_of(li)
            for label, field in (("转发", "reposts"), ("评论", "comments"), ("赞", "likes")):
                if words.startswith(label) or (field == "likes" and li.xpath(".//a[@action-type='feed_list_like']")):
                    counts.setdefault(field, words.replace(label, "").strip() or "0")
                    break
        post: dict[str, Any] = {
            "id": f"weibo:{mid}",
            "platform": "weibo",
            "url": post_url(href),
            "text": clean_html(text.get()) if text is not None else "",
            "published_at": refine_with_mid(_text_of(link) or None, mid, self.ctx.now),
            "author": (author.attrib.get("nick-name") or _text_of(author)) if author is not None else None,
            "author_id": uid_of(author.attrib.get("href", "")) if author is not None else None,
            "author_verified": vtype is not None,
            "author_verified_type": vtype,
            "author_verified_label": vtype,
            **counts,
        }
        return {k: v for k, v in post.items() if v not in (None, "")} | {"text": post["text"]}
