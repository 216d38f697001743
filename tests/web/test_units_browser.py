"""In real headless Chromium: the city federation's user sees both districts' incidents on the board,
moves one to the other district with the 移交 control; the district user then finds it on the board
and the neighbour gets 404 for it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.conftest import PASSWORD, serve_app
from tests.web.units_fixtures import units_rt_fixture  # noqa: F401  (the units_rt fixture)
from yuqing.db.models import IncidentRow
from yuqing.runtime import Runtime

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser


@pytest.fixture
def units_server(units_rt: Runtime) -> Iterator[str]:
    yield from serve_app(units_rt)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _page(browser, base: str, username: str):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_city_moves_an_incident_and_the_districts_see_it_move(browser, units_server: str, units_rt: Runtime) -> None:
    with units_rt.session() as s:
        ids = {unit: iid for iid, unit in s.execute(select(IncidentRow.id, IncidentRow.unit_id))}
    city = _page(browser, units_server, "city1")
    assert city.locator("tr.incident-row").count() == 2
    city.goto(f"{units_server}/incidents/{ids['siming']}")
    assert city.inner_text("#unit") == "思明区妇联"
    city.select_option("#move-form select[name=unit]", "huli")
    city.fill("#move-form input[name=reason]", "经核实事发地在湖里区")
    city.click("#move-form button")
    city.wait_for_selector("#unit >> text=湖里区妇联（人工移交）")
    assert "incident.move" in city.inner_text(".audit")

    huli = _page(browser, units_server, "huli1")
    assert huli.locator("tr.incident-row").count() == 2  # its own and the moved one
    siming = _page(browser, units_server, "siming1")
    assert siming.locator("tr.incident-row").count() == 0
    response = siming.goto(f"{units_server}/incidents/{ids['siming']}")
    assert response is not None and response.status == 404
