"""End to end: a shortened `yuqing demo` (same code path: replay site, real spiders in child
processes, pipeline, engine, clock, outbox, reports), then the incidents and alerts it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.demo.bundle import load_day
from app.demo.site import ReplaySite
from yuqing.db.models import IncidentRow, StageHistoryRow, UserRow
from yuqing.settings import ROOT

DAY = date(2025, 6, 14)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--fast", "--no-serve", "--labels", "given",
         "--dir", str(out / "demo"), "--day", DAY.isoformat()],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    engine = create_engine(f"sqlite:///{out / 'demo' / 'yuqing.db'}")
    with Session(engine) as s:
        incidents = list(s.scalars(select(IncidentRow).order_by(IncidentRow.id)))
        stages = {i.id: [h.to_stage for h in s.scalars(select(StageHistoryRow).where(
            StageHistoryRow.incident_id == i.id).order_by(StageHistoryRow.at, StageHistoryRow.id))]
            for i in incidents}
        users = list(s.scalars(select(UserRow)))
    engine.dispose()
    notes = [json.loads(line) for line in (out / "demo" / "notifications.jsonl").read_text(encoding="utf-8")
             .splitlines() if line.strip()]
    return {"dir": out / "demo", "stdout": proc.stdout, "incidents": incidents, "stages": stages,
            "notes": notes, "users": users}


def by_category(demo: dict, category: str) -> IncidentRow:
    found = [i for i in demo["incidents"] if i.category == category and i.stage != "dismissed"]
    assert len(found) == 1, [(i.id, i.category, i.stage, i.title) for i in demo["incidents"]]
    return found[0]


def test_incidents_of_at_least_four_categories(demo: dict) -> None:
    live = {i.category for i in demo["incidents"] if i.stage != "dismissed"}
    assert {"rights", "emergency", "policy", "image", "work"} <= live


def test_stages_follow_the_day(demo: dict) -> None:
    rights = by_category(demo, "rights")  # 家暴: severe, nobody responded → still in 应对, clock breached
    assert rights.stage == "response" and rights.first_response_at is None
    assert demo["stages"][rights.id][:2] == ["warning", "response"]
    kg = by_category(demo, "emergency")  # responded at 12:20, aftermath, closed next morning
    assert kg.stage == "closed" and kg.first_response_at is not None
    assert "aftermath" in demo["stages"][kg.id]
    rumour = by_category(demo, "policy")  # 辟谣 recorded as the response → 善后
    assert rumour.stage == "aftermath" and rumour.first_response_at is not None
    assert by_category(demo, "work").stage == "warning"
    dismissed = [i for i in demo["incidents"] if i.stage == "dismissed"]
    assert len(dismissed) == 1 and "旧闻" in (dismissed[0].dismissed_reason or "")


def test_alerts_by_kind_without_duplicates(demo: dict) -> None:
    notes = demo["notes"]
    kinds = Counter(n["kind"] for n in notes)
    assert {"new_incident", "stage_change", "reminder", "breach", "escalation"} <= set(kinds)
    opened = Counter(n["incident_id"] for n in notes if n["kind"] == "new_incident")
    assert set(opened) == {i.id for i in demo["incidents"]} and max(opened.values()) == 1
    lines = [json.dumps(n, sort_keys=True, ensure_ascii=False) for n in notes]
    assert len(lines) == len(set(lines))
    rights = by_category(demo, "rights")
    assert any(n["kind"] == "breach" and n["incident_id"] == rights.id for n in notes)
    kg = by_category(demo, "emergency")
    assert not any(n["kind"] == "breach" and n["incident_id"] == kg.id for n in notes)  # answered in time


def test_summary_reports_and_login(demo: dict) -> None:
    from web.auth import verify_password

    out = demo["stdout"]
    assert "演示小结" in out and "演示数据自带的人工标注" in out
    assert "事件：6 个" in out
    assert "贴吧 " in out and "抖音 " in out  # Tieba from its search page, Douyin through Chromium
    assert (demo["dir"] / "reports" / f"daily-{DAY:%Y%m%d}.docx").stat().st_size > 0
    daily = (demo["dir"] / "reports" / f"daily-{DAY:%Y%m%d}.md").read_text(encoding="utf-8")
    assert "清溪" in daily or "南城" in daily
    admin = [u for u in demo["users"] if u.username == "demo"]
    assert admin and admin[0].role == "admin" and verify_password(admin[0].password_hash, "yuqing-demo")


def test_replay_site_releases_posts_by_time() -> None:
    day = load_day(DAY)
    with ReplaySite(day, datetime.fromisoformat("2025-06-14T09:00:00+08:00")) as site:
        url = site.url + "/api/container/getIndex?containerid=100103type%3D1%26q%3D%E5%AE%B6%E6%9A%B4&page=1"
        first = json.loads(urllib.request.urlopen(url, timeout=10).read())
        site.now = datetime.fromisoformat("2025-06-14T12:00:00+08:00")
        later = json.loads(urllib.request.urlopen(url, timeout=10).read())
        rss = urllib.request.urlopen(site.feed_url, timeout=10).read().decode("utf-8")
    ids = [c["mblog"]["id"] for c in first["data"]["cards"]]
    assert ids == [str(day.by_key["dv1"].mid)]  # 08:12 yes; 09:05 dv2 not yet
    texts = [c["mblog"]["text"] for c in later["data"]["cards"]]
    assert len(texts) == 10 and any("retweeted_status" in c["mblog"] for c in later["data"]["cards"])
    assert "全国妇联召开儿童工作座谈会" in rss and "巾帼心向党" not in rss  # 09:00 yes, 15:10 not yet


def test_replay_site_serves_tieba_and_a_signed_douyin_api() -> None:
    import urllib.error

    day = load_day(DAY)
    with ReplaySite(day, datetime.fromisoformat("2025-06-14T12:00:00+08:00")) as site:
        raw = urllib.request.urlopen(site.url + "/f/search/res?ie=utf-8&qw=%E5%AE%B6%E6%9A%B4&rn=20&pn=1&sm=1",
                                     timeout=10).read()
        with pytest.raises(urllib.error.HTTPError) as err:  # only the search page's own signed call is answered
            urllib.request.urlopen(site.url + "/aweme/v1/web/general/search/single/?keyword=%E5%AE%B6%E6%9A%B4"
                                   "&offset=0&count=10&nonce=x&a_bogus=00000000", timeout=10)
        page = urllib.request.urlopen(site.url + "/search/%E4%B8%AD%E6%AF%92?type=video", timeout=10).read()
        api = site.douyin_json("中毒", 0)
    html = raw.decode("gbk")
    assert f"/p/{day.by_key['dv9'].tid}" in html and "清溪老街坊" in html and "2025-06-14 09:30" in html
    assert err.value.code == 403 and b"a_bogus" in page
    assert [d["aweme_info"]["aweme_id"] for d in api["data"]] == [day.by_key["kg7"].aweme_id]  # 11:10 yes
    assert api["data"][0]["aweme_info"]["ip_label"] == "江西" and api["has_more"] == 0
