"""Local sites whose search page signs its API calls in JavaScript and whose API refuses unsigned calls.

They stand in for Douyin, Kuaishou and 小红书 (tests, the demo). Each platform is a
:class:`SignedSearch` — its search page (the real site's path) and its API — mounted on a
:class:`SignedSite` (a :class:`~crawlers.testing.site.FixtureSite`). A page is served with a
fresh per-page nonce (in the page, and for Kuaishou / 小红书 also as the cookie the real site
sets: ``did`` / ``a1``); the page's script signs every API call with FNV-1a-32 over what the
real site signs, and the API answers 403 unless the nonce was issued by a page and the signature
matches. The signature is computed only in the page's JavaScript: a client that does not run the
page cannot call the API.

* Douyin: page ``/search/{kw}?type=video``; ``GET /aweme/v1/web/general/search/single/?keyword=…
  &offset=N&count=10&nonce=…&a_bogus=sign(query + nonce)``; ``payload(keyword, offset)`` is the
  whole JSON reply (``data``, ``has_more``, ``cursor``).
* Kuaishou: page ``/search/video?searchKey={kw}``; ``POST /graphql?__NS_hxfalcon=sign(body + did)``
  with the GraphQL body ``{"operationName": "visionSearchPhoto", "variables": {"keyword", "pcursor",
  "page": "search", "searchSessionId"}, "query"}``; ``payload(keyword, pcursor)`` is the whole reply
  (``{"data": {"visionSearchPhoto": {…, "pcursor": next | "no_more"}}}``). The page also makes
  another signed GraphQL call (``visionProfileUserList``), answered ``{"data": {op: {"result": 1}}}``.
* 小红书: page ``/search_result?keyword={kw}&source=web_search_result_notes``; ``POST
  /api/sns/web/v1/search/notes`` with ``{"keyword", "page", "page_size": 20, "search_id", "sort",
  "note_type"}`` and headers ``x-t`` (ms) and ``x-s`` = ``XYW_`` + sign(x-t + path + body + a1);
  ``payload(keyword, page)`` is the whole reply (``{"code": 0, "success": true, "data": {"has_more",
  "items"}}`` — or a login wall such as ``{"code": -100, …}``).

Every page loads the next page of results when scrolled to the bottom (infinite scroll), as long
as the last reply said there is more. ``redirect(keyword)`` may send the search page to another
URL (a login or verify page, served as a small page); ``refused`` counts refused API calls.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from crawlers.testing.site import FixtureSite, Reply, SiteRequest

JSON = {"Content-Type": "application/json; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}

SIGN_JS = """function sign(s) {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(s)) { h ^= c; h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, "0");
}"""

# shared by the three pages: a list that grows by one tall card per result, next page on scroll
SCROLL_JS = """const list = document.getElementById("results");
let busy = false, more = true;
function show(n) {
  for (let i = 0; i < Math.max(1, n); i++) {
    const li = document.createElement("li"); li.style.height = "400px"; li.textContent = "结果"; list.appendChild(li);
  }
}
window.addEventListener("scroll", () => {
  if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 50) load();
});
load();"""

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>%(title)s</title></head><body>
<ul id="results" style="min-height: 1600px"></ul>
<script>
const NONCE = %(nonce)s, API = %(api)s;
%(sign)s
%(load)s
%(scroll)s
</script></body></html>"""

DOUYIN_LOAD = """const kw = decodeURIComponent(location.pathname.split("/").pop());
let offset = 0;
function load() {
  if (busy || !more) return; busy = true;
  const qs = "keyword=" + encodeURIComponent(kw) + "&offset=" + offset + "&count=10&nonce=" + NONCE;
  fetch(API + "?" + qs + "&a_bogus=" + sign(qs + NONCE), {credentials: "same-origin"})
    .then(r => r.json()).then(d => {
      show((d.data || []).length); more = !!d.has_more; offset = d.cursor || 0; busy = false;
    }).catch(() => { more = false; busy = false; });
}"""

KUAISHOU_QUERY = ("query visionSearchPhoto($keyword: String, $pcursor: String, $searchSessionId: String, "
                  "$page: String, $webPageArea: String) { visionSearchPhoto(keyword: $keyword, pcursor: $pcursor, "
                  "searchSessionId: $searchSessionId, page: $page, webPageArea: $webPageArea) { result llsid "
                  "webPageArea feeds { type author { id name headerUrl following } photo { id duration caption "
                  "originCaption likeCount viewCount commentCount realLikeCount coverUrl photoUrl timestamp } "
                  "canAddComment llsid status currentPcursor tags { type name } } searchSessionId pcursor } }")

KUAISHOU_LOAD = """const kw = new URLSearchParams(location.search).get("searchKey") || "";
let pcursor = "", session = "";
// the real page makes other GraphQL calls too (MediaCrawler's login check uses this operation)
const ping = JSON.stringify({operationName: "visionProfileUserList", variables: {ftype: 1},
  query: "query visionProfileUserList($ftype: Int) { visionProfileUserList(ftype: $ftype) { result } }"});
fetch(API + "?__NS_hxfalcon=" + sign(ping + NONCE), {method: "POST", credentials: "same-origin",
  headers: {"content-type": "application/json"}, body: ping});
function load() {
  if (busy || !more) return; busy = true;
  const body = JSON.stringify({operationName: "visionSearchPhoto", variables: {keyword: kw, pcursor: pcursor,
    page: "search", searchSessionId: session}, query: QUERY});
  fetch(API + "?__NS_hxfalcon=" + sign(body + NONCE), {method: "POST", credentials: "same-origin",
    headers: {"content-type": "application/json"}, body: body})
    .then(r => r.json()).then(d => {
      const v = (d.data || {}).visionSearchPhoto || {};
      show((v.feeds || []).length); pcursor = v.pcursor || "no_more"; session = v.searchSessionId || session;
      more = v.result === 1 && pcursor !== "no_more"; busy = false;
    }).catch(() => { more = false; busy = false; });
}"""

XHS_LOAD = """const kw = new URLSearchParams(location.search).get("keyword") || "";
let page = 1;
const SEARCH_ID = "2e" + Date.now().toString(36);
function load() {
  if (busy || !more) return; busy = true;
  const body = JSON.stringify({keyword: kw, page: page, page_size: 20, search_id: SEARCH_ID,
    sort: "time_descending", note_type: 0});
  const xt = String(Date.now());
  fetch(API, {method: "POST", credentials: "include", body: body, headers: {
      "content-type": "application/json;charset=UTF-8", "x-t": xt, "x-s": "XYW_" + sign(xt + API + body + NONCE)}})
    .then(r => r.json()).then(d => {
      const data = d.data || {};
      show((data.items || []).length); more = d.success === true && !!data.has_more; page += 1; busy = false;
    }).catch(() => { more = false; busy = false; });
}"""

VERIFY_PAGE = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title></head>'
               '<body><div class="verify">请完成安全验证后继续访问</div></body></html>')


def fnv1a(data: bytes) -> str:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def _cookie(req: SiteRequest, name: str) -> str:
    for part in req.header("Cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


class SignedSearch:
    """One platform's search page and signed API (see the module doc); mount on a SignedSite."""

    title = "搜索"
    page_path = ""
    api_path = ""
    nonce_cookie: str | None = None
    load_js = ""
    extra_js = ""

    def __init__(self, payload: Callable[[str, Any], Any], redirect: Callable[[str], str | None] | None = None,
                 api_path: str | None = None) -> None:
        self.payload = payload
        self.redirect = redirect
        if api_path:
            self.api_path = api_path
        self.nonces: set[str] = set()
        self.refused = 0
        self.api_calls: list[SiteRequest] = []

    # -- to override --------------------------------------------------------------------
    def is_page(self, req: SiteRequest) -> bool:
        return req.path == self.page_path

    def page_keyword(self, req: SiteRequest) -> str:
        raise NotImplementedError

    def verify(self, req: SiteRequest) -> tuple[str, Any] | None:
        """(keyword, cursor) of a correctly signed call, else None."""
        raise NotImplementedError

    # -- serving ------------------------------------------------------------------------
    def page(self, req: SiteRequest) -> Reply:
        target = self.redirect(self.page_keyword(req)) if self.redirect else None
        if target:
            return Reply("", 302, {"Location": target, "Content-Type": "text/html; charset=utf-8"})
        nonce = secrets.token_hex(8)
        self.nonces.add(nonce)
        body = PAGE % {"title": self.title, "nonce": json.dumps(nonce), "api": json.dumps(self.api_path),
                       "sign": SIGN_JS, "load": self.extra_js + self.load_js, "scroll": SCROLL_JS}
        headers = dict(HTML)
        if self.nonce_cookie:
            headers["Set-Cookie"] = f"{self.nonce_cookie}={nonce}; Path=/"
        return Reply(body, 200, headers)

    def api(self, req: SiteRequest) -> Reply:
        self.api_calls.append(req)
        signed = self.verify(req)
        if signed is None:
            self.refused += 1
            return Reply(json.dumps({"status_code": 403, "code": 403, "success": False, "msg": "签名校验失败"},
                                    ensure_ascii=False), 403, JSON)
        body = self.payload(*signed)
        return Reply(body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False), 200, JSON)


class DouyinSearch(SignedSearch):
    title = "抖音搜索"
    api_path = "/aweme/v1/web/general/search/single/"
    load_js = DOUYIN_LOAD

    def is_page(self, req: SiteRequest) -> bool:
        return req.path.startswith("/search/")

    def page_keyword(self, req: SiteRequest) -> str:
        return unquote(req.path.rsplit("/", 1)[-1])

    def verify(self, req: SiteRequest) -> tuple[str, Any] | None:
        query = req.raw_path.partition("?")[2]
        signed, _, signature = query.rpartition("&a_bogus=")
        nonce = req.query.get("nonce", "")
        if not signed or nonce not in self.nonces or fnv1a((signed + nonce).encode()) != signature:
            return None
        try:
            offset = int(req.query.get("offset") or 0)
        except ValueError:
            return None
        return req.query.get("keyword", ""), offset


class KuaishouSearch(SignedSearch):
    title = "快手搜索"
    page_path = "/search/video"
    api_path = "/graphql"
    nonce_cookie = "did"
    load_js = KUAISHOU_LOAD
    extra_js = f"const QUERY = {json.dumps(KUAISHOU_QUERY)};\n"

    def page_keyword(self, req: SiteRequest) -> str:
        return req.query.get("searchKey", "")

    def verify(self, req: SiteRequest) -> tuple[str, Any] | None:
        nonce = _cookie(req, "did")
        if req.method != "POST" or nonce not in self.nonces:
            return None
        if fnv1a(req.body + nonce.encode()) != req.query.get("__NS_hxfalcon"):
            return None
        try:
            body = json.loads(req.body)
        except ValueError:
            return None
        variables = body.get("variables") or {}
        if body.get("operationName") != "visionSearchPhoto":
            return "", {"operation": str(body.get("operationName"))}
        return str(variables.get("keyword") or ""), str(variables.get("pcursor") or "")

    def api(self, req: SiteRequest) -> Reply:
        signed = self.verify(req)
        if signed is not None and isinstance(signed[1], dict):  # another operation of the page, signed
            self.api_calls.append(req)
            operation = signed[1]["operation"]
            return Reply(json.dumps({"data": {operation: {"result": 1}}}), 200, JSON)
        return super().api(req)


class XhsSearch(SignedSearch):
    title = "小红书搜索"
    page_path = "/search_result"
    api_path = "/api/sns/web/v1/search/notes"
    nonce_cookie = "a1"
    load_js = XHS_LOAD

    def page_keyword(self, req: SiteRequest) -> str:
        return req.query.get("keyword", "")

    def verify(self, req: SiteRequest) -> tuple[str, Any] | None:
        nonce = _cookie(req, "a1")
        xt, xs = req.header("x-t"), req.header("x-s")
        if req.method != "POST" or nonce not in self.nonces or not xt:
            return None
        expected = "XYW_" + fnv1a(xt.encode() + self.api_path.encode() + req.body + nonce.encode())
        if xs != expected:
            return None
        try:
            body = json.loads(req.body)
            return str(body.get("keyword") or ""), int(body.get("page") or 1)
        except (ValueError, TypeError):
            return None


class SignedSite(FixtureSite):
    """A FixtureSite serving one or more SignedSearch platforms (and a verify page at ``/verify``…)."""

    VERIFY_PATHS = ("/verify", "/website-login/captcha", "/login")

    def __init__(self, *searches: SignedSearch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.searches = list(searches)

    @property
    def refused(self) -> int:
        return sum(s.refused for s in self.searches)

    def resolve(self, req: SiteRequest) -> Reply:
        for search in self.searches:
            if req.path == search.api_path:
                return search.api(req)
        for search in self.searches:
            if search.is_page(req):
                return search.page(req)
        if req.path in self.VERIFY_PATHS:
            return Reply(VERIFY_PAGE, 200, HTML)
        return super().resolve(req)


class SigningSite(SignedSite):
    """A Douyin-like site: ``SigningSite(api_path, payload)`` with ``payload(keyword, offset)``."""

    def __init__(self, api_path: str, payload: Callable[[str, Any], Any], **kwargs: Any) -> None:
        super().__init__(DouyinSearch(payload, api_path=api_path), **kwargs)
