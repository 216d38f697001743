"""The zhihu spider through real Chromium (crawlers/browser.py) against a local Zhihu-like site.

The site's ``/search`` page signs its call to ``/api/v4/search_v3`` in JavaScript (an
``x-zse-96`` header computed from the path, a per-page nonce and the ``d_c0`` cookie, as Zhihu's
depends on ``d_c0``); the API answers Zhihu's HTTP 403 ``10003 请求参数异常`` to anything else, and a
visitor without ``z_c0`` is sent to ``/signin``. The spider signs nothing.
"""

from __future__ import annotations

import json
import secrets
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from crawlers.browser import chromium_path
from crawlers.testing.signing_site import fnv1a
from crawlers.testing.site import FixtureSite, Reply, SiteRequest
from yuqing.validation import post_from_obj

FIX = Path(__file__).parent / "fixtures" / "zhihu"
API = "/api/v4/search_v3"
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>搜索 - 知乎</title></head><body>
<div id="SearchMain">加载中…</div>
<script>
const NONCE = %(nonce)s;
function fnv(s) {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(s)) { h ^= c; h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, "0");
}
const dc0 = (document.cookie.match(/(?:^|; )d_c0=([^;]*)/) || [])[1] || "";
const q = new URLSearchParams(location.search).get("q") || "";
const path = "/api/v4/search_v3?gk_version=gz-gaokao&t=general&q=" + encodeURIComponent(q) +
  "&correction=1&offset=0&limit=20&search_source=Normal&nonce=" + NONCE;
fetch(path, {headers: {"x-zse-93": "101_3_3.0", "x-zse-96": "2.0_" + fnv(path + NONCE + dc0),
                       "x-api-version": "3.0.91", "x-requested-with": "fetch"}, credentials: "same-origin"})
  .then(r => r.json()).then(d => { document.getElementById("SearchMain").textContent = (d.data || []).length; });
</script></body></html>"""


def _cookie(req: SiteRequest, name: str) -> str:
    for pair in req.headers.get("Cookie", "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return value
    return ""


class ZhihuSite(FixtureSite):
    def __init__(self) -> None:
        super().__init__()
        self.nonces: set[str] = set()
        self.refused = 0
        self.api_calls: list[SiteRequest] = []

    def resolve(self, req: SiteRequest) -> Reply:
        if req.path == "/search":
            if not _cookie(req, "z_c0"):
                return Reply("", 302, {"Location": "/signin?next=%2Fsearch"})
            nonce = secrets.token_hex(8)
            self.nonces.add(nonce)
            return Reply(PAGE % {"nonce": json.dumps(nonce)}, 200, {"Content-Type": "text/html; charset=utf-8"})
        if req.path == "/signin":
            return Reply("<html><title>知乎 - 有问题，就会有答案</title><body>登录</body></html>", 200,
                         {"Content-Type": "text/html; charset=utf-8"})
        if req.path == API:
            self.api_calls.append(req)
            expected = "2.0_" + fnv1a((req.raw_path + req.query.get("nonce", "") + _cookie(req, "d_c0")).encode())
            if (req.query.get("nonce") not in self.nonces or not _cookie(req, "d_c0")
                    or req.headers.get("x-zse-96") != expected):
                self.refused += 1
                return Reply((FIX / "error-10003-403.json").read_bytes(), 403,
                             {"Content-Type": "application/json; charset=utf-8"})
            body = (FIX / "search_v3-author-written.json").read_bytes() if req.query.get("q") == "家暴" else (
                b'{"paging":{"is_end":true},"data":[]}')
            return Reply(body, 200, {"Content-Type": "application/json; charset=utf-8"})
        return super().resolve(req)


@pytest.fixture
def zhihu_site() -> Iterator[ZhihuSite]:
    if not shutil.which("chromium") and not Path(chromium_path()).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    site = ZhihuSite().start()
    yield site
    site.stop()


def _source(config_file: Path, monkeypatch: pytest.MonkeyPatch, cookie: str | None) -> None:
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["sources"] = [{"name": "zhihu", "spider": "zhihu", "download_delay": 0, "cookie_env": "YUQING_TEST_ZHIHU",
                        "args": {"browser_timeout": 4}}]
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    if cookie is None:
        monkeypatch.delenv("YUQING_TEST_ZHIHU", raising=False)
    else:
        monkeypatch.setenv("YUQING_TEST_ZHIHU", cookie)


def test_unsigned_search_call_is_refused_like_zhihu(zhihu_site):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{zhihu_site.url}{API}?t=general&q=x&offset=0&limit=20", timeout=5)
    assert err.value.code == 403
    assert json.loads(err.value.read()) == {"error": {"message": "请求参数异常，请升级客户端后重试。", "code": 10003}}


def test_zhihu_results_field_by_field_through_the_page(zhihu_site, crawl, config_file, monkeypatch):
    _source(config_file, monkeypatch, "z_c0=2|1:0|10:token; d_c0=AbCd1234|1722511475")
    result = crawl("zhihu", keywords="家暴", base_url=zhihu_site.url, since="2025-06-01T00:00:00+08:00")
    assert result.summary.status == "ok", result.log[-3000:]
    assert zhihu_site.refused == 0 and len(zhihu_site.api_calls) == 1  # the page's own signed call
    assert "z_c0=2|1:0|10:token" in zhihu_site.api_calls[0].headers.get("Cookie", "")
    for item in result.items:
        post_from_obj(item)
    items = result.by_id()
    # the 2025-01-01 answer is older than since; topic, related-query and ad entries are no posts
    assert sorted(items) == ["zhihu:answer:3456789012", "zhihu:answer:3456789013", "zhihu:article:1917000000000000001",
                             "zhihu:zvideo:1918000000000000001"]
    assert items["zhihu:answer:3456789012"] == {
        "id": "zhihu:answer:3456789012", "platform": "zhihu",
        "url": "https://www.zhihu.com/question/612345678/answer/3456789012",
        "title": "如何看待某地家暴案一审宣判?", "text": "法院依法审理一起家暴案件,并发出人身安全保护令......",
        "author": "法律人老王", "author_id": "laowang-law", "published_at": "2025-06-14T12:00:00+08:00",
        "updated_at": "2025-06-14T13:00:00+08:00", "likes": 1520, "comments": 87, "content_type": "answer",
        "question_id": "zhihu:question:612345678", "fetched_at": "2025-06-14T14:00:00+08:00", "keywords": ["家暴"]}
    article = items["zhihu:article:1917000000000000001"]
    assert (article["url"], article["title"], article["author"], article["published_at"]) == (
        "https://zhuanlan.zhihu.com/p/1917000000000000001", "反家暴法实施九年:保护令为何仍难申请", "某地妇联观察",
        "2025-06-13T13:00:00+08:00")
    video = items["zhihu:zvideo:1918000000000000001"]
    assert (video["url"], video["author"], video["published_at"], video["text"]) == (
        "https://www.zhihu.com/zvideo/1918000000000000001", "视频律师", "2025-06-12T11:46:40+08:00", "律师讲解如何保存证据")
    anonymous = items["zhihu:answer:3456789013"]
    assert anonymous["author"] == "匿名用户" and "author_id" not in anonymous
    assert anonymous["title"] == "遭遇家暴应该怎么办?"  # the question's title when there is no highlight


def test_zhihu_signature_refused_pauses_the_source(zhihu_site, crawl, config_file, monkeypatch):
    _source(config_file, monkeypatch, "z_c0=2|1:0|10:token")  # no d_c0: the page's signature is wrong
    result = crawl("zhihu", keywords="家暴", base_url=zhihu_site.url)
    assert result.summary.status == "banned" and result.items == []
    assert zhihu_site.refused == 1
    assert result.summary.ban_reason.startswith(
        "知乎接口拒绝（HTTP 403，code=10003）：请求参数异常，请升级客户端后重试。: https://www.zhihu.com/api/v4/search_v3?")


def test_zhihu_without_cookie_is_a_login_wall(zhihu_site, crawl, config_file, monkeypatch):
    _source(config_file, monkeypatch, None)
    result = crawl("zhihu", keywords="家暴", base_url=zhihu_site.url)
    assert result.summary.status == "banned" and result.items == []
    assert zhihu_site.api_calls == []  # sent to /signin, the API was never called
    assert result.summary.ban_reason == ("知乎要求登录：搜索页没有请求搜索接口（未配置登录 Cookie）: "
                                         "https://www.zhihu.com/search?type=content&q=%E5%AE%B6%E6%9A%B4")
