"""The charts in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright): the 值班大屏
loads with data (ECharts instances with series data in every chart box, the map of China with the
incidents' provinces and cities), updates itself without reloading when new incidents arrive, and
never asks any host but ours (ECharts and the map come from node_modules, no CDN). The incident
chart, the board's sparklines and the 统计 page render too."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.web.conftest import make_posts
from tests.web.test_browser import ARTIFACTS, _login, page  # noqa: F401  (the page fixture)
from web.views.charts import vendor_ready
from yuqing.runtime import Runtime

pytestmark = pytest.mark.browser

SERIES = """(id) => {
  const el = document.getElementById(id);
  const chart = el && window.echarts && window.echarts.getInstanceByDom(el);
  if (!chart || !el.querySelector('canvas')) return null;
  return chart.getOption().series.map(s => ({type: s.type, n: (s.data || []).length, data: s.data}));
}"""


def _series(pg, element_id: str) -> list[dict] | None:
    return pg.evaluate(SERIES, element_id)


def test_bigscreen_renders_refreshes_and_stays_local(page, live_server: str, web_rt: Runtime) -> None:  # noqa: F811
    if not vendor_ready():
        pytest.fail("ECharts is not installed in node_modules: `make install` runs npm ci")
    base = live_server
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    make_posts(web_rt, [
        {"id": "w:zk1", "text": "河南周口市郸城县一女子遭家暴后求助妇联，警方已介入调查", "category": "rights",
         "severity": 2, "reposts": 300, "hours_ago": 5},
        {"id": "w:zk2", "text": "郸城县女子遭家暴求助妇联，当地警方已介入调查处理", "category": "rights",
         "severity": 2, "region": "河南", "reposts": 200, "hours_ago": 4},
    ])
    _login(page, base, "duty1")

    page.goto(f"{base}/bigscreen?refresh=1000")
    page.wait_for_function("() => Number(document.body.dataset.refreshes) >= 1")
    page.evaluate("() => { window.__notReloaded = true; }")
    for box in ("bs-map", "bs-trend", "bs-severity", "bs-category"):
        page.wait_for_function(f"() => ({SERIES})('{box}') !== null")
    map_series = _series(page, "bs-map")
    provinces = next(s for s in map_series if s["type"] == "map")
    cities = next(s for s in map_series if s["type"] == "effectScatter")
    assert "河南" in {d["name"] for d in provinces["data"]}  # named as the map's own feature
    assert "周口市" in {d["name"] for d in cities["data"]}
    trend = _series(page, "bs-trend")
    assert sum(trend[0]["data"]) >= 3  # crisis posts of the last 24 hours, per Beijing hour
    severity = _series(page, "bs-severity")
    assert sum(d["value"] for d in severity[0]["data"]) == int(page.inner_text("#bs-open"))
    countdown = page.locator("#bs-clocks .countdown").first.inner_text()
    assert countdown.startswith(("剩余", "已超时"))
    assert "北京时间" in page.inner_text("#bs-clock")
    open_before = int(page.inner_text("#bs-open"))
    refreshes = int(page.evaluate("() => document.body.dataset.refreshes"))

    # a new incident in 广州 arrives: the wall shows it on the next poll, without a reload
    make_posts(web_rt, [
        {"id": "w:gz1", "author": "羊城晚报", "author_verified": True, "reposts": 6000, "comments": 900,
         "likes": 12000, "category": "emergency", "severity": 3, "hours_ago": 1,
         "text": "突发：广州市天河区一幼儿园多名幼儿午餐后呕吐送医，原因正在调查"}])
    page.wait_for_function(f"() => Number(document.getElementById('bs-open').textContent) > {open_before}",
                           timeout=20000)
    page.wait_for_function(f"() => Number(document.body.dataset.refreshes) > {refreshes}")
    page.wait_for_function(f"""() => (({SERIES})('bs-map') || []).some(
        s => s.type === 'map' && s.data.some(d => d.name === '广东'))""")
    assert page.evaluate("() => window.__notReloaded === true")
    assert "广州" in page.inner_text("#bs-incidents") or "幼儿园" in page.inner_text("#bs-incidents")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "bigscreen.png"))

    # the other charts: incident heat + posts per hour, board sparklines, the 7/30-day statistics
    inc_id = page.locator("#bs-incidents li[data-incident]").first.get_attribute("data-incident")
    page.goto(f"{base}/incidents/{inc_id}")
    page.wait_for_function(f"() => ({SERIES})('heat-chart') !== null")
    kinds = {s["type"]: s for s in _series(page, "heat-chart")}
    assert set(kinds) == {"line", "bar"} and sum(kinds["bar"]["data"]) >= 1
    page.locator("#heat-chart").screenshot(path=str(ARTIFACTS / "incident_heat.png"))
    page.goto(f"{base}/")
    # each row's sparkline: the hourly heat of the last 24 Beijing hours, on the incident's own range
    page.wait_for_function("() => document.querySelector('[data-spark][data-hourly] canvas') !== null")
    page.locator("table.board").screenshot(path=str(ARTIFACTS / "board_sparklines.png"))
    page.goto(f"{base}/stats?days=30")
    for box in ("chart-category-days", "chart-severity", "chart-category-total", "chart-map", "chart-city-map"):
        page.wait_for_function(f"() => ({SERIES})('{box}') !== null")
    city_polygons = _series(page, "chart-city-map")[0]
    assert {"周口", "广州"} <= {d["name"] for d in city_polygons["data"]}  # named as the city map's features
    assert "近30天" in page.inner_text("h1")
    page.screenshot(path=str(ARTIFACTS / "stats.png"), full_page=True)

    assert hosts == {"127.0.0.1"}, hosts  # no CDN, no outside host, ever
    assert not errors, errors
