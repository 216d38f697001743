"""Federation units on the web and the API (real app, real engine, real SQLite): a county user sees
and acts on its own county's incidents only — a neighbouring county's incident answers 404 exactly
like a missing one — the city sees its whole subtree, and a move by hand changes who sees it."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, login
from tests.web.units_fixtures import units_rt_fixture  # noqa: F401  (the units_rt fixture)
from web.app import create_app
from web.auth import add_user
from yuqing.db.models import AuditRow, IncidentRow
from yuqing.runtime import Runtime


def _ids(rt: Runtime) -> dict[str, int]:
    with rt.session() as s:
        return {unit: iid for iid, unit in s.execute(select(IncidentRow.id, IncidentRow.unit_id))}


def _client(rt: Runtime, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(rt))
    return client, login(client, username)


def test_incidents_are_owned_by_their_county(units_rt: Runtime) -> None:
    assert set(_ids(units_rt)) == {"siming", "huli"}


def test_county_user_cannot_open_the_neighbours_incident(units_rt: Runtime) -> None:
    ids = _ids(units_rt)
    client, csrf = _client(units_rt, "siming1")
    with client:
        assert client.get(f"/incidents/{ids['siming']}").status_code == 200
        other = client.get(f"/incidents/{ids['huli']}")
        missing = client.get("/incidents/999999")
        assert other.status_code == missing.status_code == 404  # never reveals that it exists
        assert "湖里" not in other.text
        board = client.get("/board/table").text
        assert f"/incidents/{ids['siming']}" in board and f"/incidents/{ids['huli']}" not in board
        assert "<th>责任单位</th>" in board and '<td class="unit">思明区妇联</td>' in board
        # the API: list, board, detail, posts, actions and the search filter
        listed = [i["id"] for i in client.get("/api/incidents").json()["incidents"]]
        assert listed == [ids["siming"]]
        assert [(i["id"], i["unit"]) for i in client.get("/api/board").json()["incidents"]] == [(ids["siming"], "siming")]
        assert client.get(f"/api/incidents/{ids['huli']}").status_code == 404
        assert client.get(f"/api/incidents/{ids['huli']}/posts").status_code == 404
        assert client.post(f"/api/incidents/{ids['huli']}/ack", json={},
                           headers={"X-CSRF-Token": csrf}).status_code == 404
        assert client.post(f"/incidents/{ids['huli']}/do/ack", data={"csrf_token": csrf},
                           follow_redirects=False).status_code == 404
        assert client.get(f"/reports?kind=incident&incident={ids['huli']}").status_code == 404
        mine = client.get("/reports?kind=unit&period=quarter").text  # the 通报 of its own subtree only
        assert "思明区妇联" in mine and "湖里区妇联" not in mine
        assert client.get("/reports/unit.docx?period=month").status_code == 200
        assert client.get(f"/api/incidents/{ids['siming']}").status_code == 200
        with units_rt.session() as s:
            assert s.get(IncidentRow, ids["huli"]).acknowledged_at is None  # nothing happened


def test_city_and_root_users_see_the_whole_subtree(units_rt: Runtime) -> None:
    ids = _ids(units_rt)
    for username in ("city1", "root1"):
        client, _ = _client(units_rt, username)
        with client:
            assert sorted(i["id"] for i in client.get("/api/incidents").json()["incidents"]) == sorted(ids.values())
            assert client.get(f"/incidents/{ids['huli']}").status_code == 200


def test_move_by_hand_on_the_incident_page(units_rt: Runtime) -> None:
    ids = _ids(units_rt)
    client, csrf = _client(units_rt, "city1")
    with client:
        page = client.get(f"/incidents/{ids['siming']}").text
        assert "思明区妇联" in page and 'id="move-form"' in page
        refused = client.post(f"/incidents/{ids['siming']}/move", data={"csrf_token": csrf, "unit": "huli"})
        assert refused.status_code == 400 and "请填写移交原因" in refused.text
        moved = client.post(f"/incidents/{ids['siming']}/move", follow_redirects=False,
                            data={"csrf_token": csrf, "unit": "huli", "reason": "经核实事发地在湖里区"})
        assert moved.status_code == 303
        assert "湖里区妇联（人工移交）" in client.get(f"/incidents/{ids['siming']}").text
    siming, _ = _client(units_rt, "siming1")
    with siming:
        assert siming.get(f"/incidents/{ids['siming']}").status_code == 404
        # a county user cannot move an incident to a unit outside its own subtree
    huli, csrf = _client(units_rt, "huli1")
    with huli:
        assert huli.get(f"/incidents/{ids['siming']}").status_code == 200
        out = huli.post(f"/incidents/{ids['siming']}/move", data={"csrf_token": csrf, "unit": "xm", "reason": "x"})
        assert out.status_code == 400 and "只能移交给本单位或下级单位" in out.text
    with units_rt.session() as s:
        row = s.get(IncidentRow, ids["siming"])
        assert (row.unit_id, row.unit_manual) == ("huli", True)
        audit = s.scalar(select(AuditRow).where(AuditRow.action == "incident.move"))
        assert audit.actor == "city1" and audit.before == {"unit_id": "siming"} and audit.after == {"unit_id": "huli"}


def _yuqing(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_move_user_unit_and_unit_report(units_rt: Runtime) -> None:
    ids = _ids(units_rt)
    bad = _yuqing("incidents", "move", str(ids["huli"]), "--unit", "nowhere", "--reason", "测试")
    assert bad.returncode != 0 and "不存在" in bad.stderr and "Traceback" not in bad.stderr
    ok = _yuqing("incidents", "move", str(ids["huli"]), "--unit", "siming", "--reason", "事发地实为思明区")
    assert ok.returncode == 0, ok.stderr
    assert "思明区妇联" in ok.stdout
    assert _yuqing("user", "add", "li", "--role", "duty", "--password", "long-pass-123", "--unit", "huli").returncode == 0
    assert _yuqing("user", "modify", "li", "--unit", "siming").returncode == 0
    refused = _yuqing("user", "modify", "li", "--unit", "mars")
    assert refused.returncode != 0 and "单位 mars 不存在" in refused.stderr
    listed = _yuqing("user", "list").stdout
    assert "li" in listed and "siming" in listed
    report = _yuqing("report", "unit", "--period", "month")
    assert report.returncode == 0, report.stderr
    text = report.stdout
    assert "各级妇联舆情处置月度通报" in text and "厦门市妇联下级单位排名" in text
    siming_row = next(line for line in text.splitlines() if line.startswith("| 思明区妇联"))
    assert "| 2 |" in siming_row  # its own incident and the one moved to it
    assert siming_row.rstrip(" |").endswith("1")  # moved in: 1
    assert _yuqing("report", "unit", "--period", "year", "--format", "docx").returncode == 0


def test_incidents_show_names_the_owner_unit(units_rt: Runtime) -> None:
    import json

    ids = _ids(units_rt)
    shown = _yuqing("incidents", "show", str(ids["huli"]))
    assert shown.returncode == 0 and "责任单位：湖里区妇联" in shown.stdout, shown.stderr
    as_json = json.loads(_yuqing("incidents", "show", str(ids["huli"]), "--json").stdout)
    assert as_json["unit"] == {"id": "huli", "name": "湖里区妇联", "manual": False}


def test_admin_page_lists_each_units_duty(units_rt: Runtime) -> None:
    with units_rt.session() as s:
        add_user(s, "boss", PASSWORD, "admin", units_rt.clock.now())
    client, _ = _client(units_rt, "boss")
    with client:
        page = client.get("/admin").text
    assert "厦门市妇联：xm_duty" in page and "思明区妇联：siming_duty" in page and "湖里区妇联：huli_duty" in page
