"""A local site whose search page signs its API call in JavaScript and whose API refuses unsigned calls.

It stands in for Douyin-like sites (tests, the demo): ``GET /search/{kw}`` returns a page with a
fresh per-page nonce; the page's script computes ``a_bogus`` = FNV-1a-32 of (query string +
nonce) and fetches ``{api_path}?{query}&a_bogus=…``. The API answers 403 unless the nonce was
issued by a page and the signature matches; otherwise it serves ``payload(keyword)``. The
signature is computed only in the page's JavaScript — a client that does not run the page
cannot call the API.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from crawlers.testing.site import FixtureSite, Reply, SiteRequest

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>搜索</title></head><body>
<div id="results">加载中…</div>
<script>
const NONCE = %(nonce)s, API = %(api)s;
function sign(s) {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(s)) { h ^= c; h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, "0");
}
const kw = decodeURIComponent(location.pathname.split("/").pop());
const qs = "keyword=" + encodeURIComponent(kw) + "&offset=0&count=10&nonce=" + NONCE;
fetch(API + "?" + qs + "&a_bogus=" + sign(qs + NONCE), {credentials: "same-origin"})
  .then(r => r.json()).then(d => { document.getElementById("results").textContent = (d.data || []).length + " 条"; });
</script></body></html>"""


def fnv1a(data: bytes) -> str:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


class SigningSite(FixtureSite):
    def __init__(self, api_path: str, payload: Callable[[str], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_path = api_path
        self.payload = payload
        self.nonces: set[str] = set()
        self.refused = 0

    def resolve(self, req: SiteRequest) -> Reply:
        if req.path.startswith("/search/"):
            nonce = secrets.token_hex(8)
            self.nonces.add(nonce)
            body = PAGE % {"nonce": json.dumps(nonce), "api": json.dumps(self.api_path)}
            return Reply(body, 200, {"Content-Type": "text/html; charset=utf-8"})
        if req.path == self.api_path:
            query = req.raw_path.partition("?")[2]
            signed, _, signature = query.rpartition("&a_bogus=")
            nonce = req.query.get("nonce", "")
            if not signed or nonce not in self.nonces or fnv1a((signed + nonce).encode()) != signature:
                self.refused += 1
                return Reply(json.dumps({"status_code": 403, "status_msg": "签名校验失败"}), 403,
                             {"Content-Type": "application/json; charset=utf-8"})
            body = self.payload(unquote(req.query.get("keyword", "")))
            return Reply(body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False), 200,
                         {"Content-Type": "application/json; charset=utf-8"})
        return super().resolve(req)
