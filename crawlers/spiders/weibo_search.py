"""weibo_search: the m.weibo.cn mobile JSON search API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers.spiders.base import BaseSpider

SEARCH_PATH = "/api/container/getIndex?containerid={cid}&page_type=searchall&page={page}"
EXTEND_PATH = "/statuses/extend?id={id}"
SEARCH_TYPES = {"1": "综合", "61": "实时"}


def weibo_post(mblog: dict[str, Any]) -> dict[str, Any]:
    """A raw post (normalised later by the pipelines) from an mblog object."""
    user = mblog.get("user") if isinstance(mblog.get("user"), dict) else {}
    region = str(mblog.get("region_name") or "").replace("发布于", "").strip()
    post: dict[str, Any] = {
        "id": f"weibo:{mblog['id']}",
        "platform": "weibo",
        "url": f"https://m.weibo.cn/detail/{mblog['id']}",
        "text": mblog.get("text") or "",
        "published_at": mblog.get("created_at"),
        "reposts": mblog.get("reposts_count"),
        "comments": mblog.get("comments_count"),
        "likes": mblog.get("attitudes_count"),
        "author": user.get("screen_name"),
        "author_id": str(user["id"]) if user.get("id") is not None else None,
        "author_verified": bool(user["verified"]) if "verified" in user else None,
        "author_followers": user.get("followers_count"),
        "bid": mblog.get("bid"),
        "region": region or None,
        "client": mblog.get("source") or None,
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
        self.search_type = str(getattr(self, "type", None) or self.ctx.option("type", "1"))
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
        if ok == -100 or "captcha" in str(data.get("url", "")):
            self.ctx.ban(f"微博要求验证码（ok={ok}）: {data.get('url', '')}")
            return
        if ok != 1:
            return  # {"ok":0}: no more results for this keyword
        cards = (data.get("data") or {}).get("cards") or []
        entries: list[tuple[str, Any]] = []
        for mblog in self._mblogs(cards):
            try:
                yield from self._emit(mblog)
                entries.append((f"weibo:{mblog['id']}", mblog.get("created_at")))
            except Exception as exc:  # one odd card never costs the rest of the page
                self.crawler.stats.inc_value("yuqing/errors/bad_card")
                self.logger.warning("跳过无法识别的微博卡片: %s", exc)
        if not entries or page >= self.max_pages or self.page_exhausted(entries):
            return
        yield scrapy.Request(self.page_url(keyword, page + 1), callback=self.parse,
                             cb_kwargs={"keyword": keyword, "page": page + 1})

    @staticmethod
    def _mblogs(cards: list[Any]) -> Iterator[dict[str, Any]]:
        for card in cards:
            if not isinstance(card, dict):
                continue
            group = [card, *[c for c in card.get("card_group") or [] if isinstance(c, dict)]]
            for c in group:
                if c.get("card_type") == 9 and isinstance(c.get("mblog"), dict):
                    yield c["mblog"]

    def _emit(self, mblog: dict[str, Any]) -> Iterator[Any]:
        post = weibo_post(mblog)
        original = mblog.get("retweeted_status")
        if isinstance(original, dict) and original.get("id") is not None:
            orig_post = weibo_post(original)
            post["repost_of"] = orig_post["id"]
            post["_context_text"] = original.get("text") or ""
            orig_post["_context_text"] = mblog.get("text") or ""
            yield from self._maybe_extend(original, orig_post)
        yield from self._maybe_extend(mblog, post)

    def _maybe_extend(self, mblog: dict[str, Any], post: dict[str, Any]) -> Iterator[Any]:
        if self.skip_old(post):
            return
        if mblog.get("isLongText"):
            yield scrapy.Request(self.url(EXTEND_PATH.format(id=mblog["id"])), callback=self.parse_extend,
                                 errback=self.extend_failed, cb_kwargs={"post": post},
                                 meta={"post": post}, dont_filter=True)
        else:
            yield post

    def parse_extend(self, response: Response, post: dict[str, Any]) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
            full = (data.get("data") or {}).get("longTextContent") if data.get("ok") == 1 else None
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            full = None
        if full:
            post["text"] = full
        else:
            self.crawler.stats.inc_value("yuqing/errors/long_text_missing")
        yield post

    def extend_failed(self, failure: Any) -> Iterator[Any]:
        """The long text could not be fetched: keep the truncated post rather than lose it."""
        self.crawler.stats.inc_value("yuqing/errors/long_text_missing")
        post = failure.request.meta.get("post")
        if post is not None:
            yield post
