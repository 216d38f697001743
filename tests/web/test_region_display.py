"""The incident's region on the board, the board API and the incident page (real app, real engine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, ROLES, login, make_posts
from web.auth import add_user
from yuqing.db.models import IncidentRow
from yuqing.runtime import Runtime


@pytest.fixture
def web_rt(runtime: Runtime) -> Iterator[Runtime]:
    with runtime.session() as s:
        for username, role in ROLES.items():
            add_user(s, username, PASSWORD, role, runtime.clock.now())
    make_posts(runtime, [
        {"id": "w:r1", "category": "rights", "severity": 2, "region": "广东",
         "text": "河南周口郸城县一女子遭丈夫殴打住院，当地妇联已介入"},
        {"id": "w:r2", "category": "rights", "severity": 2, "region": "湖南",
         "text": "女职工怀孕后被公司辞退，维权无门，求支招"},
    ])
    yield runtime


def test_board_and_incident_page_show_the_region(client: TestClient, web_rt: Runtime) -> None:
    login(client, "duty1")
    with web_rt.session() as s:
        incidents = {i.region_code: i.id for i in s.scalars(select(IncidentRow))}
    assert set(incidents) == {"411625000000", "430000000000"}
    rows = {r["id"]: r for r in client.get("/api/board").json()["incidents"]}
    county = rows[incidents["411625000000"]]["region"]
    assert county["name"] == "河南省周口市郸城县" and county["level"] == "county" and county["confidence"] >= 0.5
    ip_only = rows[incidents["430000000000"]]["region"]
    assert ip_only["code"] == "430000000000" and ip_only["confidence"] < 0.5
    board = client.get("/").text
    assert "事发地" in board and "河南省周口市郸城县" in board and "（待确认）" in board
    page = client.get(f"/incidents/{incidents['411625000000']}").text
    assert 'id="region"' in page and "河南省周口市郸城县（县级，可信度" in page
    low = client.get(f"/incidents/{incidents['430000000000']}").text
    assert "待人工确认" in low


def test_integrator_api_lists_each_incident_with_its_region(client: TestClient, web_rt: Runtime) -> None:
    login(client, "duty1")
    listed = {i["region"]["code"]: i for i in client.get("/api/incidents").json()["incidents"] if i["region"]}
    assert set(listed) == {"411625000000", "430000000000"}
    county = listed["411625000000"]["region"]
    assert county["name"] == "河南省周口市郸城县" and county["level"] == "county" and county["confidence"] >= 0.5
    assert listed["411625000000"]["unit"] is None  # no units configured: nobody below the root owns it
    spec = client.get("/api/openapi.json").json()
    assert "RegionOut" in spec["components"]["schemas"]
