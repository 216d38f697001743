"""toutiao: Toutiao (今日头条) keyword search, the JSON of www.toutiao.com/api/search/content/.

The request is the one public crawlers send (``aid=24&app_name=web_search&offset=N&format=json
&keyword=…&autoload=true&count=20&en_qc=1&cur_tab=1&from=search_tab&pd=synthesis``); the reply is
``{"has_more", "offset", "data": [...]}`` (format facts and their provenance:
tests/crawlers/fixtures/README.md, toutiao). Needs a logged-in cookie (``ttwid`` …, from
``cookie_env``) on the real site; disabled by default in config/yuqing.yaml.

Guarantees, per ``data[]`` entry with a title and an id: ``id`` ``toutiao:<group_id>``, ``title``,
``text`` the abstract (the title when there is none), ``author`` the media name (``media_name``
else ``source``), ``published_at`` from ``publish_time`` (Unix seconds) else the shown
``datetime`` in any form ("2017-11-27 18:47", "3小时前", "昨天 12:30", "2024-05-01"; Beijing time),
``url`` the article (a ``so.toutiao.com/search/jump?url=`` jump link — nested ones too — is
replaced by its target; else ``https://www.toutiao.com/article/<group_id>/``), ``comments``
(comment_count), ``likes`` (digg_count), ``views`` (go_detail_count / read_count), ``media_id``.
Ads (``tag`` ad, ``label`` 广告, ``is_ad``) and entries without a title (user cards) are skipped.
Paging follows ``offset`` while ``has_more``, up to ``max_pages``, and stops at `since` / posts
already stored. A redirect to or a page of a verification (验证码) pauses the source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.spiders.base import BaseSpider

SEARCH_PATH = ("/api/search/content/?aid=24&app_name=web_search&offset={offset}&format=json&keyword={q}"
               "&autoload=true&count={count}&en_qc=1&cur_tab=1&from=search_tab&pd=synthesis")
JUMP_HOSTS = ("so.toutiao.com", "sou.toutiao.com", "www.toutiao.com", "toutiao.com")
_VERIFY = re.compile(r"verify|captcha", re.I)


def strip_jump(url: str | None, depth: int = 0) -> str | None:
    """The target of a Toutiao search jump link (``…/search/jump?url=<target>&aid=…``), recursively."""
    if not url:
        return None
    url = str(url).strip()
    if url.startswith("//"):
        url = "https:" + url
    parts = urlsplit(url)
    if depth < 5 and parts.netloc in JUMP_HOSTS and parts.path.rstrip("/").endswith("/search/jump"):
        target = (parse_qs(parts.query).get("url") or [None])[0]
        if target:
            return strip_jump(target, depth + 1)
    return url


def is_ad(entry: dict[str, Any]) -> bool:
    return (str(entry.get("tag") or "") == "ad" or str(entry.get("label") or "") == "广告"
            or entry.get("is_ad") in (1, True, "1") or entry.get("ad_id") not in (None, "", 0, "0"))


class ToutiaoSpider(BaseSpider):
    name = "toutiao"
    platform = "toutiao"
    site = "https://www.toutiao.com"
    custom_settings = {"DOWNLOAD_DELAY": 5.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                       "AUTOTHROTTLE_START_DELAY": 5.0}

    def setup(self) -> None:
        super().setup()
        self.count = int(getattr(self, "count", None) or self.ctx.option("count", 20))
        if not self.ctx.cookie:
            where = (self.ctx.source.cookie_env if self.ctx.source and self.ctx.source.cookie_env
                     else "数据源未配置 cookie_env")
            self.logger.warning("未设置今日头条 Cookie（%s），搜索接口可能返回空结果或验证码", where)

    def page_request(self, keyword: str, offset: int, page: int) -> scrapy.Request:
        url = self.url(SEARCH_PATH.format(offset=offset, q=quote(keyword), count=self.count))
        return scrapy.Request(url, callback=self.parse, headers={
            "Referer": f"https://www.toutiao.com/search/?keyword={quote(keyword)}",
            "X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/javascript"},
            meta={"dont_redirect": True, "handle_httpstatus_list": [301, 302, 303, 307]},
            cb_kwargs={"keyword": keyword, "page": page, "offset": offset})

    async def start(self) -> Any:
        for keyword in self.keywords:
            yield self.page_request(keyword, 0, 1)

    def parse(self, response: Response, keyword: str, page: int, offset: int) -> Iterator[Any]:
        if 300 <= response.status < 400:
            location = response.headers.get(b"Location", b"").decode("latin-1")
            target = urlsplit(location)
            if _VERIFY.search(target.netloc + target.path):
                self.ctx.ban(f"今日头条跳转到验证页面: {location}")
            else:
                self.malformed(response, f"搜索接口跳转到 {location}")
            return
        try:
            payload = json.loads(response.text)
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            if "验证码" in response.text[:20000] or "verify" in response.text[:20000].lower():
                self.ctx.ban(f"今日头条返回验证码页面（HTTP {response.status}）: {self.real_url(response.url)}")
            else:
                self.malformed(response, "JSON 无法解析")
            return
        if not isinstance(payload, dict):
            self.malformed(response, "JSON 不是对象")
            return
        entries: list[tuple[str, Any]] = []
        for entry in payload.get("data") or []:
            if not isinstance(entry, dict):
                continue
            if is_ad(entry):
                self.crawler.stats.inc_value("yuqing/skipped/ad")
                continue
            post = self.entry_post(entry)
            if post is None:
                self.crawler.stats.inc_value("yuqing/skipped/not_article")
                continue
            entries.append((post["id"], post.get("published_at")))
            if not self.skip_old(post):
                yield post
        if not entries or not payload.get("has_more") or page >= self.max_pages or self.page_exhausted(entries):
            return
        try:
            next_offset = max(int(payload.get("offset") or 0), offset + len(payload.get("data") or []))
        except (TypeError, ValueError):
            next_offset = offset + self.count
        yield self.page_request(keyword, next_offset, page + 1)

    def entry_post(self, e: dict[str, Any]) -> dict[str, Any] | None:
        gid = str(e.get("group_id") or e.get("item_id") or e.get("id") or "").strip()
        display = e.get("display") if isinstance(e.get("display"), dict) else {}
        title = e.get("title") or display.get("title")
        if not gid or not gid.isdigit() or not title:
            return None
        raw_url = next((e.get(k) for k in ("article_url", "open_url", "share_url", "display_url", "url")
                        if isinstance(e.get(k), str) and e.get(k)), None)
        url = strip_jump(raw_url)
        if not url or not url.startswith(("http://", "https://")):
            url = f"{self.site}/article/{gid}/"
        url = re.sub(r"^http://(www\.)?toutiao\.com/", "https://www.toutiao.com/", url)
        published = e.get("publish_time") or e.get("datetime") or e.get("create_time") or None
        abstract = str(e.get("abstract") or e.get("summary") or "").strip()
        post: dict[str, Any] = {
            "id": f"toutiao:{gid}",
            "platform": self.platform,
            "url": url,
            "title": str(title),
            "text": abstract or str(title),
            "author": e.get("media_name") or e.get("source") or None,
            "published_at": published,
            "comments": e.get("comment_count") if e.get("comment_count") is not None else e.get("comments_count"),
            "likes": e.get("digg_count"),
            "views": e.get("go_detail_count") if e.get("go_detail_count") is not None else e.get("read_count"),
            "media_id": str(e["media_creator_id"]) if e.get("media_creator_id") else None,
            "has_video": True if e.get("has_video") else None,
        }
        return {k: v for k, v in post.items() if v is not None}
