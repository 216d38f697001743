"""Property (issue 16): over generated post/action streams, the replay never sends one kind twice for
one incident in one minute, and keeps the clock-reminder and checklist_overdue budgets."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.replay import replay
from tests.conftest import write_config
from yuqing.settings import load_settings
from yuqing.timeutil import parse_datetime

T0 = datetime.fromisoformat("2026-06-01T08:00:00+08:00")
EVENTS = {
    "a": ("rights", "浙江温州瑞安市一名女子遭前夫持刀威胁，多次报警未果，家属发帖求助"),
    "b": ("emergency", "贵州毕节织金县一所小学放学途中发生山体滑坡，多名学生被困"),
}
ACTIONS = ("ack", "advance", "respond", "dismiss", "close")

post_st = st.fixed_dictionaries({
    "minute": st.integers(0, 300),
    "event": st.sampled_from(sorted(EVENTS)),
    "severity": st.integers(1, 3),
    "engagement": st.integers(0, 12000),
    "repost": st.booleans(),
})
action_st = st.fixed_dictionaries({
    "minute": st.integers(0, 700),
    "action": st.sampled_from(ACTIONS),
    "target": st.integers(0, 5),
})


def _stream(posts: list[dict[str, Any]], actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    first: dict[str, str] = {}
    for n, p in enumerate(sorted(posts, key=lambda p: p["minute"])):
        category, text = EVENTS[p["event"]]
        when = T0 + timedelta(minutes=p["minute"])
        post: dict[str, Any] = {
            "id": f"p{n}", "platform": "weibo", "author": f"网友{n}", "text": f"{text}（{n}）",
            "category": category, "severity": p["severity"], "published_at": when.isoformat(),
            "fetched_at": (when + timedelta(minutes=3)).isoformat(),
            "reposts": p["engagement"] // 3, "comments": p["engagement"] // 3, "likes": p["engagement"] // 3,
        }
        if p["repost"] and p["event"] in first:
            post["repost_of"] = first[p["event"]]
        first.setdefault(p["event"], post["id"])
        lines.append(post)
    ids = [p["id"] for p in lines]
    for a in actions:
        target = ids[a["target"] % len(ids)]
        obj = {"action": a["action"], "at": (T0 + timedelta(minutes=a["minute"])).isoformat(), "post_id": target,
               "reason": "场景测试", "url": "https://weibo.com/x/statement"}
        lines.append(obj)
    return lines


# each example is a whole replay (seconds): few examples, no shrinking (a failure prints its stream)
@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(posts=st.lists(post_st, min_size=1, max_size=6), actions=st.lists(action_st, max_size=3))
def test_no_kind_twice_per_incident_and_minute(posts: list[dict[str, Any]], actions: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory(prefix="yuqing-prop-") as tmp:
        work = Path(tmp)
        scenario = work / "s.jsonl"
        lines = _stream(posts, actions)
        scenario.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines), encoding="utf-8")
        out, inc = work / "out.jsonl", work / "inc.jsonl"
        replay(scenario, out, inc, tail=timedelta(hours=13), settings=load_settings(write_config(work)))
        notes = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if x.strip()]
        incidents = [json.loads(x) for x in inc.read_text(encoding="utf-8").splitlines() if x.strip()]
    per_minute = Counter((n["incident_id"], n["kind"], n["time"][:16]) for n in notes if n["incident_id"] is not None)
    assert [k for k, c in per_minute.items() if c > 1] == []
    severity = {p["id"]: p["severity"] for p in lines if "action" not in p}
    for incident in incidents:
        mine = [n for n in notes if n["incident_id"] == incident["id"]]
        assert sum(1 for n in mine if n["kind"] == "reminder") <= 3
        assert not [n for n in mine if n["kind"] == "reminder" and "清单逾期" in n["text"]]
        overdue = sorted(parse_datetime(n["time"]) for n in mine if n["kind"] == "checklist_overdue")
        assert all(b - a >= timedelta(hours=1) for a, b in zip(overdue, overdue[1:], strict=False))
        if incident["first_response_at"]:
            responded = parse_datetime(incident["first_response_at"])
            assert not [n for n in mine if n["kind"] in ("reminder", "checklist_overdue")
                        and parse_datetime(n["time"]) > responded]
        top = max(severity[p] for p in incident["post_ids"])
        assert all(n["severity"] <= top + 1 for n in mine)
