"""The integrator API: personal tokens (Bearer), CSRF only for cookie sessions, the incident list with
filters and paging, an incident's posts, Beijing times, masking, and the OpenAPI description."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, login, make_posts
from web.api_tokens import create_token
from web.app import create_app
from web.auth import set_active
from yuqing.db.models import ApiTokenRow, AuditRow, IncidentRow
from yuqing.runtime import Runtime

SECOND_EVENT = [
    {"id": "w:e1", "author": "晨报", "author_verified": True, "reposts": 5000, "comments": 900, "likes": 12000,
     "category": "emergency", "severity": 3, "hours_ago": 1,
     "text": "突发：临河县一幼儿园午餐后多名幼儿出现呕吐症状，已送医救治，原因正在调查"},
]


def _token(rt: Runtime, username: str, label: str = "对接") -> str:
    with rt.session() as s:
        return create_token(s, username, label, rt.clock.now(), actor="test").token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two_events(web_rt: Runtime) -> Runtime:
    make_posts(web_rt, SECOND_EVENT)
    return web_rt


@pytest.fixture
def anon(web_rt: Runtime):
    with TestClient(create_app(web_rt)) as c:
        yield c


def test_token_is_stored_hashed_and_audited(web_rt: Runtime) -> None:
    token = _token(web_rt, "ana1", "数据平台")
    assert token.startswith("yq_") and len(token) >= 40
    with web_rt.session() as s:
        row = s.scalars(select(ApiTokenRow)).one()
        assert row.token_hash != token and token not in row.token_hash and row.prefix == token[:10]
        entry = s.scalars(select(AuditRow).where(AuditRow.action == "token.create")).one()
        assert entry.actor == "test" and token not in str(entry.after) and entry.after["username"] == "ana1"


def test_bearer_lists_incidents_in_beijing_time(anon: TestClient, two_events: Runtime) -> None:
    assert anon.get("/api/incidents").status_code == 401
    token = _token(two_events, "duty1")
    resp = anon.get("/api/incidents", headers=_bearer(token))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 2 and len(body["incidents"]) == 2
    first = body["incidents"][0]
    assert first["category"] == "emergency" and first["category_zh"] == "突发事件类"  # newest first
    for inc in body["incidents"]:
        for key in ("detected_at", "clock_started_at", "deadline"):
            assert inc[key].endswith("+08:00"), (key, inc[key])
        assert inc["stage_zh"] == {"warning": "预警", "response": "应对"}[inc["stage"]] and inc["posts"] >= 1
    # a time sent without a zone is Beijing time; the incident list and its detail agree
    detail = anon.get(f"/api/incidents/{first['id']}", headers=_bearer(token)).json()
    assert detail["deadline"] == first["deadline"] and detail["deadline"].endswith("+08:00")
    assert anon.get("/api/board", headers=_bearer(token)).json()["incidents"][0]["deadline"].endswith("+08:00")


def test_incident_filters_and_paging(anon: TestClient, two_events: Runtime) -> None:
    h = _bearer(_token(two_events, "ana1"))

    def ids(**params: str) -> list[int]:
        resp = anon.get("/api/incidents", params=params, headers=h)
        assert resp.status_code == 200, resp.text
        return [i["id"] for i in resp.json()["incidents"]]

    with two_events.session() as s:
        rights = s.scalar(select(IncidentRow.id).where(IncidentRow.category == "rights"))
        emergency = s.scalar(select(IncidentRow.id).where(IncidentRow.category == "emergency"))
        detected = s.get(IncidentRow, emergency).detected_at
    assert ids(category="rights") == [rights]
    assert ids(category="rights,emergency") == [emergency, rights]
    assert ids(severity_min="3") == [emergency]
    assert ids(stage="open") == [emergency, rights] and ids(stage="closed") == []
    assert ids(q="幼儿园") == [emergency]
    assert ids(q="%") == []  # LIKE wildcards are plain text
    assert ids(since=(detected + timedelta(hours=1)).isoformat()) == []
    assert ids(until=(detected + timedelta(minutes=1)).isoformat(), since="2000-01-01") == [emergency, rights]
    page1 = anon.get("/api/incidents", params={"limit": 1}, headers=h).json()
    page2 = anon.get("/api/incidents", params={"limit": 1, "offset": 1}, headers=h).json()
    assert page1["total"] == page2["total"] == 2 and page1["limit"] == 1 and page2["offset"] == 1
    assert [i["id"] for i in page1["incidents"] + page2["incidents"]] == [emergency, rights]
    bad = anon.get("/api/incidents", params={"stage": "x", "severity_min": "9", "since": "gestern"}, headers=h)
    assert bad.status_code == 422 and set(bad.json()["detail"]) == {"stage", "severity_min", "since"}
    assert "阶段只能是" in bad.json()["detail"]["stage"]
    assert anon.get("/api/incidents", params={"limit": 0}, headers=h).status_code == 422
    assert anon.get("/api/incidents", params={"limit": 201}, headers=h).status_code == 422


def test_incident_posts_paged_masked_and_in_beijing_time(anon: TestClient, web_rt: Runtime) -> None:
    h = _bearer(_token(web_rt, "duty1"))
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentRow.id))
    resp = anon.get(f"/api/incidents/{inc}/posts", headers=h)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 2 and [p["id"] for p in body["posts"]] == ["w:1", "w:2"]
    post = body["posts"][0]
    assert "13812345678" not in resp.text and "138****5678" in post["text"]  # masked like every exit
    assert post["platform"] == "weibo" and post["platform_zh"] == "微博"
    assert post["published_at"].endswith("+08:00") and post["added_at"].endswith("+08:00")
    page = anon.get(f"/api/incidents/{inc}/posts", params={"limit": 1, "offset": 1}, headers=h).json()
    assert page["total"] == 2 and [p["id"] for p in page["posts"]] == ["w:2"]
    assert anon.get("/api/incidents/999999/posts", headers=h).status_code == 404


def test_posts_search_with_token(anon: TestClient, web_rt: Runtime) -> None:
    h = _bearer(_token(web_rt, "ana1"))
    resp = anon.get("/api/posts/search", params={"q": "家暴"}, headers=h)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] >= 2 and "13812345678" not in resp.text
    for hit in body["hits"]:
        assert hit["published_at"].endswith("+08:00") and hit["platform_zh"] == "微博"
    assert anon.get("/api/search", params={"q": "家暴"}, headers=h).json()["total"] == body["total"]


def test_revoked_unknown_and_disabled_tokens_are_401(anon: TestClient, web_rt: Runtime) -> None:
    token = _token(web_rt, "duty1")
    assert anon.get("/api/me", headers=_bearer(token)).json()["username"] == "duty1"
    for bad in ("yq_" + "x" * 43, "nonsense", ""):
        resp = anon.get("/api/incidents", headers=_bearer(bad))
        assert resp.status_code == 401 and resp.json()["detail"] == "API 令牌无效、已撤销，或其用户已停用"
        assert resp.headers["www-authenticate"].startswith("Bearer")
    with web_rt.session() as s:
        set_active(s, "duty1", False, web_rt.clock.now())
    assert anon.get("/api/incidents", headers=_bearer(token)).status_code == 401
    with web_rt.session() as s:
        set_active(s, "duty1", True, web_rt.clock.now())
    assert anon.get("/api/incidents", headers=_bearer(token)).status_code == 200
    with web_rt.session() as s:
        row = s.scalars(select(ApiTokenRow)).one()
        assert row.last_used_at is not None
        from web.api_tokens import revoke_token

        revoke_token(s, row, web_rt.clock.now(), actor="test")
    resp = anon.get("/api/incidents", headers=_bearer(token))
    assert resp.status_code == 401 and "已撤销" in resp.json()["detail"]


def test_token_carries_role_and_needs_no_csrf(anon: TestClient, web_rt: Runtime) -> None:
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentRow.id))
    analyst = _bearer(_token(web_rt, "ana1"))
    resp = anon.post(f"/api/incidents/{inc}/ack", json={}, headers=analyst)
    assert resp.status_code == 403 and "分析" in resp.json()["detail"]  # the analyst's role, not more
    duty = _bearer(_token(web_rt, "duty1"))
    resp = anon.post(f"/api/incidents/{inc}/ack", json={}, headers=duty)  # no X-CSRF-Token
    assert resp.status_code == 200, resp.text
    with web_rt.session() as s:
        assert s.get(IncidentRow, inc).acknowledged_by == "duty1"
    revoked = anon.post(f"/api/incidents/{inc}/ack", json={}, headers=_bearer("yq_forged_token_value_123"))
    assert revoked.status_code == 401


def test_cookie_session_still_needs_csrf(client: TestClient, web_rt: Runtime) -> None:
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentRow.id))
    csrf = login(client, "duty1")
    assert client.post(f"/api/incidents/{inc}/ack", json={}).status_code == 403
    # a bearer header never lends its authority to the cookie: a bogus one is a 401, not a pass
    assert client.post(f"/api/incidents/{inc}/ack", json={}, headers=_bearer("yq_bogus_bogus_bogus")).status_code == 401
    with web_rt.session() as s:
        assert s.get(IncidentRow, inc).acknowledged_at is None
    assert client.post(f"/api/incidents/{inc}/ack", json={}, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_openapi_documents_paths_and_bearer_scheme(anon: TestClient, web_rt: Runtime) -> None:
    assert anon.get("/api/openapi.json").status_code == 401
    spec = anon.get("/api/openapi.json", headers=_bearer(_token(web_rt, "ana1"))).json()
    for path in ("/api/incidents", "/api/incidents/{incident_id}/posts", "/api/posts/search",
                 "/api/incidents/{incident_id}"):
        assert "get" in spec["paths"][path], path
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert {"bearerToken": []} in spec["paths"]["/api/incidents"]["get"]["security"]
    params = {p["name"] for p in spec["paths"]["/api/incidents"]["get"]["parameters"]}
    assert {"stage", "category", "severity_min", "since", "until", "q", "limit", "offset"} <= params
    assert "IncidentPage" in spec["components"]["schemas"] and "PostPage" in spec["components"]["schemas"]


def test_docs_are_served_locally(client: TestClient) -> None:
    login(client, "ana1")
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "/api/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.headers["content-security-policy"]
    js = client.get("/api/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text[:2000]


def test_tokens_page_create_shows_once_and_revoke(client: TestClient, web_rt: Runtime) -> None:
    csrf = login(client, "resp1", PASSWORD)
    assert client.post("/tokens", data={"label": "x"}).status_code == 403  # CSRF on the cookie form
    made = client.post("/tokens", data={"label": "舆情大屏", "csrf_token": csrf})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = made.text.split('<code id="new-token-value">')[1].split("<")[0]
    assert token.startswith("yq_")
    listed = client.get("/tokens")
    assert token not in listed.text and token[:10] in listed.text and "舆情大屏" in listed.text
    with web_rt.session() as s:
        token_id = s.scalar(select(ApiTokenRow.id))
    # another non-admin user neither sees nor revokes it; an admin does both
    with TestClient(create_app(web_rt)) as other:
        other_csrf = login(other, "duty1")
        assert "舆情大屏" not in other.get("/tokens").text
        assert other.post(f"/tokens/{token_id}/revoke", data={"csrf_token": other_csrf}).status_code == 404
    assert client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    with web_rt.session() as s:
        assert s.get(ApiTokenRow, token_id).revoked_by == "resp1"
        assert s.scalar(select(AuditRow).where(AuditRow.action == "token.revoke")).actor == "resp1"
    assert "已撤销" in client.get("/tokens").text
    with TestClient(create_app(web_rt)) as admin:
        login(admin, "admin1")
        assert "舆情大屏" in admin.get("/tokens").text and "resp1" in admin.get("/tokens").text


def test_malformed_api_input_is_a_4xx_never_a_500(web_rt: Runtime) -> None:
    from tests.web.test_fuzz_web import DATES, ENUMS, NUMBERS

    h = _bearer(_token(web_rt, "admin1"))
    with TestClient(create_app(web_rt), raise_server_exceptions=False) as c:
        statuses = []
        for value in [*DATES, *NUMBERS, *ENUMS, "%", "_", "\\", "'; DROP TABLE incidents; --", "家" * 300]:
            for name in ("stage", "category", "severity_min", "since", "until", "q", "limit", "offset"):
                resp = c.get("/api/incidents", params={name: value}, headers=h)
                assert resp.status_code in (200, 400, 422), (name, value, resp.status_code)
                assert resp.status_code == 200 or isinstance(resp.json()["detail"], str | dict)
                statuses.append(resp.status_code)
            resp = c.get("/api/incidents/1/posts", params={"limit": value}, headers=h)
            assert resp.status_code in (200, 400, 404, 422), (value, resp.status_code)
        for auth in ("Bearer", "Bearer  ", "Basic abc", "Bearer " + "x" * 10_000, "Bearer yq_%00%ff", "bearer"):
            resp = c.get("/api/incidents", headers={"Authorization": auth})
            assert resp.status_code == 401, (auth[:20], resp.status_code)
        assert 200 in statuses and 422 in statuses


def test_token_needs_no_csrf_under_a_root_path(web_rt: Runtime) -> None:
    """Served under a prefix (web.root_path) the token requests are still told from page forms."""
    web_rt.settings.web.root_path = "/yq"
    with web_rt.session() as s:
        inc = s.scalar(select(IncidentRow.id))
    h = _bearer(_token(web_rt, "duty1"))
    with TestClient(create_app(web_rt), root_path="/yq") as c:
        for path in (f"/api/incidents/{inc}/ack", f"/yq/api/incidents/{inc}/ack"):
            resp = c.post(path, json={}, headers=h)
            assert resp.status_code in (200, 409), (path, resp.status_code, resp.text)  # 409: already confirmed
    with web_rt.session() as s:
        assert s.get(IncidentRow, inc).acknowledged_by == "duty1"
