"""Issue 16 items 3-5 through the replay: severity from evidence, the notification budget, stages
and refused actions, on small hand-made scenarios (tests/app/scenarios/s16_*.jsonl)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.app.replay_helpers import SCENARIOS, Replayed, at, run_scenario
from tests.conftest import write_config

ROOT = Path(__file__).resolve().parents[2]


def _of(r: Replayed, incident_id: int) -> list[dict[str, Any]]:
    return [n for n in r.notes if n["incident_id"] == incident_id]


def _repeats(r: Replayed) -> list[tuple[Any, str, str]]:
    seen = Counter((n["incident_id"], n["kind"], n["time"][:16]) for n in r.notes if n["incident_id"] is not None)
    return [k for k, c in seen.items() if c > 1]


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    return run_scenario("s16_evidence.jsonl", tmp_path_factory.mktemp("s16_evidence"))


def test_severity_follows_the_posts_until_a_hot_search_raises_it_one_level(evidence: Replayed) -> None:
    inc = evidence.of("v1")
    hot_at = at("2026-05-11T11:00:00+08:00")
    before = [n for n in _of(evidence, inc["id"]) if at(n["time"]) < hot_at]
    assert before and {n["severity"] for n in before} == {2}  # posts of 2 and 1: 2, nothing above
    ups = evidence.kinds(inc["id"], "severity_up")
    assert [(n["severity"], at(n["time"])) for n in ups] == [(3, hot_at)]
    assert "定级依据：最高帖文等级 2；热搜第 3 位 → 3" in ups[0]["text"]
    # the raise to 重大 is evidence-backed, so 应对 follows, and says why
    change = evidence.kinds(inc["id"], "stage_change")[0]
    assert change["stage"] == "response" and "热搜第 3 位" in change["text"]


def test_severity_falls_with_its_evidence_without_an_alert(evidence: Replayed) -> None:
    inc = evidence.of("v1")
    gone = at("2026-05-11T17:00:00+08:00") + timedelta(minutes=1)  # 6 h after the 热搜 sighting
    later = [n for n in _of(evidence, inc["id"]) if at(n["time"]) >= gone]
    assert later and {n["severity"] for n in later} == {2}
    assert inc["severity"] == 2
    assert [n for n in later if n["kind"] == "severity_up"] == []


def test_opening_at_the_auto_response_level_opens_in_response(evidence: Replayed) -> None:
    x = evidence.of("x1")
    (new,) = evidence.kinds(x["id"], "new_incident")
    assert new["stage"] == "response" and "应对" in new["text"]
    assert evidence.kinds(x["id"], "stage_change") == []  # new_incident already says so
    assert x["stage"] == "response" and x["severity"] == 3


def test_no_incident_above_its_posts_plus_one(evidence: Replayed) -> None:
    post_max = {}
    for inc in evidence.incidents:
        post_max[inc["id"]] = max(p["severity"] for p in evidence.posts if p["id"] in inc["post_ids"])
    for n in evidence.notes:
        if n["incident_id"] is not None:
            assert n["severity"] <= post_max[n["incident_id"]] + 1
    assert _repeats(evidence) == []


@pytest.fixture(scope="module")
def budget(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    return run_scenario("s16_budget.jsonl", tmp_path_factory.mktemp("s16_budget"))


def test_clock_reminders_are_exactly_the_configured_ones(budget: Replayed) -> None:
    answered, late = budget.of("b1"), budget.of("c1")
    times = lambda inc: [at(n["time"]) for n in budget.kinds(inc["id"], "reminder")]  # noqa: E731
    # b1 answered at 19:30, before its 1-hour reminder (20:00): only the 6 h and 3 h ones
    assert times(answered) == [at(answered["deadline"]) - timedelta(hours=h) for h in (6, 3)]
    # c1 never answered: 6 h, 3 h, 1 h, each once, then the breach at the deadline and nothing more
    assert times(late) == [at(late["deadline"]) - timedelta(hours=h) for h in (6, 3, 1)]
    assert [at(n["time"]) for n in budget.kinds(late["id"], "breach")] == [at(late["deadline"])]
    for inc in budget.incidents:
        assert len(budget.kinds(inc["id"], "reminder")) <= 3


def test_checklist_overdue_has_its_own_kind_and_budget(budget: Replayed) -> None:
    assert not [n for n in budget.notes if n["kind"] == "reminder" and "清单逾期" in n["text"]]
    overdue = [n for n in budget.notes if n["kind"] == "checklist_overdue"]
    assert overdue and all("清单逾期" in n["text"] for n in overdue)
    for inc in budget.incidents:
        mine = sorted(at(n["time"]) for n in overdue if n["incident_id"] == inc["id"])
        assert all(b - a >= timedelta(hours=1) for a, b in zip(mine, mine[1:], strict=False))
        clock = [at(n["time"]) for n in budget.kinds(inc["id"], "reminder")]
        # folded: never a separate message within 10 minutes before a clock reminder
        assert not [t for t in mine for c in clock if timedelta(0) <= c - t <= timedelta(minutes=10)]
    # never after the response (b1, 19:30), the close (b1, 20:00) or the dismissal (c1, 07:00 next day)
    b1, c1 = budget.of("b1")["id"], budget.of("c1")["id"]
    assert not [n for n in overdue if n["incident_id"] == b1 and at(n["time"]) >= at("2026-05-12T19:30:00+08:00")]
    assert not [n for n in overdue if n["incident_id"] == c1 and at(n["time"]) >= at("2026-05-13T07:00:00+08:00")]
    assert _repeats(budget) == []


def test_refused_action_is_reported_and_the_replay_goes_on(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    out, inc = tmp_path / "out.jsonl", tmp_path / "inc.jsonl"
    env = {**os.environ, "YUQING_CONFIG": str(config)}
    env.pop("YUQING_DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-c", "from app.cli import run; run()", "replay",
                           str(SCENARIOS / "s16_budget.jsonl"), "--notify-file", str(out), "--incidents-file",
                           str(inc), "--tail", "12h"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "line 7: 事件 #1 已关闭，不能再操作" in proc.stderr
    assert "已已" not in proc.stderr and "Traceback" not in proc.stderr
    notes = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    incidents = [json.loads(line) for line in inc.read_text(encoding="utf-8").splitlines()]
    assert {i["stage"] for i in incidents} == {"closed", "dismissed", "warning"}
    # what came after the refused line still ran: d1 (21:04) opened, c1 was dismissed at 07:00
    assert any(n["kind"] == "new_incident" and at(n["time"]) == at("2026-05-12T21:04:00+08:00") for n in notes)
    assert any(n["kind"] == "stage_change" and n["stage"] == "dismissed" for n in notes)


def test_bad_action_field_is_a_line_error_not_a_crash(tmp_path: Path) -> None:
    from app.replay import replay
    from yuqing.settings import load_settings

    scenario = tmp_path / "s.jsonl"
    lines = (SCENARIOS / "s16_budget.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    lines.append(json.dumps({"action": "respond", "at": "2026-05-12T09:20:00+08:00", "post_id": "b1",
                             "response_at": "昨天"}, ensure_ascii=False))
    scenario.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, inc = tmp_path / "out.jsonl", tmp_path / "inc.jsonl"
    report = replay(scenario, out, inc, tail=timedelta(hours=1), settings=load_settings(write_config(tmp_path)))
    assert [e for e in report.errors if e.startswith("line 3: 字段 response_at 无效")]
    assert inc.read_text(encoding="utf-8").strip() and out.read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def surge(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    return run_scenario("s16_surge.jsonl", tmp_path_factory.mktemp("s16_surge"))


def test_re_escalation_on_many_high_engagement_posts_in_aftermath(surge: Replayed) -> None:
    inc = surge.of("g1")
    (re,) = surge.kinds(inc["id"], "re_escalation")
    # three such posts in the morning are not a surge; the eighth of the evening (21:13) is
    assert at(re["time"]) == at("2026-05-15T21:13:00+08:00")
    assert re["stage"] == "response" and "8 条高互动帖" in re["text"] and "善后" in re["text"]
    assert any(at(n["time"]) > at(re["time"]) for n in surge.kinds(inc["id"], "escalation"))
    assert _repeats(surge) == []


def test_incidents_show_prints_the_severity_reason(runtime, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    from alerting.engine.core import handle_posts
    from yuqing.db.models import PostRow
    from yuqing.domain import Post
    from yuqing.store import store_posts

    now = at("2026-05-11T09:05:00+08:00")
    with runtime.session() as s:
        store_posts(s, [Post.model_validate({"id": "p1", "platform": "weibo", "author": "网友",
                                             "text": "湖南衡阳祁东县一女子遭丈夫家暴致骨折",
                                             "published_at": "2026-05-11T09:00:00+08:00"})], now)
        row = s.get(PostRow, "p1")
        row.category, row.severity = "rights", 2
        (iid,) = handle_posts(s, [row], now, runtime.settings).opened
    env = {**os.environ, "YUQING_CONFIG": str(config_file)}
    env.pop("YUQING_DATABASE_URL", None)
    run = lambda *a: subprocess.run([sys.executable, "-c", "from app.cli import run; run()", "incidents", "show",  # noqa: E731
                                     str(iid), *a], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    text = run()
    assert text.returncode == 0, text.stderr[-1000:]
    assert "定级依据：最高帖文等级 2 → 2" in text.stdout
    obj = json.loads(run("--json").stdout)
    assert obj["severity"] == 2 and obj["severity_reason"] == "最高帖文等级 2 → 2"


def test_overdue_items_fold_into_a_clock_reminder(evidence: Replayed) -> None:
    folded = [n for n in evidence.notes if n["kind"] == "reminder" and "项处置清单事项逾期" in n["text"]]
    assert folded and all(n["text"].startswith("【回应时限提醒】") for n in folded)
    for n in folded:  # the items it carried are not sent again on their own within the hour
        later = [m for m in evidence.notes if m["kind"] == "checklist_overdue" and m["incident_id"] == n["incident_id"]
                 and timedelta(0) <= at(m["time"]) - at(n["time"]) < timedelta(hours=1)]
        assert later == []
