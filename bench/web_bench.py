"""Web benchmark: on-duty board and search page latency with 100 open incidents and 1,000,000 posts.

    .venv/bin/python bench/web_bench.py [--posts 1000000] [--incidents 100] [--requests 200]

Serves the real app (uvicorn on 127.0.0.1) over a database holding --posts posts and --incidents open
incidents, with the embedded index of the same posts (built by bench/index_bench.py's generator and
cached under var/bench/, shared with that benchmark), logs in, and times GET requests over HTTP.
Prints p50/p95 for the board, its refresh fragment and the search page, and, as the baseline in the
same run, /api/health (the floor of the framework and the HTTP round trip).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
import index_bench  # noqa: E402  (the shared post generator)
import uvicorn  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from web.app import create_app  # noqa: E402
from web.auth import add_user  # noqa: E402
from yuqing.db.migrate import upgrade  # noqa: E402
from yuqing.db.models import HeatSampleRow, IncidentPostRow, IncidentRow, PostRow  # noqa: E402
from yuqing.runtime import Runtime  # noqa: E402
from yuqing.settings import Settings  # noqa: E402

PASSWORD = "bench-password-1"


def build_index(size: int, cache: Path) -> Path:
    from search.embedded import EmbeddedIndex

    path = index_bench.index_dir(cache, size)  # shared with bench/index_bench.py
    if path.exists():
        return path
    idx = EmbeddedIndex(path, writer=True, heap_bytes=300_000_000)
    idx.create()
    for start in range(0, size, 100_000):
        idx.upsert(index_bench.build_docs(start, min(100_000, size - start)))
        idx.refresh()
        print(f"  index {start + 100_000:,}/{size:,}", flush=True)
    idx.close()
    return path


def build_db(rt: Runtime, size: int, incidents: int) -> None:
    upgrade(rt.engine)
    now = datetime.now(UTC)
    with rt.engine.begin() as conn:
        for start in range(0, size, 50_000):
            rows = []
            for i in range(start, min(size, start + 50_000)):
                g = index_bench.gen_post(i)
                when = datetime.fromisoformat(g["published_at"])
                rows.append({"id": g["id"], "platform": g["platform"], "author": g["author"], "text": g["text"],
                             "published_at": when, "first_seen_at": when, "last_seen_at": when,
                             "reposts": g["reposts"], "comments": g["comments"], "likes": g["likes"],
                             "keywords": [], "extra": {}, "category": g["category"], "severity": g["severity"],
                             "status": "done", "attempts": 1})
            conn.execute(insert(PostRow), rows)
            print(f"  db {start + len(rows):,}/{size:,}", flush=True)
        for n in range(incidents):
            started = now - timedelta(hours=n % 20)
            conn.execute(insert(IncidentRow), [{
                "id": n + 1, "title": f"基准事件{n + 1}：某地妇女权益事件", "category": index_bench.CATEGORIES[n % 5],
                "severity": 1 + n % 4, "peak_severity": 1 + n % 4, "stage": ("warning", "response", "aftermath")[n % 3],
                "heat": 50.0 + n, "peak_heat": 60.0 + n, "clock_started_at": started,
                "deadline": started + timedelta(hours=12), "detected_at": started + timedelta(minutes=20),
                "created_at": now, "updated_at": now, "features": {}, "version": 0}])
            conn.execute(insert(IncidentPostRow), [{"incident_id": n + 1, "post_id": f"b{n * 7 + k:08d}",
                                                    "added_at": now, "reason": "similar"} for k in range(7)])
            conn.execute(insert(HeatSampleRow), [{"incident_id": n + 1, "at": started + timedelta(hours=h),
                                                  "heat": 40.0 + h, "posts": h, "engagement": 10 * h, "severity": 1}
                                                 for h in range(24)])
    with rt.session() as s:
        add_user(s, "bench", PASSWORD, "admin", now)


def serve(rt: Runtime) -> tuple[uvicorn.Server, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def timed(client: httpx.Client, url: str, n: int) -> tuple[float, float]:
    client.get(url).raise_for_status()  # warm up
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        client.get(url).raise_for_status()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--incidents", type=int, default=100)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--cache", default=str(ROOT / "var" / "bench"))
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    index_path = build_index(args.posts, cache)
    data = cache / f"web-{args.posts}-{args.incidents}"
    fresh = not (data / "yuqing.db").exists()
    settings = Settings.model_validate({"data_dir": str(data), "index": {"backend": "embedded",
                                                                        "embedded_dir": str(index_path)}})
    rt = Runtime(settings)
    if fresh:
        shutil.rmtree(data, ignore_errors=True)
        build_db(rt, args.posts, args.incidents)
    print(f"data ready in {time.perf_counter() - t0:.0f}s: {args.posts:,} posts, {args.incidents} open incidents")
    server, base = serve(rt)
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
        rows = [("baseline /api/health", "/api/health"), ("值班台 board /", "/"),
                ("board refresh /board/table", "/board/table"),
                ("检索 search (2 terms + time + histogram)", "/search?q=妇联+家暴&since=2025-03-01&until=2025-09-01"),
                ("检索 search, one word", "/search?q=彩礼")]
        print(f"{'page':44s} {'p50 ms':>8s} {'p95 ms':>8s}")
        for name, url in rows:
            p50, p95 = timed(client, url, args.requests)
            print(f"{name:44s} {p50:8.1f} {p95:8.1f}")
    server.should_exit = True
    rt.close()


if __name__ == "__main__":
    main()
