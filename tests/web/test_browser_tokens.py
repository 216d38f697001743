"""In real headless Chromium (Debian's /usr/bin/chromium driven by Playwright): a user creates an API
token on the 「API 令牌」 page, a script uses it with an HTTP client against the running server (incidents
in Beijing time), the user revokes it in the page and the script gets 401; the API documentation page
renders from local files only."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.test_browser import ARTIFACTS, _login, page  # noqa: F401  (the page fixture)

pytestmark = pytest.mark.browser


def test_create_use_and_revoke_a_token_in_the_browser(page, live_server: str) -> None:  # noqa: F811
    base = live_server
    ARTIFACTS.mkdir(exist_ok=True)
    _login(page, base, "duty1")
    page.click("a[data-nav=tokens]")
    page.wait_for_url(f"{base}/tokens")
    assert "还没有令牌" in page.inner_text("#tokens")
    page.fill("#create-token input[name=label]", "值班大屏脚本")
    page.click("#create-token button[type=submit]")
    token = page.inner_text("#new-token-value").strip()
    assert token.startswith("yq_") and "离开本页后无法再次查看" in page.inner_text("#new-token")
    row = page.locator("tr.token-row").first
    assert "值班大屏脚本" in row.inner_text() and "有效" in row.inner_text() and token not in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "tokens.png"), full_page=True)

    with httpx.Client(base_url=base, timeout=10) as script:  # an integrator: no cookie, no CSRF token
        resp = script.get("/api/incidents", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["total"] == 1 and body["incidents"][0]["category_zh"] == "权益侵害类"
        assert body["incidents"][0]["deadline"].endswith("+08:00")
        inc = body["incidents"][0]["id"]
        ack = script.post(f"/api/incidents/{inc}/ack", json={}, headers={"Authorization": f"Bearer {token}"})
        assert ack.status_code == 200, ack.text  # the token carries duty1's role (值班员 may confirm)

        page.reload()  # the token is never shown again, and reloading makes no second one
        assert token not in page.content() and "最近使用" in page.inner_text("#tokens")
        assert page.locator("tr.token-row").count() == 1
        assert "未使用" not in page.locator("tr.token-row").first.inner_text()
        page.locator("tr.token-row button.revoke").first.click()
        page.wait_for_selector("text=已撤销令牌")
        assert "已撤销" in page.locator("tr.token-row").first.inner_text()

        refused = script.get("/api/incidents", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and refused.json()["detail"] == "API 令牌无效、已撤销，或其用户已停用"


def test_api_docs_render_from_local_files(page, live_server: str) -> None:  # noqa: F811
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    _login(page, live_server, "ana1")
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path[data-path=\"/api/incidents\"]", timeout=20000)
    assert page.locator("button.authorize").count() == 1  # the bearer scheme is offered
    assert "/api/incidents/{incident_id}/posts" in page.inner_text(".swagger-ui")
    hosts = {urlsplit(u).hostname for u in requested if u.startswith("http")}
    assert hosts == {"127.0.0.1"}, hosts  # nothing from a CDN
