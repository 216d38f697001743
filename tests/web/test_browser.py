"""End-to-end in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
log in, watch a new incident appear on the board, acknowledge, tick the checklist, record the
response, advance the stage, search and export, download a .docx report and open it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from tests.web.conftest import PASSWORD, make_posts
from yuqing.db.models import IncidentRow
from yuqing.runtime import Runtime

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server: str):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1400, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15000)
        yield pg
        context.close()
        browser.close()


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_duty_and_responder_workflow(page, live_server: str, web_rt: Runtime) -> None:
    base = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    _login(page, base, "resp1")
    page.goto(f"{base}/?refresh=1000")
    assert page.locator("tr.incident-row").count() == 1
    # a new event arrives while the board is open: it appears without reloading
    make_posts(web_rt, [{"id": "w:99", "author": "晨报", "author_verified": True, "reposts": 5000, "comments": 900,
                         "likes": 12000, "category": "emergency", "severity": 3, "hours_ago": 1,
                         "text": "突发：临河县一幼儿园午餐后多名幼儿出现呕吐症状，已送医救治，原因正在调查"}])
    page.wait_for_function("() => document.querySelectorAll('tr.incident-row').length == 2", timeout=20000)
    assert "突发事件类" in page.inner_text("#board")
    countdown = page.locator(".countdown").first.inner_text()
    assert countdown.startswith(("剩余", "已超时"))
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

    with web_rt.session() as s:
        new_id = s.scalar(select(IncidentRow.id).where(IncidentRow.category == "emergency"))
    row = page.locator(f"tr[data-incident='{new_id}']")
    row.locator("button.ack").click()
    page.wait_for_selector(f"tr[data-incident='{new_id}'] >> text=已确认")

    page.goto(f"{base}/incidents/{new_id}")
    first_item = page.locator("#checklist li.item.status-open").first
    item_id = first_item.get_attribute("data-item")
    first_item.locator("button.tick").click()
    page.wait_for_selector(f"li[data-item='{item_id}'].status-done")

    page.fill("#respond-form input[name=url]", "https://weibo.com/linhe/notice")
    page.click("#respond-form button")
    page.wait_for_selector("text=已记录首次公开回应")
    assert "已回应" in page.inner_text(".facts")

    page.fill("#advance-form input[name=reason]", "启动应对")
    page.fill("#advance-form input[name=override_reason]", "重大事件，领导决定立即应对")
    page.click("#advance-form button")
    page.wait_for_selector("text=已推进到下一阶段")
    assert page.inner_text("#stage") in ("应对", "善后")  # severity 3 may already have opened in 应对
    page.screenshot(path=str(ARTIFACTS / "incident.png"), full_page=True)
    with web_rt.session() as s:
        row_db = s.get(IncidentRow, new_id)
        assert row_db.first_response_at is not None and row_db.acknowledged_by == "resp1"

    # draft checker in the workspace
    page.fill("#draft textarea", "关于此事，我会无可奉告。")
    page.click("#draft button")
    page.wait_for_selector(".findings")
    assert "无可奉告" in page.inner_text(".findings")

    # analyst work: search, export, report
    page.goto(f"{base}/search?q=幼儿园")
    assert page.inner_text("#total") == "1"
    assert page.locator(".hit em").first.inner_text() == "幼儿园"
    with page.expect_download() as dl:
        page.goto(f"{base}/reports?kind=incident&incident={new_id}")
        page.click("#docx")
    path = dl.value.path()
    text = "\n".join(p.text for p in Document(io.BytesIO(Path(path).read_bytes())).paragraphs)
    assert "舆情专报" in text and "处置经过" in text


def test_analyst_export_csv_download(page, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "ana1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/search?q=家暴")
    assert page.inner_text("#total") == "2"
    with page.expect_download() as dl:
        page.click("#export")
    csv_text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0].startswith("编号,平台") and len(csv_text.splitlines()) == 3
    assert "138****5678" in csv_text and "13812345678" not in csv_text
