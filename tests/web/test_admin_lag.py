"""管理 → 数据源 shows each source's detection lag (publication → stored, last 7 days)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.web.conftest import login
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts


def test_sources_table_shows_detection_lag(client: TestClient, web_rt: Runtime) -> None:
    now = web_rt.clock.now()
    with web_rt.session() as s:
        for n, late in enumerate([3, 5, 40]):
            post = Post(id=f"lag:{n}", platform="weibo", text="妇联 家暴", published_at=now - timedelta(minutes=late))
            store_posts(s, [post], now, source="weibo_search")
    login(client, "admin1")
    page = client.get("/admin")
    assert page.status_code == 200
    sources = page.text.split('<section id="sources">')[1].split("</section>")[0]
    assert "检测时延 中位/P90" in sources
    row = next(r for r in sources.split("<tr>") if "<td>weibo_search</td>" in r)
    assert '<td class="lag">5 / 40 分钟（3 条）</td>' in row
    other = next(r for r in sources.split("<tr>") if "<td>weibo_hot</td>" in r)
    assert '<td class="lag">—</td>' in other
