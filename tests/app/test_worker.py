"""The pipeline worker on a real SQLite database with pre-classified posts (no model needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.worker import ProcessReport, Worker, _apply, _classify, claim, process
from yuqing.db.models import IncidentPostRow, IncidentRow, NotificationRow, PostRow
from yuqing.domain import Post
from yuqing.runtime import Runtime
from yuqing.store import store_posts
from yuqing.timeutil import SimClock

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def _post(pid: str, text: str, minutes: float, category: str = "rights", severity: int = 2, **kw: object) -> Post:
    return Post.model_validate({"id": pid, "platform": "weibo", "text": text, "category": category,
                                "severity": severity,
                                "published_at": (T0 + timedelta(minutes=minutes)).isoformat(), **kw})


def _sim(runtime: Runtime, when: datetime) -> Runtime:
    runtime.clock = SimClock(when)
    return runtime


def _counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.session() as s:
        return (s.scalar(select(func.count()).select_from(IncidentRow)),
                s.scalar(select(func.count()).select_from(IncidentPostRow)),
                s.scalar(select(func.count()).select_from(NotificationRow).where(NotificationRow.kind == "new_incident")))


def test_process_groups_alerts_and_is_idempotent(runtime: Runtime) -> None:
    rt = _sim(runtime, T0 + timedelta(minutes=30))
    with rt.session() as s:
        store_posts(s, [_post("p1", "江西南昌一幼儿园女童坠楼身亡，家属质疑园方", 0, reposts=10),
                        _post("p2", "南昌幼儿园女童坠楼事件，园方回应称老师不在教室", 10),
                        _post("p3", "湖南邵阳女子遭家暴重伤", 12),
                        _post("n1", "妇联举办读书会", 5, category="none", severity=0)], rt.clock.now())
    report = process(rt)
    assert (report.done, report.preclassified, report.crisis, report.opened, report.joined) == (4, 4, 3, 2, 1)
    assert _counts(rt) == (2, 3, 2)
    with rt.session() as s:
        assert set(s.scalars(select(PostRow.status))) == {"done"}
        assert s.get(PostRow, "n1").category == "none"
    # a rerun finds nothing to do and alerts nothing again
    again = process(rt)
    assert again.claimed == 0 and _counts(rt) == (2, 3, 2)


def test_requeued_post_updates_heat_without_second_alert(runtime: Runtime) -> None:
    rt = _sim(runtime, T0 + timedelta(minutes=5))
    with rt.session() as s:
        store_posts(s, [_post("p1", "江西南昌一幼儿园女童坠楼身亡", 0, reposts=5, comments=1, likes=3)], rt.clock.now())
    process(rt)
    with rt.session() as s:
        before = s.scalars(select(IncidentRow)).one().heat
    rt.clock.advance(timedelta(minutes=30))
    with rt.session() as s:  # the crawler sees the same post spread
        store_posts(s, [_post("p1", "江西南昌一幼儿园女童坠楼身亡", 0, reposts=5000, comments=3000, likes=20000)],
                    rt.clock.now())
        assert s.get(PostRow, "p1").status == "pending"
    report = process(rt)
    assert report.done == 1 and report.opened == 0 and report.joined == 0
    with rt.session() as s:
        incident = s.scalars(select(IncidentRow)).one()
        assert incident.heat > before + 30
        kinds = sorted(s.scalars(select(NotificationRow.kind)))
    # issue 16: one post's own spread is in its classification, not incident-level evidence: heat
    # follows, the severity (and so no severity_up) does not
    assert kinds.count("new_incident") == 1 and "severity_up" not in kinds
    assert incident.severity == 2
    assert _counts(rt)[:2] == (1, 1)


def test_crash_between_engine_and_done_never_double_counts(runtime: Runtime) -> None:
    rt = _sim(runtime, T0 + timedelta(minutes=5))
    with rt.session() as s:
        store_posts(s, [_post("p1", "江西南昌一幼儿园女童坠楼身亡", 0)], rt.clock.now())
    # a worker claims, runs the engine (committed) and dies before marking the post done
    ids = claim(rt, 10, rt.clock.now())
    worker = Worker(rt)
    with rt.session() as s:
        rows = list(s.scalars(select(PostRow).where(PostRow.id.in_(ids))))
    classes, errors, emb = _classify(worker, rows, ProcessReport())
    _apply(rt, ids, classes, emb, ProcessReport())
    assert _counts(rt) == (1, 1, 1)
    # its claim is fresh: another worker leaves the post alone
    assert process(rt).claimed == 0
    # ten minutes later the claim is stale: the post is taken again, nothing is counted twice
    rt.clock.advance(timedelta(minutes=11))
    report = process(rt)
    assert report.done == 1 and report.opened == 0
    assert _counts(rt) == (1, 1, 1)
    with rt.session() as s:
        assert s.get(PostRow, "p1").status == "done"


def test_bad_given_classification_fails_that_post_only(runtime: Runtime) -> None:
    rt = _sim(runtime, T0 + timedelta(minutes=5))
    with rt.session() as s:
        store_posts(s, [_post("bad", "某地女童走失", 0, category="rights", severity=0),
                        _post("ok", "江西南昌一幼儿园女童坠楼身亡", 1)], rt.clock.now())
    report = process(rt)
    assert report.failed == 1 and report.done == 1
    assert any("bad" in e for e in report.errors)
    with rt.session() as s:
        assert s.get(PostRow, "bad").status == "failed"


def test_process_and_incidents_cli(config_file: Path, tmp_path: Path) -> None:
    lines = [_post("c1", "江西南昌一幼儿园女童坠楼身亡，家属质疑园方", 0).to_wire(),
             _post("c2", "湖南邵阳女子遭家暴重伤，妇联介入", 3).to_wire()]
    data = tmp_path / "posts.jsonl"
    data.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    yq = [sys.executable, "-m", "app.cli"]
    env_run = dict(capture_output=True, text=True, timeout=120)
    assert subprocess.run([*yq, "init"], **env_run).returncode == 0
    assert subprocess.run([*yq, "ingest", str(data)], **env_run).returncode == 0
    done = subprocess.run([*yq, "process"], **env_run)
    assert done.returncode == 0, done.stderr
    assert "新建事件 2 个" in done.stdout
    listed = subprocess.run([*yq, "incidents", "list", "--json"], **env_run)
    objs = [json.loads(x) for x in listed.stdout.splitlines()]
    assert [o["post_ids"] for o in objs] == [["c1"], ["c2"]]
    ack = subprocess.run([*yq, "incidents", "ack", str(objs[0]["id"]), "--by", "duty1"], **env_run)
    assert ack.returncode == 0 and "已确认" in ack.stdout
    bad = subprocess.run([*yq, "incidents", "dismiss", "999", "--reason", "x"], **env_run)
    assert bad.returncode == 1 and "事件 #999 不存在" in bad.stderr and "Traceback" not in bad.stderr
    shown = subprocess.run([*yq, "incidents", "show", str(objs[0]["id"])], **env_run)
    assert "回应时钟" in shown.stdout and "duty1" in shown.stdout
