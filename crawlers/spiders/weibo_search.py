"""weibo_search: the m.weibo.cn mobile JSON search API.

Guarantees: every mblog of a card whose ``card_type`` is 9 (number or string, at the top level
or inside ``card_group``) becomes a post; a repost also emits its original (``repost_of`` on the
repost; a deleted or hidden original is not emitted, only referenced); long text comes from
``/statuses/extend``; coarse ``created_at`` forms ("06-27", "15小时前", "昨天 12:30") get the exact
time the 16-digit mid encodes when it agrees; pinned cards (``isTop`` / 置顶) and ads are left out
of the incremental stop (ads are skipped). Paging is type 61 (实时, newest first) by default and
ends at ``cardlistInfo.page`` null, at an empty page or ``{"ok":0}``; ``{"ok":-100}`` and a
redirect to the visitor system or the sign-in page pause the source (a login wall).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.middlewares import captcha_reason
from crawlers.parsing import refine_with_mid
from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/api/container/getIndex?containerid={cid}&page_type=searchall&page={page}"
EXTEND_PATH = "/statuses/extend?id={id}"
SEARCH_TYPES = {"1": "综合", "61": "实时"}
# texts Weibo puts in place of a deleted / hidden original
GONE_TEXTS = ("此微博已被作者删除", "此微博已不可见", "暂时没有这条微博的查看权限", "现已无法查看", "此内容无法访问",
              "该微博因违反")
_MORE = re.compile(r'<a[^>]*href="/status/\d+"[^>]*>\s*全文\s*</a>')  # the "全文" link of a truncated text


def verified_label(user: dict[str, Any]) -> str | None:
    """黄V / 金V (personal, verified_type 0; verified_type_ext 1 = gold) / 蓝V (organisations, 1–7)."""
    if not user.get("verified"):
        return None
    vtype = user.get("verified_type")
    try:
        vtype = int(vtype)
    except (TypeError, ValueError):
        return "认证"
    if vtype == 0:
        return "金V" if str(user.get("verified_type_ext")) == "1" else "黄V"
    if 1 <= vtype <= 7:
        return "蓝V"
    return "认证"


def is_gone(mblog: dict[str, Any]) -> bool:
    """A deleted or hidden post ({"deleted":"1"}, "抱歉，此微博已被作者删除。…")."""
    if str(mblog.get("deleted") or "") in ("1", "true", "True"):
        return True
    text = str(mblog.get("text") or "")
    return text.startswith("抱歉") and any(t in text for t in GONE_TEXTS) or (
        not mblog.get("user") and any(t in text for t in GONE_TEXTS))


def is_pinned(mblog: dict[str, Any]) -> bool:
    title = mblog.get("title") if isinstance(mblog.get("title"), dict) else {}
    return str(mblog.get("isTop") or "") == "1" or title.get("text") == "置顶"


def is_ad(card: dict[str, Any], mblog: dict[str, Any]) -> bool:
    """Promoted cards. Not `ad_state`: the captured 2019 timeline has ad_state 1 on ordinary posts."""
    return any(src.get(k) not in (None, "", 0, "0", False, {}) for src in (card, mblog)
               for k in ("is_ad", "ad_type", "promotion", "ad_marked"))


def weibo_post(mblog: dict[str, Any], now: Any = None) -> dict[str, Any]:
    """A raw post (normalised later by the pipelines) from an mblog object."""
    user = mblog.get("user") if isinstance(mblog.get("user"), dict) else {}
    region = str(mblog.get("region_name") or "").replace("发布于", "").strip()
    created = mblog.get("created_at")
    post: dict[str, Any] = {
        "id": f"weibo:{mblog['id']}",
        "platform": "weibo",
        "url": f"https://m.weibo.cn/detail/{mblog['id']}",
        "text": _MORE.sub("", mblog.get("text") or ""),
        "published_at": refine_with_mid(created, mblog.get("mid") or mblog["id"], now) if now else created,
        "reposts": mblog.get("reposts_count"),
        "comments": mblog.get("comments_count"),
        "likes": mblog.get("attitudes_count"),
        "author": user.get("screen_name"),
        "author_id": str(user["id"]) if user.get("id") is not None else None,
        "author_verified": bool(user["verified"]) if "verified" in user else None,
        "author_verified_label": verified_label(user),
        "author_followers": user.get("followers_count"),
        "bid": mblog.get("bid"),
        "region": region or None,
        "client": mblog.get("source") or None,
        "pinned": True if is_pinned(mblog) else None,
    }
    if user.get("verified_type") is not None:
        post["author_verified_type"] = user.get("verified_type")
    return {k: v for k, v in post.items() if v is not None}


class WeiboSearchSpider(BaseSpider):
    name = "weibo_search"
    platform = "weibo"
    site = "https://m.weibo.cn"

    def setup(self) -> None:
        super().setup()
        # 61 (实时) is newest first, so stopping at `since` / seen posts is safe; 1 (综合) is by relevance
        self.search_type = str(getattr(self, "type", None) or self.ctx.option("type", "61"))
        if not self.ctx.cookie:
            where = (self.ctx.source.cookie_env if self.ctx.source and self.ctx.source.cookie_env
                     else "数据源未配置 cookie_env")
            self.logger.warning("未设置微博登录 Cookie（%s），以游客身份采集，可能被限流", where)

    def page_url(self, keyword: str, page: int) -> str:
        cid = quote(f"100103type={self.search_type}&q={keyword}", safe="")
        return self.url(SEARCH_PATH.format(cid=cid, page=page))

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield scrapy.Request(self.page_url(keyword, 1), callback=self.parse,
                                 cb_kwargs={"keyword": keyword, "page": 1})

    def parse(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            self.malformed(response, "JSON 无法解析")
            return
        if not isinstance(data, dict):
            self.malformed(response, "JSON 不是对象")
            return
        ok = data.get("ok")
        url = str(data.get("url", ""))
        if ok == -100 or "captcha" in url:
            self.ctx.ban(captcha_reason(url) or f"微博要求登录/验证码（ok={ok}）: {url}")
            return
        if ok != 1:
            return  # {"ok":0}: no more results for this keyword
        body = data.get("data") if isinstance(data.get("data"), dict) else {}
        cards = body.get("cards") or []
        entries: list[tuple[str, Any]] = []
        for card, mblog in self._mblogs(cards):
            try:
                if is_ad(card, mblog):
                    self.crawler.stats.inc_value("yuqing/skipped/ad")
                    continue
                if is_gone(mblog):
                    self.crawler.stats.inc_value("yuqing/skipped/deleted")
                    continue
                yield from self._emit(mblog)
                if not is_pinned(mblog):  # an old pinned post says nothing about the next page
                    entries.append((f"weibo:{mblog['id']}", mblog.get("created_at")))
            except Exception as exc:  # one odd card never costs the rest of the page
                self.crawler.stats.inc_value("yuqing/errors/bad_card")
                self.logger.warning("跳过无法识别的微博卡片: %s", exc)
        info = body.get("cardlistInfo")
        next_page = page + 1
        if isinstance(info, dict) and not info.get("since_id"):  # (timelines page by since_id)
            raw = info.get("page")
            if raw in (None, "", 0, "0"):
                return  # cardlistInfo.page null or missing: the last page
            try:  # the next page (2 on page 1 in the captured payloads); a value not ahead is ignored
                next_page = max(int(raw), page + 1)
            except (TypeError, ValueError):
                next_page = page + 1
        if not entries or page >= self.max_pages or self.page_exhausted(entries):
            return
        yield scrapy.Request(self.page_url(keyword, next_page), callback=self.parse,
                             cb_kwargs={"keyword": keyword, "page": next_page})

    @staticmethod
    def _mblogs(cards: list[Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for card in cards:
            if not isinstance(card, dict):
                continue
            group = [card, *[c for c in card.get("card_group") or [] if isinstance(c, dict)]]
            for c in group:
                if str(c.get("card_type")) == "9" and isinstance(c.get("mblog"), dict):
                    yield c, c["mblog"]

    def _emit(self, mblog: dict[str, Any]) -> Iterator[Any]:
        now = self.ctx.now
        post = weibo_post(mblog, now)
        original = mblog.get("retweeted_status")
        if isinstance(original, dict) and original.get("id") is not None:
            post["repost_of"] = f"weibo:{original['id']}"
            if is_gone(original):
                post["repost_of_deleted"] = True
                self.crawler.stats.inc_value("yuqing/skipped/deleted")
            else:
                orig_post = weibo_post(original, now)
                orig_post.pop("pinned", None)
                post["_context_text"] = original.get("text") or ""
                orig_post["_context_text"] = mblog.get("text") or ""
                yield from self._maybe_extend(original, orig_post)
        yield from self._maybe_extend(mblog, post)

    def _maybe_extend(self, mblog: dict[str, Any], post: dict[str, Any]) -> Iterator[Any]:
        if self.skip_old(post):
            return
        inline = mblog.get("longText") if isinstance(mblog.get("longText"), dict) else {}
        if inline.get("longTextContent"):  # some endpoints carry the full text inline
            post["text"] = inline["longTextContent"]
            yield post
        elif mblog.get("isLongText"):
            yield scrapy.Request(self.url(EXTEND_PATH.format(id=mblog["id"])), callback=self.parse_extend,
                                 errback=self.extend_failed, cb_kwargs={"post": post},
                                 meta={"post": post}, dont_filter=True)
        else:
            yield post

    def parse_extend(self, response: Response, post: dict[str, Any]) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
            body = data.get("data") if data.get("ok") == 1 and isinstance(data.get("data"), dict) else {}
            full = body.get("longTextContent")
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            full, body = None, {}
        if full:
            post["text"] = full
            for key, field in (("reposts_count", "reposts"), ("comments_count", "comments"),
                               ("attitudes_count", "likes")):
                if body.get(key) is not None:  # fresher counts come with the long text
                    post[field] = body[key]
        else:
            self.crawler.stats.inc_value("yuqing/errors/long_text_missing")
        yield post

    def extend_failed(self, failure: Any) -> Iterator[Any]:
        """The long text could not be fetched: keep the truncated post rather than lose it."""
        self.crawler.stats.inc_value("yuqing/errors/long_text_missing")
        post = failure.request.meta.get("post")
        if post is not None:
            yield post
