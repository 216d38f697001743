"""In real headless Chromium: a crafted post produces no live foreign link in any rendered message preview
(issue 14), and the pages show it masked, with only http(s) links.

A post carrying markdown/Slack/HTML link syntax, an ``<@all>`` mention and a ``javascript:`` URL goes
through the real pipeline; the engine's notification to it is rendered on the incident page the way the
chat robots render their markdown (``web.message_preview``). Chromium then reads every ``<a>`` of the page:
each must point at this site or at an allowed http(s) post URL, never at the crafted host or a
``javascript:``/``data:`` URL, and the crafted link text must be visible as plain text.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.web.conftest import make_posts
from tests.web.test_browser import _login, page  # noqa: F401  (the project's Chromium fixture)
from yuqing.db.models import IncidentPostRow
from yuqing.runtime import Runtime

pytestmark = pytest.mark.browser

EVIL = "https://evil.example/phish"
CRAFTED = {"id": "w:evil", "author": "[官方](https://evil.example/a) <@all>", "reposts": 9000, "comments": 900,
           "likes": 20000, "category": "emergency", "severity": 3, "hours_ago": 1, "url": "javascript:alert(1)",
           "text": f"[官方通报]({EVIL}) 紧急扩散 <!channel> <@all> <at id=all></at> <{EVIL}|市妇联声明> "
                   f"![图]({EVIL}/x.png) <a href=\"{EVIL}\">点此</a> 受害女童身份证530102201204125633"}


def test_crafted_post_has_no_live_foreign_link_in_message_previews(page, live_server: str,  # noqa: F811
                                                                  web_rt: Runtime) -> None:
    make_posts(web_rt, [CRAFTED])
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentPostRow.incident_id).where(IncidentPostRow.post_id == "w:evil"))
    assert inc is not None
    _login(page, live_server, "duty1")
    page.goto(f"{live_server}/incidents/{inc}")
    previews = page.locator("#notifications .message-preview")
    assert previews.count() >= 1, "the incident's notification should be listed with a preview"
    for summary in page.locator("#notifications summary").all():
        summary.click()
    preview_text = previews.first.inner_text()
    assert "官方通报" in preview_text and "530102201204125633" not in preview_text
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    preview_hrefs = page.eval_on_selector_all("#notifications a[href]", "els => els.map(e => e.href)")
    own = urlsplit(live_server).netloc
    for href in hrefs:
        parts = urlsplit(href)
        assert parts.scheme in ("http", "https"), href
        assert parts.netloc == own or parts.netloc.endswith("weibo.example") or parts.netloc == "weibo.com", href
        assert "evil.example" not in href, href
    assert all("evil.example" not in h for h in preview_hrefs) and preview_hrefs == [], preview_hrefs
    body = page.inner_text("body")
    assert "530102201204125633" not in body
    print(f"\nChromium: {len(hrefs)} links on the incident page, {previews.count()} message previews, "
          f"0 foreign or non-http(s) links")
