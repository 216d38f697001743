"""Web hardening: CSV formula cells, snippets escaped once, security headers, login back-off per
account and address, no user enumeration, revocable sessions, CSRF rotation, trusted proxies,
permissions of the draft checker and the API description."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, login
from tests.web.instance import shared_rt  # noqa: F401  (the module's one instance)
from web.app import create_app
from web.auth import set_active, set_password
from web.views.search import csv_cell
from yuqing.runtime import Runtime
from yuqing.timeutil import SimClock

FREE = 2  # failed attempts per (account, address) before the back-off starts, in these tests


def _token(client: TestClient) -> str:
    return client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]


def _try(client: TestClient, username: str, password: str, token: str | None = None):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token or _token(client)}, follow_redirects=False)


@pytest.fixture
def sim_rt(shared_rt: Runtime) -> Iterator[Runtime]:  # noqa: F811
    web = shared_rt.settings.web
    clock, proxies, free = shared_rt.clock, list(web.trusted_proxies), web.login_max_attempts
    shared_rt.clock = SimClock(clock.now())
    web.login_max_attempts = FREE  # fewer argon2 checks per test; the rule is the same
    yield shared_rt
    shared_rt.clock = clock
    web.trusted_proxies, web.login_max_attempts = proxies, free


@pytest.fixture
def client(sim_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(sim_rt)) as c:
        yield c


@pytest.fixture
def app_of(sim_rt: Runtime) -> Iterator:
    app = create_app(sim_rt)
    clients: list[TestClient] = []

    def client(address: str = "203.0.113.7") -> TestClient:
        c = TestClient(app, client=(address, 40000))
        c.__enter__()
        clients.append(c)
        return c

    yield client
    for c in clients:
        c.__exit__(None, None, None)


# --- CSV and snippets ------------------------------------------------------------------------------

def test_csv_cell_rule() -> None:
    assert csv_cell('=HYPERLINK("http://evil","点我")') == '\'=HYPERLINK("http://evil","点我")'
    for bad in ("+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "=1"):
        assert csv_cell(bad) == "'" + bad
    for kept in ("-12", "-3.5", "12", "家暴", "", 5, None, "a=b"):
        assert csv_cell(kept) == kept


def test_csv_export_neutralises_formulas_from_crawled_posts(client: TestClient) -> None:
    login(client, "ana1")
    resp = client.get("/search.csv", params={"q": "家暴"})
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    evil = next(r for r in rows if r[0] == "'=evil")
    assert evil[2] == "'@攻击者" and evil[3] == "'+标题" and evil[4].startswith("'=HYPERLINK") and evil[1] == "'-2+3"
    assert next(r for r in rows if r[0] == "w:neg")[4] == "-12"  # a plain negative number stays a number
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c.startswith("-") and c != "-12")]


def test_search_snippets_are_escaped_once(client: TestClient) -> None:
    login(client, "resp1")
    page = client.get("/search", params={"q": "家暴 粗体"})
    assert page.status_code == 200
    snippet = page.text.split('<div class="snippet">')[1].split("</div>")[0]
    assert "<em>家暴</em>" in snippet and "<em>粗体</em>" in snippet
    assert "&gt;" in snippet and "&amp;" in snippet and "&lt;b&gt;" in snippet
    assert "&amp;gt;" not in snippet and "&amp;lt;" not in snippet and "&amp;amp;" not in snippet
    assert "<b>" not in snippet


# --- headers and permissions -----------------------------------------------------------------------

def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in ("/login", "/static/app.js", "/api/health", "/no-such-page", "/api/board", "/"):
        resp = client.get(path, follow_redirects=False)
        assert resp.headers["x-frame-options"] == "DENY", path
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["referrer-policy"] == "same-origin", path
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], path


def test_draft_checker_needs_respond_and_api_docs_need_login(client: TestClient) -> None:
    assert client.get("/api/docs", follow_redirects=False).status_code == 303
    assert client.get("/api/openapi.json").status_code == 401
    token = login(client, "ana1")
    resp = client.post("/api/drafts/check", json={"text": "无可奉告"}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 403 and "无权" in resp.json()["detail"]
    assert client.get("/api/docs").status_code == 200
    assert "/api/board" in client.get("/api/openapi.json").json()["paths"]


def test_huge_numbers_in_paths_and_queries_are_400(client: TestClient) -> None:
    login(client, "duty1")
    for path in ("/incidents/" + "1" + "0" * 23, "/api/incidents/" + "1" + "0" * 23, "/reports?kind=incident&incident=1"
                 + "0" * 23, "/search?q=a&incident=9223372036854775808"):
        resp = client.get(path)
        assert 400 <= resp.status_code < 500 and "超出范围" in resp.text, (path, resp.status_code)


# --- login: no enumeration, back-off per account and address -------------------------------------

def test_one_message_for_wrong_unknown_and_disabled(app_of, sim_rt: Runtime) -> None:
    c = app_of()
    with sim_rt.session() as s:
        set_active(s, "dis1", False, sim_rt.clock.now())
    texts = []
    for username, password in (("ana1", "wrong-pass-1"), ("nobody", "wrong-pass-1"), ("dis1", PASSWORD)):
        resp = _try(c, username, password)
        assert resp.status_code == 400
        texts.append(resp.text.split('role="alert">')[1].split("<")[0] if 'role="alert">' in resp.text else resp.text)
    assert texts[0] == texts[1] == texts[2] and "用户名或密码错误" in texts[0]
    assert "停用" not in texts[2] and "锁定" not in texts[2]


def test_backoff_slows_the_pair_not_the_owner(app_of, sim_rt: Runtime) -> None:
    attacker, owner = app_of("198.51.100.9"), app_of("203.0.113.7")
    for _ in range(FREE):
        assert "秒后再试" not in _try(attacker, "owner1", "guess-guess").text
    refused = _try(attacker, "owner1", PASSWORD)  # waiting: even the right password is not checked
    assert refused.status_code == 400 and "请 1 秒后再试" in refused.text
    assert _try(owner, "owner1", PASSWORD).status_code == 303  # the owner elsewhere is not slowed at all
    waits = []
    for _ in range(3):
        sim_rt.clock.advance(timedelta(seconds=1000))
        _try(attacker, "owner1", "guess-guess")
        waits.append(_try(attacker, "owner1", "guess-guess").text.split("请 ")[1].split(" 秒")[0])
    assert [int(w) for w in waits] == [2, 4, 8]  # exponential, per pair
    sim_rt.clock.advance(timedelta(minutes=16))
    assert _try(attacker, "owner1", PASSWORD).status_code == 303  # after the wait, the right password works
    assert _try(attacker, "nobody-here", "x" * 9).status_code == 400  # unknown names are slowed the same way


def test_forged_forwarded_for_is_ignored_without_trusted_proxies(app_of, sim_rt: Runtime) -> None:
    c = app_of("198.51.100.9")
    for i in range(FREE):
        c.post("/login", data={"username": "xff1", "password": "guess-guess", "csrf_token": _token(c)},
               headers={"X-Forwarded-For": f"10.0.0.{i}"})
    resp = c.post("/login", data={"username": "xff1", "password": "guess-guess", "csrf_token": _token(c)},
                  headers={"X-Forwarded-For": "10.9.9.9"})
    assert "秒后再试" in resp.text  # the forged header did not make a new client


def test_forwarded_for_is_used_behind_a_trusted_proxy(sim_rt: Runtime) -> None:
    sim_rt.settings.web.trusted_proxies = ["127.0.0.1"]
    app = create_app(sim_rt)
    with TestClient(app, client=("127.0.0.1", 5000)) as proxy:
        for _ in range(FREE):
            proxy.post("/login", data={"username": "duty1", "password": "guess-guess", "csrf_token": _token(proxy)},
                       headers={"X-Forwarded-For": "198.51.100.9"})
        slowed = proxy.post("/login", data={"username": "duty1", "password": PASSWORD, "csrf_token": _token(proxy)},
                            headers={"X-Forwarded-For": "198.51.100.9"})
        assert "秒后再试" in slowed.text
        # a client cannot pick its address by prepending: the proxy appends the real one
        spoof = proxy.post("/login", data={"username": "duty1", "password": PASSWORD, "csrf_token": _token(proxy)},
                           headers={"X-Forwarded-For": "203.0.113.50, 198.51.100.9"})
        assert "秒后再试" in spoof.text
        owner = proxy.post("/login", data={"username": "duty1", "password": PASSWORD, "csrf_token": _token(proxy)},
                           headers={"X-Forwarded-For": "203.0.113.7"}, follow_redirects=False)
        assert owner.status_code == 303


# --- sessions --------------------------------------------------------------------------------------

def test_csrf_token_rotates_at_login(client: TestClient) -> None:
    before = _token(client)
    after = login(client, "rot1")
    assert after and after != before
    assert client.post("/logout", data={"csrf_token": before}, follow_redirects=False).status_code == 403


def test_logout_ends_every_copy_of_the_session(app_of) -> None:
    browser = app_of()
    token = login(browser, "out1")
    stolen = app_of("198.51.100.9")
    stolen.cookies.update(browser.cookies)
    assert stolen.get("/api/me").status_code == 200
    assert browser.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert stolen.get("/api/me").status_code == 401
    assert stolen.get("/", follow_redirects=False).status_code == 303


def test_password_change_and_disable_end_sessions(app_of, sim_rt: Runtime) -> None:
    first, second = app_of(), app_of("198.51.100.1")
    login(first, "pw1")
    login(second, "gone1")
    with sim_rt.session() as s:
        set_password(s, "pw1", "new-password-1", sim_rt.clock.now())
        set_active(s, "gone1", False, sim_rt.clock.now())
    assert first.get("/api/me").status_code == 401
    assert second.get("/api/me").status_code == 401
    again = app_of("192.0.2.1")
    login(again, "pw1", "new-password-1")
    assert again.get("/api/me").json()["username"] == "pw1"


def test_ack_goes_back_only_to_a_page_of_this_site(client: TestClient, sim_rt: Runtime) -> None:
    from sqlalchemy import select

    from yuqing.db.models import IncidentRow

    token = login(client, "duty1")
    with sim_rt.session() as s:
        inc = s.scalars(select(IncidentRow.id)).first()
    for referer, expected in ((f"http://testserver/incidents/{inc}", f"/incidents/{inc}"),
                              ("https://evil.example/incidents/1", "/"), ("//evil.example/incidents/1", "/"),
                              (f"/incidents/{inc}", f"/incidents/{inc}"), ("javascript:alert(1)//incidents/", "/")):
        resp = client.post(f"/incidents/{inc}/ack", data={"csrf_token": token}, headers={"referer": referer},
                           follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == expected, referer


def test_admin_user_toggle_needs_a_known_operation(client: TestClient, sim_rt: Runtime) -> None:
    from yuqing.db.models import UserRow

    token = login(client, "admin1")
    resp = client.post("/admin/users/ana1/bogus", data={"csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 404
    with sim_rt.session() as s:
        from sqlalchemy import select

        assert s.scalar(select(UserRow).where(UserRow.username == "ana1")).active
