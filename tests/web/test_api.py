"""API and page tests: permissions per role, CSRF, bad form input, masking, login limits, reports."""

from __future__ import annotations

import io

from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, login
from yuqing.db.models import AuditRow, IncidentRow, StageHistoryRow
from yuqing.runtime import Runtime
from yuqing.timeutil import SimClock


def _incident_id(rt: Runtime) -> int:
    with rt.session() as s:
        return s.scalars(select(IncidentRow.id)).one()


def test_pages_need_login(client: TestClient) -> None:
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert client.get("/api/board").status_code == 401
    assert client.get("/api/health").json()["ok"] is True


def test_board_shows_incident_with_clock(client: TestClient, web_rt: Runtime) -> None:
    login(client, "duty1")
    page = client.get("/")
    assert page.status_code == 200
    assert "值班台" in page.text and "权益侵害类" in page.text and "data-deadline" in page.text
    rows = client.get("/api/board").json()["incidents"]
    assert len(rows) == 1 and rows[0]["category"] == "rights" and rows[0]["acknowledged"] is False
    assert rows[0]["detection_lag_seconds"] > 2.9 * 3600  # the clock starts at the earliest post


def test_csrf_is_required_on_state_changes(client: TestClient, web_rt: Runtime) -> None:
    login(client, "duty1")
    inc = _incident_id(web_rt)
    assert client.post(f"/incidents/{inc}/ack", data={}).status_code == 403
    assert client.post(f"/api/incidents/{inc}/ack", json={}).status_code == 403
    assert client.post(f"/api/incidents/{inc}/ack", json={}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    with web_rt.session() as s:
        assert s.get(IncidentRow, inc).acknowledged_at is None


def test_duty_can_ack_but_not_advance(client: TestClient, web_rt: Runtime) -> None:
    token = login(client, "duty1")
    inc = _incident_id(web_rt)
    headers = {"X-CSRF-Token": token}
    assert client.post(f"/api/incidents/{inc}/advance", json={"reason": "x"}, headers=headers).status_code == 403
    resp = client.post(f"/api/incidents/{inc}/ack", json={}, headers=headers)
    assert resp.status_code == 200, resp.text
    with web_rt.session() as s:
        row = s.get(IncidentRow, inc)
        assert row.acknowledged_by == "duty1" and row.stage == "warning"


def test_analyst_searches_and_exports_but_cannot_act(client: TestClient, web_rt: Runtime) -> None:
    token = login(client, "ana1")
    inc = _incident_id(web_rt)
    assert client.post(f"/api/incidents/{inc}/ack", json={}, headers={"X-CSRF-Token": token}).status_code == 403
    data = client.get("/api/search", params={"q": "家暴"}).json()
    assert data["total"] == 2
    assert "13812345678" not in str(data) and "138****5678" in str(data)  # masked for analysts
    csv_resp = client.get("/search.csv", params={"q": "家暴"})
    assert csv_resp.status_code == 200 and csv_resp.text.count("\n") == 3 and "138****5678" in csv_resp.text
    assert client.get("/admin").status_code == 403


def test_originals_only_through_the_audited_view_original_action(client: TestClient, web_rt: Runtime) -> None:
    inc = _incident_id(web_rt)
    for user in ("duty1", "resp1", "ana1", "admin1"):  # masked by default for every role
        client.cookies.clear()
        login(client, user)
        page = client.get(f"/incidents/{inc}").text
        assert "13812345678" not in page and "138****5678" in page, user
        assert "13812345678" not in client.get(f"/api/incidents/{inc}").text, user
        assert ("查看原文" in page) == (user in ("ana1", "admin1")), user
    for user in ("duty1", "resp1"):  # no 查看原文 permission: refused, nothing audited
        client.cookies.clear()
        login(client, user)
        assert client.get("/posts/original", params={"id": "w:1"}).status_code == 403
        assert client.get("/api/posts/original", params={"id": "w:1"}).status_code == 403
    client.cookies.clear()
    login(client, "ana1")
    page = client.get("/posts/original", params={"id": "w:1", "incident": inc})
    assert page.status_code == 200 and "13812345678" in page.text and "记入操作审计" in page.text
    assert client.get("/api/posts/original", params={"id": "w:1"}).json()["text"].count("13812345678") == 1
    assert client.get("/api/posts/original", params={"id": "nope:0"}).status_code == 404
    with web_rt.session() as s:
        views = s.scalars(select(AuditRow).where(AuditRow.action == "view_original")).all()
        assert [(a.actor, a.object_type, a.object_id, a.detail) for a in views] == [
            ("ana1", "post", "w:1", "查看原文（网页）"), ("ana1", "post", "w:1", "查看原文（API）")]


def test_bad_form_input_gets_message_beside_field_and_nothing_saved(client: TestClient, web_rt: Runtime) -> None:
    token = login(client, "resp1")
    inc = _incident_id(web_rt)
    resp = client.post(f"/incidents/{inc}/do/respond", data={"csrf_token": token, "url": "not-a-link",
                                                              "at": "昨天"})
    assert resp.status_code == 400
    assert "回应链接应以 http:// 或 https:// 开头" in resp.text and "时间格式应为" in resp.text
    resp = client.post(f"/incidents/{inc}/do/dismiss", data={"csrf_token": token, "reason": " "})
    assert resp.status_code == 400 and "请填写排除理由" in resp.text
    with web_rt.session() as s:
        row = s.get(IncidentRow, inc)
        assert row.first_response_at is None and row.stage == "warning"


def test_responder_records_response_and_advances_with_override(client: TestClient, web_rt: Runtime) -> None:
    token = login(client, "resp1")
    inc = _incident_id(web_rt)
    headers = {"X-CSRF-Token": token}
    resp = client.post(f"/api/incidents/{inc}/advance", json={"reason": "启动应对"}, headers=headers)
    assert resp.status_code == 409 and "必做事项未完成" in resp.json()["detail"]  # the advance guard
    resp = client.post(f"/api/incidents/{inc}/advance", json={"reason": "启动应对", "override_reason": "领导决定立即应对"},
                       headers=headers)
    assert resp.status_code == 200, resp.text
    resp = client.post(f"/api/incidents/{inc}/respond", json={"url": "https://weibo.com/fulian/1", "text": "情况通报"},
                       headers=headers)
    assert resp.status_code == 200, resp.text
    with web_rt.session() as s:
        row = s.get(IncidentRow, inc)
        assert row.stage == "response" and row.first_response_at is not None
        history = list(s.scalars(select(StageHistoryRow).where(StageHistoryRow.incident_id == inc)))
        assert [h.to_stage for h in history][-1] == "response" and history[-1].actor == "resp1"
        actions = {a.action for a in s.scalars(select(AuditRow).where(AuditRow.actor == "resp1"))}
        assert "user.login" in actions


def test_checklist_skip_requires_reason(client: TestClient, web_rt: Runtime) -> None:
    token = login(client, "resp1")
    inc = _incident_id(web_rt)
    detail = client.get(f"/api/incidents/{inc}").json()
    item = next(c for c in detail["checklist"] if c["stage"] == "warning")
    headers = {"X-CSRF-Token": token}
    resp = client.post(f"/api/incidents/{inc}/checklist/{item['item_id']}/skip", json={"reason": ""}, headers=headers)
    assert resp.status_code == 422 and "跳过理由" in str(resp.json())
    resp = client.post(f"/api/incidents/{inc}/checklist/{item['item_id']}/check", json={}, headers=headers)
    assert resp.status_code == 200
    after = client.get(f"/api/incidents/{inc}").json()
    assert next(c for c in after["checklist"] if c["item_id"] == item["item_id"])["status"] == "done"


def test_draft_checker_through_api(client: TestClient) -> None:
    token = login(client, "resp1")
    resp = client.post("/api/drafts/check", json={"text": "对此事无可奉告。"}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 200
    assert any("无可奉告" in f["message"] or "无可奉告" in (f.get("excerpt") or "") for f in resp.json()["findings"])


def test_search_syntax_error_is_shown_beside_the_query(client: TestClient) -> None:
    login(client, "ana1")
    resp = client.get("/search", params={"q": "(家暴 OR"})
    assert resp.status_code == 400 and "检索式语法错误" in resp.text


def test_login_failures_slow_down_without_locking_or_naming_the_account(client: TestClient, web_rt: Runtime) -> None:
    # a clock that stands still: the back-off must not run out while a loaded machine hashes passwords
    web_rt.clock = SimClock(web_rt.clock.now())
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    for _ in range(5):
        resp = client.post("/login", data={"username": "duty1", "password": "wrong-pass", "csrf_token": token})
        assert resp.status_code == 400 and "用户名或密码错误" in resp.text
    resp = client.post("/login", data={"username": "duty1", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 400 and "秒后再试" in resp.text and "锁定" not in resp.text


def test_session_cookie_flags(client: TestClient) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/login", data={"username": "duty1", "password": PASSWORD, "csrf_token": token},
                       follow_redirects=False)
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_reports_in_three_formats(client: TestClient, web_rt: Runtime) -> None:
    login(client, "ana1")
    inc = _incident_id(web_rt)
    md = client.get("/reports/daily.md")
    assert md.status_code == 200 and "舆情日报" in md.text and "新增事件" in md.text
    assert "13812345678" not in md.text
    html = client.get("/reports", params={"kind": "incident", "incident": inc})
    assert html.status_code == 200 and "舆情专报" in html.text
    docx = client.get("/reports/incident.docx", params={"incident": inc})
    assert docx.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "舆情专报" in text
    assert client.get("/reports/daily.md", params={"day": "昨天"}).status_code == 400


def test_openapi_describes_the_api(client: TestClient) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    login(client, "duty1")
    spec = client.get("/api/openapi.json").json()
    assert "/api/board" in spec["paths"] and "/api/incidents/{incident_id}/{action}" in spec["paths"]


def test_split_moves_posts_to_a_new_incident_and_names_it(client: TestClient, web_rt: Runtime) -> None:
    token = login(client, "resp1")
    inc = _incident_id(web_rt)
    resp = client.post(f"/incidents/{inc}/do/split", data={"csrf_token": token, "post_ids": "w:2"},
                       follow_redirects=False)
    assert resp.status_code == 303
    with web_rt.session() as s:
        new_id = max(s.scalars(select(IncidentRow.id)))
    assert new_id != inc and resp.headers["location"] == f"/incidents/{new_id}"
    assert [p["id"] for p in client.get(f"/api/incidents/{new_id}").json()["posts"]] == ["w:2"]
