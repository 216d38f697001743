"""douyin: Douyin (抖音) keyword search through the site's own search page in a browser.

www.douyin.com signs its API calls in JavaScript (a_bogus / X-Bogus); we sign nothing. Each
keyword's search page ``/search/{kw}?type=video`` is loaded in Chromium by
crawlers.browser.BrowserCaptureMiddleware, which hands us the JSON the page fetched from
``/aweme/v1/web/general/search/single/``. Entries are ``data[].aweme_info`` (or the first of
``data[].aweme_mix_info.mix_items``); format facts and their provenance:
tests/crawlers/fixtures/README.md (douyin). Needs a logged-in cookie (``cookie_env``) on the real
site; disabled by default in config/yuqing.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawlers import settings as project_settings
from crawlers.spiders.base import BaseSpider
from yuqing.timeutil import SHANGHAI

SEARCH_API = "/aweme/v1/web/general/search/single/"


def aweme_of(entry: dict[str, Any]) -> dict[str, Any] | None:
    aweme = entry.get("aweme_info")
    if aweme:
        return aweme
    mix = (entry.get("aweme_mix_info") or {}).get("mix_items") or []
    return mix[0] if mix else None


class DouyinSpider(BaseSpider):
    name = "douyin"
    platform = "douyin"
    site = "https://www.douyin.com"
    custom_settings = {"DOWNLOADER_MIDDLEWARES": {**project_settings.DOWNLOADER_MIDDLEWARES,
                                                  "crawlers.browser.BrowserCaptureMiddleware": 950}}

    async def start(self) -> Any:
        timeout = float(self.ctx.option("browser_timeout", 20))
        for keyword in self.keywords:
            yield scrapy.Request(self.url(f"/search/{quote(keyword)}?type=video"), callback=self.parse,
                                 cb_kwargs={"keyword": keyword},
                                 meta={"browser": {"capture": SEARCH_API, "count": 1, "timeout": timeout}})

    def parse(self, response: Response, keyword: str) -> Iterator[dict[str, Any]]:
        page = json.loads(response.text)
        if not page["captured"]:
            self.malformed(response, "搜索页没有请求搜索接口（可能需要登录或出现验证码）")
            return
        for captured in page["captured"]:
            payload = captured.get("json")
            if captured.get("status") != 200 or not isinstance(payload, dict):
                self.crawler.stats.inc_value("yuqing/errors/browser_api_refused")
                self.logger.warning("抖音搜索接口拒绝（HTTP %s）：%s", captured.get("status"), captured.get("url"))
                continue
            if payload.get("status_code", 0) != 0:
                self.malformed(response, f"搜索接口 status_code={payload.get('status_code')}")
                continue
            for entry in payload.get("data") or []:
                aweme = aweme_of(entry)
                if aweme is None or not aweme.get("aweme_id"):
                    self.crawler.stats.inc_value("yuqing/skipped/not_aweme")
                    continue
                post = self.post(aweme)
                if not self.skip_old(post):
                    yield post

    def post(self, aweme: dict[str, Any]) -> dict[str, Any]:
        author = aweme.get("author") or {}
        stats = aweme.get("statistics") or {}
        created = aweme.get("create_time")
        published = (datetime.fromtimestamp(int(created), UTC).astimezone(SHANGHAI).isoformat()
                     if created not in (None, "") else None)
        verified = bool(author.get("custom_verify") or author.get("enterprise_verify_reason"))
        post: dict[str, Any] = {
            "id": f"douyin:{aweme['aweme_id']}",
            "platform": self.platform,
            "url": f"{self.site}/video/{aweme['aweme_id']}",
            "text": aweme.get("desc") or "",
            "author": author.get("nickname"),
            "author_id": str(author["uid"]) if author.get("uid") is not None else None,
            "author_verified": verified,
            "published_at": published,
            "likes": stats.get("digg_count"),
            "comments": stats.get("comment_count"),
            "reposts": stats.get("share_count"),
            "collects": stats.get("collect_count"),
            "region": aweme.get("ip_label") or None,
            "author_sec_uid": author.get("sec_uid"),
        }
        return {k: v for k, v in post.items() if v is not None}
