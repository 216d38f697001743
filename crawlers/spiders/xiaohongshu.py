"""xiaohongshu: 小红书 keyword search through the site's own search page in a browser.

www.xiaohongshu.com signs its API calls in JavaScript (headers ``x-s`` / ``x-t`` / ``x-s-common``);
we sign nothing. Each keyword's page ``/search_result?keyword={kw}&source=web_search_result_notes``
is loaded in Chromium (crawlers.browser.BrowserCaptureMiddleware) and the page's own ``POST
/api/sns/web/v1/search/notes`` replies (on edith.xiaohongshu.com) are captured. Posts are
``data.items[]`` with ``model_type`` "note" (related-search and ad slots are skipped): ``id``
(URL ``https://www.xiaohongshu.com/explore/{id}`` with the item's ``xsec_token``), ``note_card``
``display_title`` (title and text; ``desc`` when the card has it), ``user.user_id`` /
``nickname`` (or ``nick_name``), ``interact_info.liked_count`` / ``comment_count`` /
``collected_count`` / ``shared_count`` (strings such as "1.2万"), the publish time from
``corner_tag_info[type=publish_time].text`` ("6分钟前", "昨天 12:30", "05-12", "2023-05-12"; Beijing
time; ``time`` in ms when the card has it) and ``ip_location`` (IP属地) when given. Further pages
come from scrolling while ``data.has_more`` (browser_search.py: max_pages, incremental stop).
``code`` -100 (登录已过期 / 无登录信息), 300011 (账号异常), 300012 (IP 被风控) or any other
``success: false`` reply, and HTTP 461/471 (captcha) pause the source with the reason. Needs a
logged-in cookie (``cookie_env``: a1, web_session…); disabled by default. Provenance:
tests/crawlers/fixtures/README.md (xiaohongshu).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from crawlers.parsing import count_or_none, iso
from crawlers.spiders.browser_search import BrowserSearchSpider, PageRead
from yuqing.timeutil import SHANGHAI

SEARCH_API = "/api/sns/web/v1/search/notes"
WALL_CODES = {-100: "登录已过期或未登录（需要更新登录 Cookie）", 300011: "账号异常（被限制）",
              300012: "IP 被风控拦截"}




def publish_text(card: dict[str, Any]) -> str | None:
    for tag in card.get("corner_tag_info") or []:
        if isinstance(tag, dict) and tag.get("type") == "publish_time" and tag.get("text"):
            return str(tag["text"]).strip()
    return None


class XiaohongshuSpider(BrowserSearchSpider):
    name = "xiaohongshu"
    platform = "xiaohongshu"
    platform_zh = "小红书"
    site = "https://www.xiaohongshu.com"
    capture = SEARCH_API

    def search_path(self, keyword: str) -> str:
        return f"/search_result?keyword={quote(keyword)}&source=web_search_result_notes"

    def wall_reason(self, payload: dict[str, Any]) -> str | None:
        if payload.get("success", True) is not False and payload.get("code", 0) in (0, 1000, None):
            return None
        code = payload.get("code")
        what = WALL_CODES.get(code, "接口拒绝请求")
        msg = payload.get("msg") or ""
        return f"搜索接口返回 code={code}：{what}{'（' + msg + '）' if msg else ''}"

    def read(self, payload: dict[str, Any]) -> PageRead:
        data = payload.get("data") or {}
        out = PageRead(more=bool(data.get("has_more")))
        for item in data.get("items") or []:
            card = item.get("note_card") or {}
            if item.get("model_type") != "note" or not item.get("id") or not card:
                out.skipped += 1
                continue
            post, raw_date = self.post(item, card)
            out.posts.append(post)
            out.dates.append((post["id"], raw_date))
        return out

    def post(self, item: dict[str, Any], card: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        note_id = str(item["id"])
        user = card.get("user") or {}
        interact = card.get("interact_info") or {}
        raw_date: Any = card.get("time") or publish_text(card)
        if isinstance(raw_date, int | float):
            published = datetime.fromtimestamp(raw_date / 1000, UTC).astimezone(SHANGHAI).isoformat()
        else:
            parsed = self.date_of(raw_date)
            published = iso(parsed) if parsed is not None else None
        token = item.get("xsec_token")
        url = f"{self.site}/explore/{note_id}" + (f"?xsec_token={token}&xsec_source=pc_search" if token else "")
        title = card.get("display_title") or card.get("title") or ""
        post: dict[str, Any] = {
            "id": f"xiaohongshu:{note_id}",
            "platform": self.platform,
            "url": url,
            "title": title,
            "text": card.get("desc") or title,
            "author": user.get("nickname") or user.get("nick_name"),
            "author_id": str(user["user_id"]) if user.get("user_id") else None,
            "published_at": published,
            "published_text": raw_date if isinstance(raw_date, str) else None,
            "likes": count_or_none(interact.get("liked_count")),
            "comments": count_or_none(interact.get("comment_count")),
            "reposts": count_or_none(interact.get("shared_count") or interact.get("share_count")),
            "collects": count_or_none(interact.get("collected_count")),
            "region": card.get("ip_location") or None,
            "note_type": card.get("type"),
        }
        return {k: v for k, v in post.items() if v is not None}, raw_date if isinstance(raw_date, str) else published
