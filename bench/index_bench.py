"""Index benchmark on generated Chinese posts: embedded (tantivy) and Elasticsearch (noida-db).

    .venv/bin/python bench/index_bench.py [--size 1000000] [--es-size 50000] [--no-es]

Prints, in the same run, each figure next to its target and to the baseline (the in-memory
matcher scanning every folded post, which is what a search without an index would cost):
- embedded bulk indexing rate (engine: documents → committed index), and the document build rate
  (folding title + text with yuqing.query.normalize, the same on both backends);
- p50/p95 latency of a two-term query + time filter + daily histogram at --size posts;
- the same through the Elasticsearch backend against a local noida-db server.
The built embedded index and the folded texts are cached under var/bench/ (keyed by size).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search import SearchRequest  # noqa: E402
from search.documents import folded_text, post_view  # noqa: E402
from search.embedded import SCHEMA_VERSION, EmbeddedIndex  # noqa: E402
from search.sortkeys import ENGAGEMENT_KEY, TIME_KEY, engagement_key, time_key  # noqa: E402
from yuqing.query import compile_matcher, parse  # noqa: E402

WORDS = ("妇联 家暴 家庭暴力 儿童 学校 女童 性侵 猥亵 拐卖 寻亲 彩礼 产假 生育津贴 离婚冷静期 网暴 偷拍 抚养费 育儿补贴 "
         "托育 反家暴 人身安全保护令 妇女权益 社区 街道 派出所 法院 判决 通报 回应 调查 网友 视频 微博 热搜 当地 "
         "相关部门 工作人员 记者 采访 了解 表示 目前 已经 进一步 核实 处理 发布 情况 事件 关注 舆论 讨论 支持 质疑 "
         "政策 解读 宣传 活动 志愿者 帮扶 救助 心理 疏导 保障 落实 加强 推进 开展 组织 召开 会议 部署 工作").split()
PLATFORMS = ("weibo", "news", "wechat", "douyin", "forum")
CATEGORIES = ("policy", "rights", "image", "work", "emergency", "none")
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
TARGET_RATE, TARGET_P95_MS = 5000, 50.0


def gen_post(i: int) -> dict:
    rnd = random.Random(i)
    text = "".join(rnd.choice(WORDS) + ("，" if rnd.random() < 0.2 else "") for _ in range(rnd.randint(12, 30)))
    cat = rnd.choice(CATEGORIES)
    when = START + timedelta(seconds=rnd.randrange(DAYS * 86400))
    rp, cm, lk = rnd.randrange(50), rnd.randrange(50), rnd.randrange(500)
    pid = f"b{i:08d}"
    return {"id": pid, "platform": rnd.choice(PLATFORMS), "url": None, "author": f"作者{rnd.randrange(5000)}",
            "author_id": None, "author_verified": None, "author_followers": None, "title": None, "text": text,
            "published_at": when.isoformat(), "fetched_at": None, "first_seen_at": when.isoformat(),
            "reposts": rp, "comments": cm, "likes": lk, "views": None, "engagement": rp + cm + lk,
            "keywords": [], "repost_of": None, "near_dup_of": None, "source": "bench", "category": cat,
            "severity": 0 if cat == "none" else rnd.randint(1, 4), "incident_ids": [],
            TIME_KEY: time_key(pid, when), ENGAGEMENT_KEY: engagement_key(pid, rp + cm + lk)}


def build_doc(i: int) -> dict:
    doc = gen_post(i)
    doc["folded"] = folded_text(doc["title"], doc["text"])
    return doc


def build_docs(start: int, n: int, procs: int = 2) -> list[dict]:
    with Pool(procs) as pool:
        return pool.map(build_doc, range(start, start + n), chunksize=2000)


def queries(n: int) -> list[SearchRequest]:
    rnd = random.Random(7)
    out = []
    for _ in range(n):
        a, b = rnd.sample(WORDS[:40], 2)
        since = START + timedelta(days=rnd.randrange(DAYS - 30))
        out.append(SearchRequest(query=f"{a} {b}", since=since, until=since + timedelta(days=30), size=20,
                                 histogram="day", highlight=True))
    return out


def timed(index, reqs: list[SearchRequest]) -> tuple[float, float, int]:
    index.search(reqs[0])  # warm up
    lat = []
    hits = 0
    for r in reqs:
        t = time.perf_counter()
        res = index.search(r)
        lat.append((time.perf_counter() - t) * 1000)
        hits += res.total
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.95) - 1], hits // len(reqs)


def baseline_scan(folded: list[str], reqs: list[SearchRequest], times: list[str]) -> float:
    """Median ms of the in-memory matcher over every post (no index), with the same time filter."""
    lat = []
    for r in reqs[:5]:
        m = compile_matcher(parse(str(r.query)))
        lo, hi = r.since.isoformat(), r.until.isoformat()  # type: ignore[union-attr]
        t = time.perf_counter()
        sum(1 for f, ts in zip(folded, times, strict=True) if lo <= ts < hi and m.matches_text(f))
        lat.append((time.perf_counter() - t) * 1000)
    return statistics.median(lat)


def index_dir(cache: Path, size: int, kind: str = "embedded") -> Path:
    """Cached index of `size` generated posts; the schema version is part of the name, so a
    schema change builds a new one instead of opening an old one."""
    return cache / f"{kind}-v{SCHEMA_VERSION}-{size}"


def embedded(size: int, cache: Path, reqs: list[SearchRequest]) -> None:
    path = index_dir(cache, size)
    folded_file = cache / f"folded-{size}.jsonl"
    # 1. indexing rate on a fresh sample index (engine only, documents prebuilt)
    sample = min(size, 50_000)
    t = time.perf_counter()
    docs = build_docs(0, sample)
    build_rate = sample / (time.perf_counter() - t)
    tmp = cache / "rate-sample"
    shutil.rmtree(tmp, ignore_errors=True)
    idx = EmbeddedIndex(tmp, writer=True, heap_bytes=200_000_000)
    idx.create()
    t = time.perf_counter()
    idx.upsert(docs)
    idx.refresh()
    rate = sample / (time.perf_counter() - t)
    idx.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"embedded bulk indexing : {rate:,.0f} posts/s (target ≥ {TARGET_RATE:,}) "
          f"[{'OK' if rate >= TARGET_RATE else 'BELOW'}]  — {sample:,} documents → committed index")
    print(f"document build (fold)  : {build_rate:,.0f} posts/s on 2 processes (normalize: NFKC + OpenCC t2s)")
    # 2. the big index, cached
    if not (path.exists() and folded_file.exists()):
        shutil.rmtree(path, ignore_errors=True)
        idx = EmbeddedIndex(path, writer=True, heap_bytes=300_000_000)
        idx.create()
        t0 = time.perf_counter()
        with folded_file.open("w", encoding="utf-8") as out:
            for start in range(0, size, 100_000):
                batch = build_docs(start, min(100_000, size - start))
                idx.upsert(batch)
                idx.refresh()
                for d in batch:
                    out.write(json.dumps([d["published_at"], d["folded"]], ensure_ascii=False) + "\n")
                print(f"  built {start + len(batch):,}/{size:,} ({time.perf_counter() - t0:.0f}s)", flush=True)
        idx.close()
    idx = EmbeddedIndex(path)
    assert idx.count() == size, f"cached index has {idx.count()} docs, expected {size}"
    # first pass: the index may be cold in the page cache (it is read from disk); the second pass
    # is the steady state of a running service, which the target is about. Both are printed.
    c50, c95, _ = timed(idx, reqs)
    p50, p95, avg = timed(idx, reqs)
    print(f"embedded search        : p50 {p50:.1f} ms, p95 {p95:.1f} ms at {size:,} posts (target p95 ≤ "
          f"{TARGET_P95_MS:.0f} ms) [{'OK' if p95 <= TARGET_P95_MS else 'ABOVE'}]  avg hits {avg:,}  "
          f"— second pass over the queries")
    print(f"  first pass           : p50 {c50:.1f} ms, p95 {c95:.1f} ms (index files possibly not yet in the page cache)")
    times, folded = [], []
    with folded_file.open(encoding="utf-8") as f:
        for line in f:
            ts, fo = json.loads(line)
            times.append(ts)
            folded.append(fo)
    print(f"baseline (no index)    : {baseline_scan(folded, reqs, times):.0f} ms per query, in-memory matcher "
          f"scanning all {size:,} posts")
    idx.close()


def elastic(size: int, reqs: list[SearchRequest], cache: Path) -> None:
    from search.elastic import ElasticIndex

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = cache / "noida"
    shutil.rmtree(data, ignore_errors=True)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "noida-db"), "start", "--data-dir", str(data),
                             "--host", "127.0.0.1", "--only", "elasticsearch", "--elasticsearch-port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        idx = ElasticIndex(url, prefix="bench", analyzer="cjk", chunk_size=2000)
        for _ in range(300):
            try:
                idx.create()
                break
            except Exception:  # noqa: BLE001 - server still starting
                time.sleep(0.1)
        docs = build_docs(0, size)
        t = time.perf_counter()
        for i in range(0, size, 20_000):
            idx.upsert(docs[i:i + 20_000])
        idx.refresh()
        rate = size / (time.perf_counter() - t)
        print(f"elasticsearch indexing : {rate:,.0f} posts/s (noida-db, bulk chunks of 2,000, {size:,} posts)")
        p50, p95, avg = timed(idx, reqs)
        print(f"elasticsearch search   : p50 {p50:.1f} ms, p95 {p95:.1f} ms at {size:,} posts (noida-db)  "
              f"avg hits {avg:,}")
        small_path = index_dir(cache, size, "embedded-es")
        small = EmbeddedIndex(small_path, writer=True)
        if not small.exists() or small.count() != size:
            shutil.rmtree(small.path, ignore_errors=True)
            small = EmbeddedIndex(small_path, writer=True)
            small.create()
            small.upsert(docs)
        small.close()
        p50, p95, _ = timed(EmbeddedIndex(small_path), reqs)
        print(f"embedded, same size    : p50 {p50:.1f} ms, p95 {p95:.1f} ms at {size:,} posts (for comparison)")
        idx.close()
    finally:  # the console script wraps the server binary: stop the whole process group
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="posts in the embedded index")
    ap.add_argument("--es-size", type=int, default=20_000, help="posts indexed into noida-db")
    ap.add_argument("--es-queries", type=int, default=10,
                    help="queries timed through noida-db (an emulator: seconds per phrase query)")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--no-es", action="store_true")
    ap.add_argument("--cache", default=str(ROOT / "var" / "bench"))
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    reqs = queries(args.queries)
    print(f"query: two terms AND, 30-day time filter, daily histogram, top 20 by time; {len(reqs)} queries")
    embedded(args.size, cache, reqs)
    if not args.no_es:
        elastic(args.es_size, reqs[:args.es_queries], cache)
    _ = post_view  # documents are built exactly as search.documents does


if __name__ == "__main__":
    main()
