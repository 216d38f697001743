"""Chart data: Beijing-time hour buckets, per-incident scales, 7/30-day counts, regions, and the
/api/charts JSON (login required, masked titles only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import login, make_posts
from web import chart_data, charts
from yuqing import places
from yuqing.db.models import HeatSampleRow, IncidentRow
from yuqing.runtime import Runtime


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- pure shaping ------------------------------------------------------------------------------

def test_hours_are_beijing_hours_across_midnight() -> None:
    # 15:30 UTC is 23:30 in Beijing; 17:10 UTC is 01:10 the next Beijing day
    hours = charts.hour_axis(utc(2026, 3, 1, 15, 30), utc(2026, 3, 1, 17, 10))
    assert [charts.hour_label(h) for h in hours] == ["03-01 23:00", "03-02 00:00", "03-02 01:00"]
    assert all(h.utcoffset() == timedelta(hours=8) for h in hours)
    times = [utc(2026, 3, 1, 15, 59), utc(2026, 3, 1, 16, 0), utc(2026, 3, 1, 16, 59, 59), utc(2026, 3, 1, 17, 5),
             utc(2026, 3, 1, 14, 59), None]  # the last two lie outside the axis / have no time
    assert charts.per_hour(times, hours) == [1, 2, 1]


def test_hour_axis_keeps_the_latest_hours_within_its_limit() -> None:
    hours = charts.hour_axis(utc(2026, 3, 1), utc(2026, 3, 3), limit=5)
    assert len(hours) == 5 and charts.hour_label(hours[-1]) == "03-03 08:00"


def test_heat_per_hour_is_the_last_sample_by_the_end_of_each_hour_carried_forward() -> None:
    hours = charts.hour_axis(utc(2026, 3, 1, 0), utc(2026, 3, 1, 4))
    samples = [(utc(2026, 3, 1, 1, 10), 100.0), (utc(2026, 3, 1, 1, 50), 150.0), (utc(2026, 3, 1, 3, 0), 400.0)]
    assert charts.heat_per_hour(samples, hours) == [None, 150.0, 150.0, 400.0, 400.0]


def test_own_range_makes_growth_near_the_top_visible() -> None:
    values = [900.0, 920.0, 960.0, 1000.0]
    lo, hi = charts.own_range(values)
    assert 880 <= lo < 900 and 1000 < hi <= 1020
    points = charts.spark_points(values, width=120, height=28)
    # the growth spans most of the sparkline's height (on a 0-based scale it moved 10%: 2.4px)
    assert points[0][1] - points[-1][1] > 15
    # another incident with small numbers gets its own scale, not the first one's
    lo2, hi2 = charts.own_range([3.0, 12.0])
    assert hi2 < 20 and lo2 >= 0
    assert charts.own_range([]) == (0.0, 1.0)
    assert charts.own_range([None, 5.0]) == (4.0, 6.0)
    data = charts.spark_data(values)
    assert data["values"] == values and (data["min"], data["max"]) == (lo, hi)


def test_sparkline_svg_is_drawn_on_the_incidents_own_range() -> None:
    svg = charts.sparkline([900, 1000])
    ys = [float(p.split(",")[1]) for p in svg.split('points="')[1].split('"')[0].split()]
    assert ys[0] > 20 and ys[1] < 8


# --- regions -------------------------------------------------------------------------------

def test_region_vote_province_then_city() -> None:
    found = [places.extract("河南省周口市郸城县一女子遭家暴"), places.extract("郸城县妇联回应"),
             places.extract("广东"), []]
    region = chart_data.vote_region(found)
    assert (region.province, region.city) == ("河南省", "周口市")
    assert region.confidence == 0.5 and region.source == "posts"
    assert chart_data.vote_region([[], []]).province is None


# --- from the database ------------------------------------------------------------------------

def _incident(rt: Runtime, **fields) -> int:
    now = rt.clock.now()
    with rt.session() as s:
        row = IncidentRow(title=fields.pop("title", "测试事件"), category=fields.pop("category", "rights"),
                          severity=fields.pop("severity", 2), stage=fields.pop("stage", "warning"),
                          detected_at=fields.pop("detected_at", now), created_at=now, updated_at=now, **fields)
        s.add(row)
        s.flush()
        return row.id


def test_incident_trend_posts_per_hour(web_rt: Runtime) -> None:
    now = web_rt.clock.now()
    with web_rt.session() as s:
        inc_id = s.scalars(select(IncidentRow.id).where(IncidentRow.category == "rights")).first()
        d = chart_data.incident_trend(s, inc_id, now)
        last = s.scalars(select(HeatSampleRow.heat).where(HeatSampleRow.incident_id == inc_id)
                         .order_by(HeatSampleRow.at.desc())).first()
    assert d is not None
    assert sum(d["posts"]) == 2  # its two posts, 3 and 2 hours ago, each in its own Beijing hour
    assert d["posts"][:2] == [1, 1] and len(d["labels"]) == len(d["heat"]) == len(d["posts"])
    assert d["labels"][-1] == charts.hour_label(charts.bj_hour(now))
    assert all(h.endswith("+08:00") for h in d["hours"])
    assert d["heat"][-1] == round(last, 1)
    with web_rt.session() as s:
        assert chart_data.incident_trend(s, 99999, now) is None


def test_incident_trend_heat_is_scaled_per_incident(runtime: Runtime) -> None:
    now = runtime.clock.now()
    big = _incident(runtime, title="大事件")
    small = _incident(runtime, title="小事件")
    with runtime.session() as s:
        s.add_all([HeatSampleRow(incident_id=big, at=now - timedelta(hours=h), heat=v)
                   for h, v in ((3, 5000.0), (2, 5100.0), (1, 5300.0), (0, 5400.0))])
        s.add_all([HeatSampleRow(incident_id=small, at=now - timedelta(hours=h), heat=v)
                   for h, v in ((2, 3.0), (0, 12.0))])
    with runtime.session() as s:
        a = chart_data.incident_trend(s, big, now)
        b = chart_data.incident_trend(s, small, now)
        spark = chart_data.sparklines(s, [big, small], now)
    assert a["heat"][-4:] == [5000.0, 5100.0, 5300.0, 5400.0]
    assert 4850 <= a["heat_min"] < 5000 and 5400 < a["heat_max"] <= 5550  # growth fills the chart
    assert b["heat_max"] < 20  # the small one is not drawn on the big one's scale
    assert len(spark[big]["heat"]) == chart_data.SPARK_HOURS and spark[big]["heat"][-1] == 5400.0
    assert spark[small]["max"] < 20


def test_category_and_severity_counts_over_7_and_30_days(runtime: Runtime) -> None:
    now = runtime.clock.now()
    _incident(runtime, category="rights", severity=2, detected_at=now - timedelta(hours=1))
    _incident(runtime, category="rights", severity=3, detected_at=now - timedelta(days=3))
    _incident(runtime, category="emergency", severity=4, detected_at=now - timedelta(days=10))
    _incident(runtime, category="policy", severity=1, detected_at=now - timedelta(days=40))  # outside both
    merged_into = _incident(runtime, category="image", severity=1, detected_at=now - timedelta(days=2))
    _incident(runtime, category="image", severity=1, detected_at=now - timedelta(days=2), merged_into=merged_into)
    with runtime.session() as s:
        week = chart_data.category_severity(s, now, 7)
        month = chart_data.category_severity(s, now, 30)
    count = {c["key"]: c["count"] for c in week["categories"]}
    assert count == {"policy": 0, "rights": 2, "image": 1, "work": 0, "emergency": 0, "none": 0}
    assert {s["key"]: s["count"] for s in week["severities"]} == {0: 0, 1: 1, 2: 1, 3: 1, 4: 0}
    assert week["total"] == 3 and len(week["labels"]) == 7
    rights = next(c for c in week["categories"] if c["key"] == "rights")
    assert rights["per_day"][-1] == 1 and sum(rights["per_day"]) == 2
    assert {c["key"]: c["count"] for c in month["categories"]}["emergency"] == 1
    assert month["total"] == 4 and len(month["labels"]) == 30
    assert next(c for c in week["categories"] if c["key"] == "rights")["name"] == "权益侵害类"


def test_region_map_from_posts_places_and_ip_location(web_rt: Runtime) -> None:
    make_posts(web_rt, [
        {"id": "w:zk1", "text": "河南周口市郸城县一女子遭家暴后求助妇联，警方已介入调查", "category": "rights",
         "severity": 2, "reposts": 300},
        {"id": "w:zk2", "text": "郸城县女子遭家暴求助妇联，当地警方已介入调查处理", "category": "rights", "severity": 2,
         "region": "河南", "reposts": 200},
    ])
    with web_rt.session() as s:
        incidents = chart_data.open_incidents(s)
        regions = chart_data.incident_regions(s, incidents)
        m = chart_data.region_map(s, incidents)
    henan = [r for r in regions.values() if r.province == "河南省"]
    assert henan and henan[0].city == "周口市"
    prov = next(p for p in m["provinces"] if p["name"] == "河南省")
    assert prov["code"] == "410000" and prov["value"] >= 1
    city = next(c for c in m["cities"] if c["name"] == "周口市")
    lng, lat = city["coord"]
    assert 114 < lng < 116 and 33 < lat < 34.5  # 周口 lies near 114.7E 33.6N
    assert m["unknown"] == len(incidents) - sum(p["value"] for p in m["provinces"])
    # an incident the region engine never tallied (no region columns set): voted from its posts
    inc_id = next(i for i, r in regions.items() if r.province == "河南省")
    with web_rt.session() as s:
        inc = s.get(IncidentRow, inc_id)
        inc.features = {k: v for k, v in (inc.features or {}).items() if k != "region"}
        if hasattr(inc, "region_code"):
            inc.region_code = inc.region_name = inc.region_level = inc.region_confidence = None
    with web_rt.session() as s:
        derived = chart_data.incident_regions(s, [s.get(IncidentRow, inc_id)])[inc_id]
    assert (derived.province, derived.city, derived.source) == ("河南省", "周口市", "posts")
    assert 0 < derived.confidence <= 1


def test_region_columns_win_when_the_incident_has_them(runtime: Runtime) -> None:
    if not hasattr(IncidentRow, "region_code"):
        return  # the columns come with migration 0011
    inc_id = _incident(runtime, region_code="440100000000", region_name="广州市", region_level="city",
                       region_confidence=0.8)
    with runtime.session() as s:
        region = chart_data.incident_regions(s, [s.get(IncidentRow, inc_id)])[inc_id]
    assert (region.province, region.city, region.source, region.confidence) == ("广东省", "广州市", "incident", 0.8)
    town = _incident(runtime, region_code="411625000000/汲冢镇", region_name="河南省周口市郸城县汲冢镇",
                     region_level="town", region_confidence=0.9)
    with runtime.session() as s:
        region = chart_data.incident_regions(s, [s.get(IncidentRow, town)])[town]
    assert (region.province, region.city) == ("河南省", "周口市")


def test_chart_api_needs_login_and_carries_no_post_text(client: TestClient, web_rt: Runtime) -> None:
    for url in ("/api/charts/bigscreen", "/api/charts/stats", "/api/charts/map", "/api/charts/incidents/1",
                "/api/charts/sparklines"):
        assert client.get(url).status_code == 401, url
    assert client.get("/bigscreen", follow_redirects=False).status_code == 303
    login(client, "duty1")
    big = client.get("/api/charts/bigscreen")
    assert big.status_code == 200
    body = big.text
    data = big.json()
    assert data["open"] >= 1 and data["now"].endswith("+08:00")
    assert "13812345678" not in body and "江城热点" not in body  # titles masked, no authors
    assert {s["name"] for s in data["stages"]} == {"预警", "应对", "善后"}
    assert all(c["deadline"].endswith("+08:00") for c in data["clocks"])
    assert client.get("/api/charts/stats?days=30").json()["days"] == 30
    lines = client.get("/api/charts/sparklines").json()["incidents"]
    assert {x["id"] for x in lines} == {i["id"] for i in data["incidents"]}
    assert all(len(x["heat"]) == chart_data.SPARK_HOURS and x["min"] < x["max"] for x in lines)
    assert client.get("/api/charts/stats?days=9").status_code == 422
    inc_id = data["incidents"][0]["id"]
    assert client.get(f"/api/charts/incidents/{inc_id}").json()["id"] == inc_id
    assert client.get("/api/charts/incidents/424242").status_code == 404
    page = client.get("/bigscreen")
    assert page.status_code == 200 and "值班大屏" in page.text and "/static/vendor/echarts/echarts.min.js" in page.text
    assert client.get("/stats?days=30").status_code == 200
    assert "data-spark=" in client.get("/").text
    assert 'data-chart="incident"' in client.get(f"/incidents/{inc_id}").text
    assert client.get("/static/vendor/echarts/echarts.min.js").status_code == 200
    assert client.get("/static/vendor/maps/china.js").status_code == 200
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/charts/bigscreen", "/api/charts/stats", "/api/charts/map", "/api/charts/sparklines",
            "/api/charts/incidents/{incident_id}"} <= set(paths)
