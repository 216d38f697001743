"""Engine rules one at a time on a real database: grouping edges, 热搜, quiet aftermath, severity falling."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from alerting import actions
from alerting.engine.core import handle_posts, tick
from alerting.engine.incident_json import post_ids
from yuqing.db.models import IncidentRow, NotificationRow, PostRow
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def _feed(rt: Runtime, now: datetime, *posts: dict) -> list[int]:
    with rt.session() as s:
        store_posts(s, [Post.model_validate({"platform": "weibo", "published_at": T0.isoformat(), **p})
                        for p in posts], now)
        rows = [s.get(PostRow, p["id"]) for p in posts]
        for row, p in zip(rows, posts, strict=True):
            row.category, row.severity = p.get("category", "rights"), p.get("severity", 2)
        return handle_posts(s, rows, now, rt.settings).opened


def _incidents(rt: Runtime) -> list[list[str]]:
    with rt.session() as s:
        return [sorted(post_ids(s, i.id)) for i in s.scalars(select(IncidentRow).order_by(IncidentRow.id))]


def test_grouping_edges(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    _feed(runtime, now, {"id": "a", "text": "江西南昌一幼儿园女童坠楼身亡，家属质疑园方监管不力"})
    # the same wording in another city is another event
    _feed(runtime, now, {"id": "b", "text": "湖南邵阳一幼儿园女童坠楼身亡，家属质疑园方监管不力"})
    # a repost joins its original whatever its text; a non-crisis post never joins, even the same text
    _feed(runtime, now, {"id": "r", "text": "转发微博", "repost_of": "a"},
          {"id": "n", "text": "江西南昌一幼儿园女童坠楼身亡", "category": "none", "severity": 0})
    # days later, another wording of the first event joins it
    _feed(runtime, now + timedelta(days=3),
          {"id": "c", "text": "南昌幼儿园女童坠亡事件后续：涉事老师被停职", "published_at": (T0 + timedelta(days=3)).isoformat()})
    assert _incidents(runtime) == [["a", "c", "r"], ["b"]]


def test_hot_search_marks_the_incident_and_raises_severity(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    (iid,) = _feed(runtime, now, {"id": "a", "text": "江西南昌一幼儿园女童坠楼身亡，家属质疑园方监管不力"})
    _feed(runtime, now + timedelta(minutes=30),
          {"id": "hot1", "platform": "weibo_hot", "text": "南昌幼儿园女童坠楼", "rank": 3,
           "category": "none", "severity": 0})
    with runtime.session() as s:
        inc = s.get(IncidentRow, iid)
        assert inc.hot_search_rank == 3 and inc.severity == 3  # top-10 热搜: at least 重大
        assert post_ids(s, iid) == ["a"]  # the 热搜 entry is evidence, not a member
        kinds = list(s.scalars(select(NotificationRow.kind).where(NotificationRow.incident_id == iid)))
        assert "severity_up" in kinds
    # seven hours later the topic has left the list: severity falls back, without an alert
    with runtime.session() as s:
        tick(s, now + timedelta(hours=7, minutes=30), runtime.settings)
        inc = s.get(IncidentRow, iid)
        assert inc.severity == 2 and inc.peak_severity == 3
        ups = list(s.scalars(select(NotificationRow.id).where(NotificationRow.kind == "severity_up")))
    assert len(ups) == 1


def test_quiet_aftermath_reminds_weekly(runtime: Runtime) -> None:
    now = T0 + timedelta(minutes=5)
    (iid,) = _feed(runtime, now, {"id": "a", "text": "江西南昌一幼儿园女童坠楼身亡"})
    with runtime.session() as s:
        actions.respond(s, iid, "duty1", now + timedelta(hours=1), "https://weibo.com/x", settings=runtime.settings)
    with runtime.session() as s:
        tick(s, now + timedelta(hours=2), runtime.settings)
        assert s.get(IncidentRow, iid).stage == "response"  # heat still near its peak
    with runtime.session() as s:
        tick(s, now + timedelta(hours=8), runtime.settings)
        assert s.get(IncidentRow, iid).stage == "aftermath"
    for days in (6, 7.2, 7.5, 14.5):
        with runtime.session() as s:
            tick(s, now + timedelta(days=days), runtime.settings)
    with runtime.session() as s:
        # issue 16: `reminder` is the clock's alone; the prompt to close is a stage_change sub-kind
        quiet = [n.payload["text"] for n in s.scalars(select(NotificationRow).where(NotificationRow.kind == "stage_change"))
                 if "善后提醒" in n.payload["text"]]
    assert len(quiet) == 2 and "平稳 7 天" in quiet[0] and "平稳 14 天" in quiet[1]


def test_replay_cli_contract_and_bad_lines(config_file: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.jsonl"
    lines = [json.dumps({"id": "p1", "platform": "weibo", "text": "山东临沂一女童被拐卖", "category": "emergency",
                         "severity": 2, "published_at": "2026-03-02T09:00:00+08:00"}, ensure_ascii=False),
             "{not json",
             json.dumps({"action": "dismiss", "at": "2026-03-02T09:20:00+08:00", "post_id": "p1",
                         "reason": "谣言"}, ensure_ascii=False),
             json.dumps({"action": "ack", "at": "2026-03-02T09:40:00+08:00", "post_id": "nope"})]
    scenario.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, inc = tmp_path / "out.jsonl", tmp_path / "inc.jsonl"
    done = subprocess.run([sys.executable, "-m", "app.cli", "replay", str(scenario), "--notify-file", str(out),
                           "--incidents-file", str(inc), "--tail", "2h"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "line 2: JSON 格式错误" in done.stderr and "line 4: 帖子 nope 不属于任何事件" in done.stderr
    assert "Traceback" not in done.stderr
    notes = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [n["kind"] for n in notes] == ["new_incident", "escalation", "stage_change"]
    assert notes[0]["time"] == "2026-03-02T09:00:00+08:00" and notes[-1]["stage"] == "dismissed"
    (obj,) = [json.loads(x) for x in inc.read_text(encoding="utf-8").splitlines()]
    assert obj["stage"] == "dismissed" and obj["post_ids"] == ["p1"]
    assert obj["deadline"] == "2026-03-02T21:00:00+08:00"
