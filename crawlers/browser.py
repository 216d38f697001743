"""A browser-backed download for sites that sign their API calls in JavaScript (Douyin, Kuaishou, 小红书).

A request with ``meta["browser"] = {"capture": "/path/of/the/api", "count": 1, "timeout": 20}`` is
not fetched by Scrapy: Playwright drives Debian's Chromium (``/usr/bin/chromium``, headless) to
load the site's own page at ``request.url`` and records the responses the page itself fetches
whose URL contains ``capture``. The page computes its signatures; we re-implement none.

Guarantees: the spider receives one JSON response (``application/json``) for the page::

    {"page": URL, "complete": bool, "captured": [{"url": …, "status": 200, "json": {…} | null, "text": …}]}

``complete`` is false when fewer than ``count`` API responses arrived before ``timeout``. The
request's ``Cookie`` header (the source's ``cookie_env``, set by SourceCookieMiddleware) is
given to the browser for the page's host; one browser per crawl process, one fresh context per
page (no state leaks between requests), closed when the spider closes. Requests without
``meta["browser"]`` are untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.http import TextResponse

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path(settings: Any = None) -> str:
    configured = settings.get("YUQING_CHROMIUM") if settings is not None else None
    return str(configured or shutil.which("chromium") or CHROMIUM)


def browser_problem(settings: Any = None) -> str | None:
    """Why browser-backed sources cannot run here (for `yuqing doctor`), or None."""
    import importlib.util
    from pathlib import Path

    path = chromium_path(settings)
    if not Path(path).exists():
        return f"找不到 Chromium（{path}）：请安装 Debian chromium（apt-get install -y chromium，或 make browser）"
    if importlib.util.find_spec("playwright") is None:
        return "缺少 Python 包 playwright（pip install playwright）"
    return None


def cookies_for(url: str, header: str | None) -> list[dict[str, Any]]:
    """Playwright cookies from a `Cookie:` header value, scoped to the URL's host."""
    if not header:
        return []
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    out = []
    for pair in header.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name:
            out.append({"name": name, "value": value, "url": origin})
    return out


class BrowserCaptureMiddleware:
    """Downloader middleware: `meta["browser"]` requests are loaded in Chromium (see module doc)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.executable = chromium_path(crawler.settings)
        self._playwright: Any = None
        self._browser: Any = None
        self._lock = asyncio.Lock()
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> BrowserCaptureMiddleware:
        return cls(crawler)

    async def _ensure_browser(self) -> Any:
        async with self._lock:
            if self._browser is None:
                from playwright.async_api import async_playwright

                self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.executable, headless=True, args=CHROMIUM_ARGS)
            return self._browser

    async def process_request(self, request: Request) -> TextResponse | None:
        opts = request.meta.get("browser")
        if not opts:
            return None
        capture = str(opts.get("capture") or "")
        want = int(opts.get("count", 1))
        timeout = float(opts.get("timeout", 20))
        browser = await self._ensure_browser()
        ua = request.headers.get("User-Agent")
        context = await browser.new_context(locale="zh-CN", user_agent=ua.decode() if ua else None)
        captured: list[dict[str, Any]] = []
        enough = asyncio.Event()
        pending: set[asyncio.Task[None]] = set()

        async def record(resp: Any) -> None:
            entry: dict[str, Any] = {"url": resp.url, "status": resp.status, "json": None, "text": ""}
            try:
                entry["text"] = await resp.text()
                entry["json"] = json.loads(entry["text"])
            except Exception:  # not JSON (a block page): the spider sees text and status
                pass
            captured.append(entry)
            if len(captured) >= want:
                enough.set()

        def on_response(resp: Any) -> None:
            if capture and capture in resp.url:
                task = asyncio.ensure_future(record(resp))
                pending.add(task)
                task.add_done_callback(pending.discard)

        try:
            cookie = request.headers.get("Cookie")
            jar = cookies_for(request.url, cookie.decode("latin-1") if cookie else None)
            if jar:
                await context.add_cookies(jar)
            page = await context.new_page()
            page.on("response", on_response)
            await page.goto(request.url, wait_until="domcontentloaded", timeout=timeout * 1000)
            try:
                await asyncio.wait_for(enough.wait(), timeout)
            except TimeoutError:
                log.warning("浏览器采集：%s 在 %.0f 秒内只捕获到 %d/%d 个接口响应", request.url, timeout,
                            len(captured), want)
            if pending:
                await asyncio.wait(list(pending), timeout=5)
        finally:
            await context.close()
        self.crawler.stats.inc_value("yuqing/browser/pages")
        self.crawler.stats.inc_value("yuqing/browser/captured", len(captured))
        body = json.dumps({"page": request.url, "complete": len(captured) >= want, "captured": captured},
                          ensure_ascii=False)
        return TextResponse(request.url, status=200, body=body.encode("utf-8"), encoding="utf-8",
                            headers={"Content-Type": "application/json; charset=utf-8"}, request=request)

    async def _close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    def _closed(self, spider: Any = None) -> Any:
        from scrapy.utils.defer import deferred_from_coro

        return deferred_from_coro(self._close())
