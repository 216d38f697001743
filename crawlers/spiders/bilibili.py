"""bilibili: Bilibili video search (api.bilibili.com/x/web-interface/wbi/search/type), newest first.

Every search call is wbi-signed (crawlers/wbi.py): the spider first visits www.bilibili.com
(its ``buvid3`` cookie; without cookies the search answers -412), then reads ``img_key`` /
``sub_key`` from ``/x/web-interface/nav`` (also when not logged in: code -101), then asks
``search_type=video&keyword=…&order=pubdate&page=N`` with ``wts`` and ``w_rid``.

Guarantees, per ``data.result[]`` entry of type ``video``: ``id`` ``bilibili:<bvid>``, ``url``
``https://www.bilibili.com/video/<bvid>``, ``title`` without the ``<em class="keyword">``
highlight (entities decoded), ``text`` the description (the title when there is none),
``author`` / ``author_id`` (mid), ``published_at`` from ``pubdate`` (Unix seconds → Beijing),
``views`` (play), ``comments`` (review), ``likes`` (like, when given), ``danmaku``
(danmaku / video_review), ``favorites``, ``category`` (typename), ``tags``. Paging stops at
``numPages``, ``max_pages``, `since` and posts already stored. Risk control — code -352 (风控校验失败),
-412 or HTTP 412 (请求被拦截), a ``v_voucher`` in place of results — pauses the source with its
reason; -403 (非法访问: the signature was refused) re-reads the keys once, then pauses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers import wbi
from crawlers.spiders.base import BaseSpider

HOME_URL = "https://www.bilibili.com/"
NAV_PATH = "/x/web-interface/nav"
SEARCH_PATH = "/x/web-interface/wbi/search/type"
RISK_CODES = {-352: "风控校验失败", -412: "请求被拦截"}


class BilibiliSpider(BaseSpider):
    name = "bilibili"
    platform = "bilibili"
    site = "https://api.bilibili.com"
    # polite by default (the source's download_delay in config/ overrides the delay)
    custom_settings = {"DOWNLOAD_DELAY": 3.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                       "AUTOTHROTTLE_START_DELAY": 3.0}
    keys: tuple[str, str] | None = None

    def setup(self) -> None:
        super().setup()
        self.order = str(getattr(self, "order", None) or self.ctx.option("order", "pubdate"))

    # -- requests -----------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Referer": "https://www.bilibili.com/", "Origin": "https://www.bilibili.com",
                "Accept": "application/json, text/plain, */*"}

    def nav_request(self, then: list[tuple[str, int]], retried: bool = False) -> scrapy.Request:
        return scrapy.Request(self.url(NAV_PATH), callback=self.parse_nav, headers=self._headers(), dont_filter=True,
                              cb_kwargs={"then": then, "retried": retried})

    def search_request(self, keyword: str, page: int, retried: bool = False) -> scrapy.Request:
        assert self.keys is not None
        params = {"search_type": "video", "keyword": keyword, "order": self.order, "page": page}
        query = wbi.encode_query(wbi.sign(params, *self.keys, now=self.ctx.now.timestamp()))
        return scrapy.Request(self.url(f"{SEARCH_PATH}?{query}"), callback=self.parse, headers=self._headers(),
                              dont_filter=True, meta={"handle_httpstatus_list": [412]},
                              cb_kwargs={"keyword": keyword, "page": page, "retried": retried})

    async def start(self) -> Any:
        then = [(keyword, 1) for keyword in self.keywords]
        if not then:
            return
        yield scrapy.Request(self.rewrite(HOME_URL), callback=self.parse_home, dont_filter=True, cb_kwargs={"then": then},
                             errback=lambda failure: self.nav_request(then), meta={"handle_httpstatus_all": True})

    def parse_home(self, response: Response, then: list[tuple[str, int]]) -> Iterator[Any]:
        yield self.nav_request(then)  # the home page only sets cookies (buvid3, b_nut)

    def parse_nav(self, response: Response, then: list[tuple[str, int]], retried: bool) -> Iterator[Any]:
        payload = self._json(response)
        keys = wbi.keys_from_nav(payload) if payload is not None else None
        if keys is None:
            code = payload.get("code") if isinstance(payload, dict) else None
            if code in RISK_CODES:
                self.ctx.ban(f"B站{RISK_CODES[code]}（code={code}）: {self.real_url(response.url)}")
                return
            self.malformed(response, "nav 接口没有 wbi_img 口令")
            return
        self.keys = keys
        for keyword, page in then:
            yield self.search_request(keyword, page, retried=retried)

    # -- search results -----------------------------------------------------------
    def parse(self, response: Response, keyword: str, page: int, retried: bool = False) -> Iterator[Any]:
        if response.status == 412:
            self.ctx.ban(f"B站请求被拦截（HTTP 412）: {self.real_url(response.url)}")
            return
        payload = self._json(response)
        if payload is None:
            self.malformed(response, "JSON 无法解析")
            return
        code = payload.get("code")
        if code in RISK_CODES:
            self.ctx.ban(f"B站{RISK_CODES[code]}（code={code}，{payload.get('message') or ''}）: "
                         f"{self.real_url(response.url)}")
            return
        if code == -403:
            if not retried:  # the keys may have changed since nav was read: read them again, once
                self.crawler.stats.inc_value("yuqing/bilibili/resigned")
                yield self.nav_request([(keyword, page)], retried=True)
                return
            self.ctx.ban(f"B站拒绝了 wbi 签名（code=-403，{payload.get('message') or ''}）: {self.real_url(response.url)}")
            return
        if code != 0:
            self.malformed(response, f"搜索接口 code={code} {payload.get('message') or ''}")
            return
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        if data.get("v_voucher") and not data.get("result"):
            self.ctx.ban(f"B站风控：返回 v_voucher 而非结果（需要验证）: {self.real_url(response.url)}")
            return
        entries: list[tuple[str, Any]] = []
        for entry in data.get("result") or []:
            if not isinstance(entry, dict) or entry.get("type", "video") != "video":
                self.crawler.stats.inc_value("yuqing/skipped/not_video")
                continue
            try:
                post = self.video_post(entry)
            except (KeyError, TypeError, ValueError) as exc:
                self.crawler.stats.inc_value("yuqing/errors/bad_card")
                self.logger.warning("跳过无法识别的B站搜索结果: %s", exc)
                continue
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        try:
            pages = int(data.get("numPages") or 0)
        except (TypeError, ValueError):
            pages = 0
        if not entries or page >= pages or page >= self.max_pages or self.page_exhausted(entries):
            return
        yield self.search_request(keyword, page + 1)

    def video_post(self, v: dict[str, Any]) -> dict[str, Any]:
        bvid = str(v.get("bvid") or "")
        aid = v.get("aid") or v.get("id")
        if not bvid and not aid:
            raise KeyError("bvid")
        vid = bvid or f"av{aid}"
        arcurl = str(v.get("arcurl") or "")
        url = f"https://www.bilibili.com/video/{vid}" if vid else arcurl.replace("http://", "https://", 1)
        title = str(v.get("title") or "")
        description = str(v.get("description") or "").strip()
        tags = [t.strip() for t in str(v.get("tag") or "").split(",") if t.strip()]
        danmaku = v.get("danmaku") if v.get("danmaku") is not None else v.get("video_review")
        post: dict[str, Any] = {
            "id": f"bilibili:{vid}",
            "platform": self.platform,
            "url": url,
            "title": title,
            "text": description or title,
            "author": v.get("author") or None,
            "author_id": str(v["mid"]) if v.get("mid") not in (None, "") else None,
            "published_at": v.get("pubdate") or v.get("senddate") or None,
            "views": v.get("play"),
            "comments": v.get("review"),
            "likes": v.get("like"),
            "danmaku": _count(danmaku),
            "favorites": _count(v.get("favorites")),
            "bvid": bvid or None,
            "aid": str(aid) if aid not in (None, "") else None,
            "category": v.get("typename") or None,
            "tags": tags or None,
        }
        return {k: val for k, val in post.items() if val is not None}

    # -- helpers ------------------------------------------------------------------
    @staticmethod
    def _json(response: Response) -> dict[str, Any] | None:
        try:
            payload = json.loads(response.text)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            return None
        return payload if isinstance(payload, dict) else None


def _count(value: Any) -> int | None:
    if value in (None, "", "--"):
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None
