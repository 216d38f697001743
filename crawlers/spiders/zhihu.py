"""zhihu: Zhihu (知乎) content search, through the site's own search page in a browser.

www.zhihu.com signs its API calls in JavaScript (``x-zse-93: 101_3_3.0``, ``x-zse-96: 2.0_…``
computed from the URL and the ``d_c0`` cookie); an unsigned call to ``/api/v4/search_v3`` is
answered HTTP 403 ``{"error":{"message":"请求参数异常，请升级客户端后重试。","code":10003}}``. We
sign nothing: each keyword's page ``/search?type=content&q={kw}`` is loaded in Chromium by
crawlers.browser.BrowserCaptureMiddleware (the request flag ``meta["browser"]``), which hands us
the JSON the page itself fetched from ``/api/v4/search_v3`` (``t=general``, ``limit=20``).

Guarantees, per ``data[]`` entry of type ``search_result`` / ``zvideo`` whose ``object.type`` is
``answer``, ``article`` or ``zvideo``: ``id`` ``zhihu:<type>:<id>``, ``url`` (answer
``/question/{qid}/answer/{id}``, article ``zhuanlan.zhihu.com/p/{id}``, zvideo ``/zvideo/{id}``),
``title`` (``highlight.title`` / ``object.title`` / the question's title, ``<em>`` removed),
``text`` the excerpt, ``author`` (``author.name``), ``author_id`` (``url_token``),
``published_at`` from ``created_time`` (Unix seconds → Beijing), ``updated_at``, ``likes``
(voteup_count), ``comments`` (comment_count), ``content_type``. Only the first page of results
per keyword is read (the page fetches more only when scrolled); `since` skips older entries.

A login wall or risk control pauses the source with its reason: the API answering 401/403 or an
``error`` object (10003 请求参数异常, 10001, 40362 访问异常 …), or — without a configured cookie —
a search page that never calls the API (Zhihu sends visitors to ``/signin``). Needs a logged-in
cookie (``cookie_env``, e.g. ``z_c0``, ``d_c0``; never logged); disabled by default in config/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers import settings as project_settings
from crawlers.parsing import iso
from crawlers.spiders.base import BaseSpider

SEARCH_API = "/api/v4/search_v3"
SEARCH_PAGE = "/search?type=content&q={q}"
CONTENT_TYPES = ("answer", "article", "zvideo")


def zhihu_error(status: Any, payload: Any) -> str | None:
    """Why a captured API reply is a login wall / risk control, or None."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return f"知乎接口拒绝（HTTP {status}，code={error.get('code')}）：{error.get('message') or error.get('name') or ''}"
    if status in (401, 403):
        return f"知乎接口拒绝（HTTP {status}）：需要登录或请求被风控"
    return None


class ZhihuSpider(BaseSpider):
    name = "zhihu"
    platform = "zhihu"
    site = "https://www.zhihu.com"
    custom_settings = {"DOWNLOADER_MIDDLEWARES": {**project_settings.DOWNLOADER_MIDDLEWARES,
                                                  "crawlers.browser.BrowserCaptureMiddleware": 950},
                       "DOWNLOAD_DELAY": 10.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                       "AUTOTHROTTLE_START_DELAY": 10.0}

    async def start(self) -> Any:
        timeout = float(self.ctx.option("browser_timeout", 20))
        for keyword in self.keywords:
            yield scrapy.Request(self.url(SEARCH_PAGE.format(q=quote(keyword))), callback=self.parse,
                                 cb_kwargs={"keyword": keyword}, dont_filter=True,
                                 meta={"browser": {"capture": SEARCH_API, "count": 1, "timeout": timeout}})

    def parse(self, response: Response, keyword: str) -> Iterator[dict[str, Any]]:
        page = json.loads(response.text)
        if not page.get("captured"):
            if not self.ctx.cookie:
                self.ctx.ban(f"知乎要求登录：搜索页没有请求搜索接口（未配置登录 Cookie）: {self.real_url(response.url)}")
            else:
                self.malformed(response, "知乎搜索页没有请求搜索接口（Cookie 可能已失效，或出现验证码）")
            return
        for captured in page["captured"]:
            payload = captured.get("json")
            reason = zhihu_error(captured.get("status"), payload)
            if reason is not None:
                self.ctx.ban(f"{reason}: {self.real_url(str(captured.get('url') or response.url))}")
                return
            if captured.get("status") != 200 or not isinstance(payload, dict):
                self.malformed(response, f"知乎搜索接口 HTTP {captured.get('status')}")
                continue
            paging = payload.get("paging") if isinstance(payload.get("paging"), dict) else {}
            if not paging.get("is_end", True):
                self.crawler.stats.inc_value("yuqing/zhihu/more_pages_not_read")
            for entry in payload.get("data") or []:
                post = self.entry_post(entry) if isinstance(entry, dict) else None
                if post is None:
                    self.crawler.stats.inc_value("yuqing/skipped/not_content")
                    continue
                if not self.skip_old(post):
                    yield post

    def entry_post(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        if entry.get("type") not in ("search_result", "zvideo"):
            return None
        obj = entry.get("object")
        if not isinstance(obj, dict) or obj.get("type") not in CONTENT_TYPES or not obj.get("id"):
            return None
        kind, oid = str(obj["type"]), str(obj["id"])
        highlight = entry.get("highlight") if isinstance(entry.get("highlight"), dict) else {}
        question = obj.get("question") if isinstance(obj.get("question"), dict) else {}
        if kind == "answer":
            if not question.get("id"):
                return None
            url = f"{self.site}/question/{question['id']}/answer/{oid}"
        elif kind == "article":
            url = f"https://zhuanlan.zhihu.com/p/{oid}"
        else:
            video_url = str(obj.get("video_url") or "")
            url = video_url if video_url.startswith("https://www.zhihu.com/") else f"{self.site}/zvideo/{oid}"
        title = highlight.get("title") or obj.get("title") or question.get("name") or ""
        text = highlight.get("description") or obj.get("excerpt") or obj.get("description") or obj.get("content") or ""
        author = obj.get("author") if isinstance(obj.get("author"), dict) else {}
        if not author.get("name") and isinstance(author.get("member"), dict):
            author = author["member"]
        created = obj.get("created_time") or obj.get("created_at") or obj.get("created") or None
        updated = obj.get("updated_time") or obj.get("updated_at") or obj.get("updated") or None
        post: dict[str, Any] = {
            "id": f"zhihu:{kind}:{oid}",
            "platform": self.platform,
            "url": url,
            "title": str(title),
            "text": str(text) or str(title),
            "author": author.get("name") or None,
            "author_id": author.get("url_token") or (str(author["id"]) if author.get("id") else None),
            "published_at": created,
            "updated_at": _iso_epoch(updated, self),
            "likes": obj.get("voteup_count"),
            "comments": obj.get("comment_count"),
            "content_type": kind,
            "question_id": f"zhihu:question:{question['id']}" if question.get("id") else None,
        }
        if author.get("name") == "匿名用户":
            post["author"], post["author_id"] = "匿名用户", None
        return {k: v for k, v in post.items() if v is not None}


def _iso_epoch(value: Any, spider: BaseSpider) -> str | None:
    dt = spider.date_of(value)
    return iso(dt) if dt is not None else None
