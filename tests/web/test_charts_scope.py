"""The charts follow the viewer's federation units (web.scope): a district user's 值班大屏, map,
statistics and sparklines hold only its own district's incidents, the neighbour's incident chart
answers 404, and the city sees both."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import login
from tests.web.units_fixtures import units_rt_fixture  # noqa: F401  (the units_rt fixture)
from web.app import create_app
from yuqing.db.models import IncidentRow
from yuqing.runtime import Runtime


def test_charts_show_only_the_viewers_units(units_rt: Runtime) -> None:
    with units_rt.session() as s:
        ids = {unit: iid for iid, unit in s.execute(select(IncidentRow.id, IncidentRow.unit_id))}
    with TestClient(create_app(units_rt)) as client:
        login(client, "siming1")
        wall = client.get("/api/charts/bigscreen").json()
        assert [i["id"] for i in wall["incidents"]] == [ids["siming"]] and wall["open"] == 1
        assert {c["id"] for c in wall["clocks"]} <= {ids["siming"]}
        assert all(a["incident_id"] == ids["siming"] for a in wall["alerts"])
        assert sum(p["value"] for p in wall["map"]["provinces"]) + wall["map"]["unknown"] == 1
        assert wall["stats"]["total"] == 1 and client.get("/api/charts/stats?days=30").json()["total"] == 1
        assert [x["id"] for x in client.get("/api/charts/sparklines").json()["incidents"]] == [ids["siming"]]
        assert client.get(f"/api/charts/incidents/{ids['siming']}").status_code == 200
        assert client.get(f"/api/charts/incidents/{ids['huli']}").status_code == 404
    with TestClient(create_app(units_rt)) as client:
        login(client, "city1")
        wall = client.get("/api/charts/bigscreen").json()
        assert {i["id"] for i in wall["incidents"]} == {ids["siming"], ids["huli"]}
        provinces = {p["name"]: p["value"] for p in wall["map"]["provinces"]}
        assert provinces.get("福建省") == 2  # both districts of 厦门
