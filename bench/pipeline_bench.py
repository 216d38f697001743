"""Pipeline benchmark: posts/s through `process()` and arrival-to-notification latency (p50/p95).

    .venv/bin/python bench/pipeline_bench.py [--posts 1000] [--events 40] [--open 2000] [--latency 100]
                                            [--legacy-posts 200] [--classifier]

Runs in a throw-away data dir (SQLite, embedded index, one file channel). Figures printed:

* throughput of pre-classified crisis posts (grouping, heat, notifications, indexing) with
  ``--open`` incidents already open (each in its own county, with a real grouping state in
  ``features["g"]``), for the model grouper (the default) and, as the baseline of the same run, the
  legacy grouper with the same open incidents (``--legacy-posts`` posts: it scores every open
  incident) and with none open; and the same posts labelled ``none`` (claim, store, index, no engine);
  the word/character/gazetteer tables are loaded before the clock starts, as in a running worker;
* with ``--classifier`` (and a prepared model) the same for unclassified posts through the model;
* latency from a post's arrival (stored) to its new_incident notification written to the channel,
  when the worker and the sender run right after arrival — the service adds up to
  ``scheduler.process_interval_seconds + outbox_interval_seconds`` of waiting on top (printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PLACES = ["江西南昌", "湖南邵阳", "河南周口", "浙江温州", "甘肃兰州", "山东临沂", "四川成都", "广东佛山", "云南昆明",
          "贵州毕节", "河北保定", "江苏徐州", "安徽阜阳", "湖北襄阳", "福建莆田", "广西玉林", "陕西榆林", "辽宁鞍山"]
EVENTS = ["一幼儿园女童坠楼身亡，家属质疑园方监管不力", "一女子长期遭丈夫家暴致重伤，当地妇联已介入",
          "一小学女生在校遭同学欺凌，视频在网上流传", "一托育机构被曝虐童，家长调取监控",
          "彩礼纠纷致新娘被家暴，妇联调解被指偏袒", "妇联工作人员对求助者态度冷漠引发众怒"]
TAILS = ["，网友呼吁彻查", "，当地已成立调查组", "，事件持续发酵", "，警方已介入调查", "，更多细节曝光", ""]


def make_posts(n: int, events: int, start: datetime, category: str | None) -> list[dict]:
    rnd = random.Random(7)
    topics = [(PLACES[i % len(PLACES)] + ("" if i < len(PLACES) else f"{i}区"), EVENTS[i % len(EVENTS)])
              for i in range(events)]
    posts = []
    for i in range(n):
        place, event = topics[i % events]
        obj = {"id": f"b{i}", "platform": "weibo", "text": f"{place}{event}{rnd.choice(TAILS)}（{i}）",
               "author": f"用户{i % 97}", "author_followers": rnd.randint(10, 100000),
               "published_at": (start + timedelta(seconds=30 * i)).isoformat(),
               "reposts": rnd.randint(0, 500), "comments": rnd.randint(0, 300), "likes": rnd.randint(0, 2000)}
        if category:
            obj.update(category=category, severity=0 if category == "none" else rnd.choice([1, 2, 2, 3]))
        posts.append(obj)
    return posts


def fresh_runtime(tmp: Path, name: str, grouping: str = "model"):  # type: ignore[no-untyped-def]
    import yaml

    from yuqing.db.migrate import upgrade
    from yuqing.runtime import Runtime
    from yuqing.settings import DEFAULT_CONFIG, load_settings

    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp / name)
    data["channels"] = [{"name": "file", "type": "file", "path": "notifications.jsonl"}]
    data["notify"] = {**data.get("notify", {}), "quiet_hours": None}
    data["engine"] = {**(data.get("engine") or {}), "params": {**((data.get("engine") or {}).get("params") or {}),
                                                               "grouping": grouping}}
    cfg = tmp / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rt = Runtime(load_settings(cfg))
    upgrade(rt.engine)
    return rt


def seed_open_incidents(rt, n: int, start: datetime) -> None:  # type: ignore[no-untyped-def]
    """``n`` open incidents, one per county of the gazetteer, each with one member post and its real
    grouping state (as ``link`` leaves it), written without alerts so the run starts from them."""
    from alerting.engine import grouping
    from alerting.engine.core import open_incident
    from yuqing.db.models import IncidentPostRow, PostRow
    from yuqing.domain import Post
    from yuqing.places import gazetteer
    from yuqing.store import store_posts

    counties = sorted(c for c in gazetteer().names if c[4:] != "0" * 8)
    rnd = random.Random(11)
    objs = []
    for i in range(n):
        name = gazetteer().names[counties[i % len(counties)]]
        objs.append({"id": f"open{i}", "platform": "weibo", "author": f"本地{i}",
                     "text": f"{name}{EVENTS[i % len(EVENTS)]}{rnd.choice(TAILS)}",
                     "published_at": (start - timedelta(hours=2, seconds=i)).isoformat(),
                     "category": "rights", "severity": 1})
    now = datetime.now(UTC)
    with rt.session() as s:
        store_posts(s, [Post.model_validate(o) for o in objs], now)
        s.flush()
        for o in objs:
            row = s.get(PostRow, o["id"])
            row.status, row.category, row.severity = "done", "rights", 1
            incident = open_incident(s, row, now, rt.settings)
            s.add(IncidentPostRow(incident_id=incident.id, post_id=row.id, added_at=now, reason="opened"))
            grouping.remember(incident, row, grouping.fingerprint(row, rt.settings), None)
            incident.last_post_at = row.published_at


def warm(settings) -> None:  # type: ignore[no-untyped-def]
    """Load what a running worker has loaded already (jieba, the IDF tables, the gazetteer, the
    playbooks read at its first incident); the open incidents' grouping index is not: the first
    batch of the run reads it."""
    from alerting.engine.evidence import PostEvidence
    from alerting.engine.features import Fingerprint
    from playbooks.loader import load_all

    PostEvidence.of("湖南衡阳衡南县一女子遭家暴", "rights")
    Fingerprint.of("江西南昌一幼儿园女童坠楼")
    load_all(settings)


def throughput(tmp: Path, name: str, posts: list[dict], classifier: object = None, *, grouping: str = "model",
               open_incidents: int = 0, start: datetime | None = None) -> tuple[float, object]:
    from app.worker import process
    from yuqing.domain import Post
    from yuqing.store import store_posts

    rt = fresh_runtime(tmp, name, grouping)
    warm(rt.settings)
    if open_incidents:
        seed_open_incidents(rt, open_incidents, start or datetime.now(UTC))
    with rt.session() as s:
        store_posts(s, [Post.model_validate(p) for p in posts], datetime.now(UTC))
    began = time.perf_counter()
    report = process(rt, classifier=classifier)
    elapsed = time.perf_counter() - began
    rt.close()
    return len(posts) / elapsed, report


def latency(tmp: Path, n: int, open_incidents: int = 0) -> list[float]:
    from alerting.sender import send_due
    from app.worker import Worker, process
    from yuqing.domain import Post
    from yuqing.store import store_posts

    rt = fresh_runtime(tmp, "latency")
    warm(rt.settings)
    if open_incidents:
        seed_open_incidents(rt, open_incidents, datetime.now(UTC) - timedelta(hours=1))
    worker = Worker(rt)
    out = rt.settings.data_file("notifications.jsonl")
    seen = 0
    waits: list[float] = []
    now = datetime.now(UTC)
    from yuqing.places import gazetteer

    counties = sorted((c for c in gazetteer().names if c[4:] != "0" * 8), reverse=True)
    for i, obj in enumerate(make_posts(n, n, now - timedelta(hours=1), "rights")):
        # a new event each: a county no open incident names (the seeded ones take the first counties)
        obj["text"] = f"第{i}号事件：{gazetteer().names[counties[i % len(counties)]]}" + obj["text"]
        arrived = time.perf_counter()
        with rt.session() as s:
            store_posts(s, [Post.model_validate(obj)], datetime.now(UTC))
        process(rt, worker=worker)
        send_due(rt, datetime.now(UTC))
        lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
        fresh = [json.loads(x)["kind"] for x in lines[seen:]]
        seen = len(lines)
        if "new_incident" in fresh:
            waits.append(time.perf_counter() - arrived)
    worker.close()
    rt.close()
    return waits


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--latency", type=int, default=100, help="posts for the latency run")
    parser.add_argument("--open", type=int, default=2000, help="incidents open before the run")
    parser.add_argument("--legacy-posts", type=int, default=200, help="posts for the legacy-grouper baseline")
    parser.add_argument("--classifier", action="store_true", help="also measure with the real classifier")
    args = parser.parse_args()
    start = datetime.now(UTC) - timedelta(hours=8)
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmpdir:
        tmp = Path(tmpdir)
        crisis, report = throughput(tmp, "crisis", make_posts(args.posts, args.events, start, "rights"),
                                    open_incidents=args.open, start=start)
        print(f"process(), {args.posts} pre-classified crisis posts, {args.events} events, {args.open} incidents "
              f"open, model grouper: {crisis:8.1f} posts/s (incidents opened {report.opened}, joined "
              f"{report.joined}, indexed {report.indexed})")
        n_old = min(args.posts, args.legacy_posts)
        old, rep_old = throughput(tmp, "legacy", make_posts(n_old, args.events, start, "rights"), grouping="legacy",
                                  open_incidents=args.open, start=start)
        print(f"baseline, legacy grouper, {n_old} posts, {args.open} incidents open:       {old:8.1f} posts/s "
              f"(opened {rep_old.opened}, joined {rep_old.joined})")
        few, rep_few = throughput(tmp, "legacy-few", make_posts(args.posts, args.events, start, "rights"),
                                  grouping="legacy")
        print(f"baseline, legacy grouper, {args.posts} posts, no incident open before:   {few:8.1f} posts/s "
              f"(opened {rep_few.opened}, joined {rep_few.joined})")
        base, _ = throughput(tmp, "none", make_posts(args.posts, args.events, start, "none"))
        print(f"baseline, same posts labelled none (no engine):            {base:8.1f} posts/s")
        if args.classifier:
            try:
                from classifier.api import load_classifier
                from yuqing.settings import load_settings

                model = load_classifier(load_settings())
                n = min(args.posts, 300)
                rate, rep = throughput(tmp, "model", make_posts(n, args.events, start, None), model)
                print(f"process(), {n} unclassified posts through the classifier:       {rate:8.1f} posts/s "
                      f"(classified {rep.classified})")
            except Exception as exc:  # model not prepared: say so, keep the other figures
                print(f"classifier run skipped: {exc}")
        waits = latency(tmp, args.latency, args.open)
        from yuqing.settings import load_settings

        sched = load_settings().scheduler
        print(f"arrival → new_incident written, worker+sender run at once ({len(waits)} incidents, "
              f"{args.open} open before): "
              f"p50 {pct(waits, 0.5) * 1000:.0f} ms, p95 {pct(waits, 0.95) * 1000:.0f} ms, "
              f"mean {statistics.fmean(waits) * 1000:.0f} ms")
        print(f"in `yuqing run` add up to process_interval {sched.process_interval_seconds:.0f} s + "
              f"outbox_interval {sched.outbox_interval_seconds:.0f} s of scheduling wait")
    from bench.notification_budget import report as notification_budget

    notification_budget()  # issue 16: notifications per incident-day on tl_09 (engine and gold grouping)


if __name__ == "__main__":
    main()
