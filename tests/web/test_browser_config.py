"""Configuration edited in real Chromium, in force without a restart: a keyword added to a scheme (and
a scheme added) is what the next real crawl of a local site asks for; a roster change is where the
next escalation goes (the engine's tick driven on a controlled clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crawlers.runner import run_source
from crawlers.testing.site import FixtureSite, Reply, SiteRequest
from tests.conftest import write_config
from tests.web.test_browser import ARTIFACTS, _login, page  # noqa: F401  (the real-Chromium page fixture)
from yuqing import config_store
from yuqing.db.models import IncidentRow, NotificationRow
from yuqing.runtime import Runtime

pytestmark = pytest.mark.browser

EMPTY = "<html><body><div id='content_left'></div></body></html>"
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0, "YUQING_RETRY_BACKOFF_BASE": 0}


@pytest.fixture
def news_site() -> Iterator[FixtureSite]:
    site = FixtureSite(handlers={"/s": lambda req: Reply(EMPTY, 200, {"Content-Type": "text/html; charset=utf-8"})})
    site.start()
    yield site
    site.stop()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, news_site: FixtureSite) -> Path:
    """The test config with one news source on the local site, crawling every scheme's words."""
    path = write_config(tmp_path, {"sources": [{"name": "news", "spider": "baidu_news", "base_url": news_site.url,
                                                "download_delay": 0, "interval_minutes": 10,
                                                "args": {"max_pages": 1}}]})
    monkeypatch.setenv("YUQING_CONFIG", str(path))
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_DATA_DIR", raising=False)
    return path


def _words(requests: list[SiteRequest]) -> set[str]:
    return {r.query.get("word", "") for r in requests if r.path == "/s"}


def _crawl(rt: Runtime, site: FixtureSite) -> set[str]:
    site.requests.clear()
    summary = run_source(rt.settings, "news", scrapy_settings=FAST, timeout=120)
    assert summary.returncode == 0, summary.message
    return _words(site.requests)


def test_keyword_added_in_browser_is_used_by_the_next_crawl(page, live_server: str, web_rt: Runtime,  # noqa: F811
                                                            news_site: FixtureSite) -> None:
    before = _crawl(web_rt, news_site)
    assert before and "彩礼纠纷" not in before and "拐卖儿童" not in before
    _login(page, live_server, "admin1")
    page.goto(f"{live_server}/admin")
    page.click("a[data-edit=keyword_schemes]")
    page.wait_for_url(f"{live_server}/admin/config/keyword_schemes")
    event = page.locator('textarea[name="keyword_schemes.1.event"]')
    event.fill(event.input_value() + "\n彩礼纠纷")
    page.click('[data-scheme-preview="keyword_schemes.1"]')  # the live preview of the scheme being edited
    page.wait_for_selector("#preview-out .preview")
    assert "匹配" in page.inner_text("#preview-out")
    # a new scheme from the add button; first without any word: refused, the error at the item
    page.click('button[data-add="keyword_schemes"]')
    new = page.locator('[id="items-keyword_schemes"] > fieldset').last
    new.locator('input[name$=".name"]').fill("拐卖儿童专项")
    page.fill("input[name=__comment]", "新增彩礼纠纷与拐卖方案")
    page.click("#cfg-save")
    page.wait_for_selector(".error[role=alert]")
    item_error = page.locator('[id="items-keyword_schemes"] > fieldset').last.locator(".field-error")
    assert "至少需要一个非空词组" in item_error.inner_text()
    with web_rt.session() as s:
        assert config_store.latest(s) is None  # nothing saved
    assert "彩礼纠纷" in page.locator('textarea[name="keyword_schemes.1.event"]').input_value()  # input kept
    page.locator('[id="items-keyword_schemes"] > fieldset').last.locator('textarea[name$=".event"]').fill("拐卖儿童")
    page.click("#cfg-save")
    page.wait_for_selector(".flash")
    assert "已保存为配置版本 1" in page.inner_text(".flash")
    # the next crawl (as the scheduler's crawl job runs it: a child process that reads the configuration)
    after = _crawl(web_rt, news_site)
    assert {"彩礼纠纷", "拐卖儿童"} <= after and before <= after
    page.goto(f"{live_server}/admin/config/history")
    row = page.locator("tr[data-version='1']")
    row.locator("summary").click()
    assert "+  - 彩礼纠纷" in row.locator("pre.diff").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-config-history.png"), full_page=True)
    assert "admin1" in row.inner_text() and "新增彩礼纠纷与拐卖方案" in row.inner_text()


def test_roster_edited_in_browser_next_escalation_goes_to_new_person(page, live_server: str,  # noqa: F811
                                                                      web_rt: Runtime) -> None:
    from alerting.engine.core import tick

    with web_rt.session() as s:
        incident = s.scalars(select(IncidentRow)).first()
        assert incident is not None and incident.acknowledged_at is None
        detected = incident.detected_at
    _login(page, live_server, "admin1")
    page.goto(f"{live_server}/admin/config/roster")
    page.click('button[data-add="roster.people"]')
    new = page.locator('[id="items-roster.people"] > fieldset').last
    new.locator('input[name$=".id"]').fill("head2")
    new.locator('input[name$=".name"]').fill("新任科室负责人")
    page.fill('textarea[name="roster.escalation.1.people"]', "head2")
    page.fill('input[name="roster.ack_timeout_minutes"]', "10")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-config-roster.png"), full_page=True)
    page.click("#cfg-save")
    page.wait_for_selector(".flash")
    assert "已保存为配置版本" in page.inner_text(".flash")
    # the engine's next tick, 11 minutes after the alert on a controlled clock: escalation level 1
    with web_rt.session() as s:
        tick(s, detected + timedelta(minutes=11), web_rt.settings)
    with web_rt.session() as s:
        rows = s.scalars(select(NotificationRow).where(NotificationRow.kind == "escalation")).all()
        assert rows, "no escalation after the new 10-minute timeout"
        recipients = {r for row in rows for r in (row.recipients or [])}
        texts = " ".join(str((row.payload or {}).get("text", "")) for row in rows)
    assert "head2" in recipients and "head" not in recipients
    assert "新任科室负责人" in texts
    page.goto(f"{live_server}/admin")
    assert "科室负责人" in page.inner_text("#roster")
