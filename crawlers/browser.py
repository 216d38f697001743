"""A browser-backed download for sites that sign their API calls in JavaScript (Douyin, Kuaishou, 小红书).

A request with ``meta["browser"] = {"capture": "/path/of/the/api", "count": 1, "timeout": 20}`` is
not fetched by Scrapy: Playwright drives Debian's Chromium (``/usr/bin/chromium``, headless) to
load the site's own page at ``request.url`` and records the responses the page itself fetches
whose URL contains ``capture`` (and, with ``"capture_body"``, whose request body contains that
text: one GraphQL operation among the page's calls to ``/graphql``). The page computes its
signatures; we re-implement none.

Guarantees: the spider receives one JSON response (``application/json``) for the page::

    {"page": URL, "complete": bool, "captured": [{"url": …, "status": 200, "json": {…} | null, "text": …}]}

``complete`` is false when fewer than ``count`` API responses arrived before ``timeout``;
``final_url`` is where the page ended up (a redirect to a login or verify page shows there). The
request's ``Cookie`` header (the source's ``cookie_env``, set by SourceCookieMiddleware) is
given to the browser for the page's whole site (``.xiaohongshu.com``: the API host gets it too); one browser per crawl process, one fresh context per
page (no state leaks between requests), closed when the spider closes. Page loads and scrolls
run one at a time, at least ``DOWNLOAD_DELAY`` (the source's ``download_delay``) apart — the
browser bypasses Scrapy's download slots, so the rate limit is kept here. Requests without
``meta["browser"]`` are untouched.

Paging the way a person does (infinite scroll): a request with ``"session": KEY`` keeps its page
open after the capture; a later request with ``{"session": KEY, "scroll": true, …}`` scrolls that
same page to the bottom, so the page's own script fetches (and signs) the next page, and returns
only the responses captured after the scroll. The spider decides whether to scroll again (has_more,
the incremental stop at ``since``). At most ``MAX_SESSIONS`` pages stay open (the oldest is closed);
a scroll on a closed session answers ``{"captured": [], "complete": false, "closed": true}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
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


_SECOND_LEVEL = ("com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn")


def site_domain(host: str) -> str | None:
    """The registrable domain of a host ("www.xiaohongshu.com" → "xiaohongshu.com"); None for an IP
    address or a single-label host (a local test site)."""
    host = host.split(":")[0].strip(".").lower()
    labels = host.split(".")
    if len(labels) < 2 or all(label.isdigit() for label in labels) or ":" in host:
        return None
    keep = 3 if ".".join(labels[-2:]) in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:]) if len(labels) >= keep else None


def cookies_for(url: str, header: str | None) -> list[dict[str, Any]]:
    """Playwright cookies from a `Cookie:` header value, for the URL's whole site: the page's API
    often lives on another host of the same site (小红书: edith.xiaohongshu.com), which must get
    the login cookie too. A local site (IP address) gets host-only cookies."""
    if not header:
        return []
    parts = urlsplit(url)
    domain = site_domain(parts.hostname or "")
    scope: dict[str, Any] = ({"domain": "." + domain, "path": "/"} if domain
                             else {"url": f"{parts.scheme}://{parts.netloc}"})
    out = []
    for pair in header.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name:
            out.append({"name": name, "value": value, **scope})
    return out


MAX_SESSIONS = 4


class _Tab:
    """One page and the API responses it has fetched since the last load or scroll."""

    def __init__(self, context: Any, capture: str, want: int, body_marker: str = "") -> None:
        self.context = context
        self.capture = capture
        self.body_marker = body_marker
        self.page: Any = None
        self.pending: set[asyncio.Task[None]] = set()
        self.reset(want)

    def reset(self, want: int) -> None:
        self.want = want
        self.captured: list[dict[str, Any]] = []
        self.enough = asyncio.Event()

    async def record(self, resp: Any) -> None:
        entry: dict[str, Any] = {"url": resp.url, "status": resp.status, "json": None, "text": ""}
        try:
            entry["text"] = await resp.text()
            entry["json"] = json.loads(entry["text"])
        except Exception:  # not JSON (a block page): the spider sees text and status
            pass
        self.captured.append(entry)
        if len(self.captured) >= self.want:
            self.enough.set()

    def on_response(self, resp: Any) -> None:
        if self.capture and self.capture in resp.url:
            if self.body_marker and self.body_marker not in (resp.request.post_data or ""):
                return  # another call to the same endpoint (GraphQL: another operation)
            task = asyncio.ensure_future(self.record(resp))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)


class BrowserCaptureMiddleware:
    """Downloader middleware: `meta["browser"]` requests are loaded in Chromium (see module doc)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.executable = chromium_path(crawler.settings)
        self._playwright: Any = None
        self._browser: Any = None
        self._lock = asyncio.Lock()
        self._sessions: dict[str, _Tab] = {}  # kept pages, oldest first
        self._gate = asyncio.Lock()
        self._last = float("-inf")
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
        want = int(opts.get("count", 1))
        timeout = float(opts.get("timeout", 20))
        key = str(opts["session"]) if opts.get("session") else None
        async with self._gate:  # one page action at a time, DOWNLOAD_DELAY apart (the source's rate limit)
            delay = self.crawler.settings.getfloat("DOWNLOAD_DELAY", 0)
            wait = self._last + delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if opts.get("scroll"):
                    body = await self._scroll(key, want, timeout)
                else:
                    body = await self._load(request, str(opts.get("capture") or ""), want, timeout, key,
                                            str(opts.get("capture_body") or ""))
            finally:
                self._last = time.monotonic()
        self.crawler.stats.inc_value("yuqing/browser/pages")
        self.crawler.stats.inc_value("yuqing/browser/captured", len(body["captured"]))
        return TextResponse(request.url, status=200, body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                            encoding="utf-8", headers={"Content-Type": "application/json; charset=utf-8"},
                            request=request)

    async def _wait(self, tab: _Tab, want: int, timeout: float, what: str) -> None:
        try:
            await asyncio.wait_for(tab.enough.wait(), timeout)
        except TimeoutError:
            log.warning("浏览器采集：%s 在 %.0f 秒内只捕获到 %d/%d 个接口响应", what, timeout, len(tab.captured), want)
        if tab.pending:
            await asyncio.wait(list(tab.pending), timeout=5)

    async def _load(self, request: Request, capture: str, want: int, timeout: float,
                    key: str | None, body_marker: str = "") -> dict[str, Any]:
        browser = await self._ensure_browser()
        ua = request.headers.get("User-Agent")
        context = await browser.new_context(locale="zh-CN", user_agent=ua.decode() if ua else None)
        tab = _Tab(context, capture, want, body_marker)
        keep = False
        try:
            cookie = request.headers.get("Cookie")
            jar = cookies_for(request.url, cookie.decode("latin-1") if cookie else None)
            if jar:
                await context.add_cookies(jar)
            tab.page = await context.new_page()
            tab.page.on("response", tab.on_response)
            await tab.page.goto(request.url, wait_until="domcontentloaded", timeout=timeout * 1000)
            await self._wait(tab, want, timeout, request.url)
            final_url = tab.page.url
            if key is not None:
                await self._keep(key, tab)
                keep = True
        finally:
            if not keep:
                await context.close()
        return {"page": request.url, "final_url": final_url, "complete": len(tab.captured) >= want,
                "captured": tab.captured}

    async def _keep(self, key: str, tab: _Tab) -> None:
        old = self._sessions.pop(key, None)
        if old is not None:
            await old.context.close()
        self._sessions[key] = tab
        while len(self._sessions) > MAX_SESSIONS:
            oldest = next(iter(self._sessions))
            await self._sessions.pop(oldest).context.close()

    async def _scroll(self, key: str | None, want: int, timeout: float) -> dict[str, Any]:
        tab = self._sessions.get(key) if key is not None else None
        if tab is None or tab.page is None:
            return {"page": None, "final_url": None, "complete": False, "closed": True, "captured": []}
        tab.reset(want)
        await tab.page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        await self._wait(tab, want, timeout, f"{tab.page.url}（滚动加载）")
        return {"page": tab.page.url, "final_url": tab.page.url, "complete": len(tab.captured) >= want,
                "captured": tab.captured}

    async def _close(self) -> None:
        for tab in list(self._sessions.values()):
            await tab.context.close()
        self._sessions.clear()
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    def _closed(self, spider: Any = None) -> Any:
        from scrapy.utils.defer import deferred_from_coro

        return deferred_from_coro(self._close())
