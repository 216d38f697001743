"""Crawler throughput: items/s through the whole pipeline chain, and peak memory.

A local site serves a synthetic m.weibo.cn search (KEYWORDS × PAGES pages of CARDS cards, a
third of them reposts carrying their original) and `scrapy crawl weibo_search` runs against it
three ways, each in its own process, printed side by side:

  baseline     no item pipelines (parsing + download only)
  pipelines    normalise → validate → keyword → dedupe/near-dup, no database
  + storage    the same plus batched writes to a fresh SQLite database

then the detection lag (publication → stored) per source, p50/p90, on a replayed stream at the
default settings (bench/freshness_bench.py; `--lag-only` prints just that table), and with
`--demo-site` also the lag of the real spiders polling the demo's replay site at the default
intervals (bench/demo_lag_bench.py; several minutes).

    .venv/bin/python bench/crawl_bench.py [--keywords 8] [--pages 25] [--cards 20] [--lag-only] [--demo-site]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawlers.runner import run_spider  # noqa: E402
from crawlers.testing.site import FixtureSite, Reply, SiteRequest  # noqa: E402

WORDS = "妇联 家暴 求助 社区 民警 调解 法院 保护令 孩子 学校 邻居 报警 热线 律师 援助 家庭 婚姻 彩礼 网暴 通报".split()


def make_page(keyword: str, keyword_index: int, page: int, pages: int, cards: int) -> dict:
    if page > pages:
        return {"ok": 0}
    out = []
    for i in range(cards):
        n = (keyword_index * 1000 + page) * 100 + i
        words = " ".join(WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(12))
        mblog = {"id": str(n), "text": f"{keyword}事件{n}：{words}<span class=\"url-icon\"><img alt=\"[怒]\"></span>",
                 "created_at": f"{(n % 59) + 1}分钟前", "reposts_count": f"{n % 9}.{n % 10}万",
                 "comments_count": n % 500, "attitudes_count": "100万+",
                 "user": {"id": n % 977, "screen_name": f"用户{n % 977}", "verified": n % 2 == 0,
                          "followers_count": f"{n % 90}.5万"}}
        if i % 3 == 0:
            mblog["retweeted_status"] = {"id": str(900000000 + n // 3), "text": f"原帖 {keyword} {words}",
                                         "created_at": "Sat Jun 14 12:00:00 +0800 2025"}
        out.append({"card_type": 9, "mblog": mblog})
    return {"ok": 1, "data": {"cards": out}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keywords", type=int, default=8)
    parser.add_argument("--pages", type=int, default=25)
    parser.add_argument("--cards", type=int, default=20)
    parser.add_argument("--lag-only", action="store_true", help="only the detection-lag table (bench/freshness_bench.py)")
    parser.add_argument("--demo-site", action="store_true",
                        help="also the lag of the real spiders on the demo site at the default intervals")
    opts = parser.parse_args()
    from bench.demo_lag_bench import print_demo_lag
    from bench.freshness_bench import print_lag_report

    if opts.lag_only:
        print_lag_report()
        if opts.demo_site:
            print_demo_lag("07:00", 12)
        return
    keywords = [f"家暴{k}" for k in range(opts.keywords)]

    def search(req: SiteRequest) -> Reply:
        cid = req.query.get("containerid", "")
        word = cid.rsplit("q=", 1)[-1]
        page = int(req.query.get("page", "1"))
        return Reply(json.dumps(make_page(word, keywords.index(word), page, opts.pages, opts.cards), ensure_ascii=False),
                     headers={"Content-Type": "application/json; charset=utf-8"})

    from yuqing.db.migrate import upgrade
    from yuqing.runtime import Runtime
    from yuqing.settings import Settings

    common = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
              "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING", "YUQING_NOW": "2025-06-14T14:00:00+08:00"}
    expected = opts.keywords * opts.pages * opts.cards
    print(f"crawl_bench: weibo_search, {opts.keywords} keywords × {opts.pages} pages × {opts.cards} cards "
          f"= {expected} posts + {opts.keywords * opts.pages * -(-opts.cards // 3)} retweeted originals; "
          f"items/s = items out of the chain / crawl time (Scrapy's elapsed_time_seconds)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FixtureSite(handlers={"/api/container/getIndex": search}) as site:
        config = Path(tmp) / "yuqing.yaml"
        config.write_text(f"data_dir: {tmp}/var\nkeyword_schemes:\n  - name: 家暴\n    event: [家暴]\n",
                          encoding="utf-8")
        rt = Runtime(Settings(data_dir=f"{tmp}/var"))
        upgrade(rt.engine)
        rt.close()
        variants = [
            ("baseline (no pipelines)", {"ITEM_PIPELINES": "{}", "YUQING_STORE": "0"}),
            ("pipelines, no database", {"YUQING_STORE": "0"}),
            ("pipelines + SQLite storage", {"YUQING_STORE": "1"}),
        ]
        for label, extra in variants:
            started = time.monotonic()
            summary = run_spider("weibo_search", {"keywords": ",".join(keywords), "base_url": site.url},
                                 {**common, **extra}, env={"YUQING_CONFIG": str(config)})
            wall = time.monotonic() - started
            rate = summary.fetched / summary.elapsed_seconds if summary.elapsed_seconds else 0.0
            rows.append((label, summary.fetched, summary.new, summary.elapsed_seconds, rate, wall,
                         summary.peak_memory_mb, summary.status))
    print(f"{'variant':<28} {'items':>7} {'stored':>7} {'crawl s':>8} {'items/s':>9} {'process s':>10} "
          f"{'peak RSS MB':>12}")
    for label, fetched, new, elapsed, rate, wall, mem, status in rows:
        flag = "" if status == "ok" else f"  ({status})"
        print(f"{label:<28} {fetched:>7} {new:>7} {elapsed:>8.2f} {rate:>9.0f} {wall:>10.2f} {mem:>12.1f}{flag}")
    base = rows[0][4]
    if base:
        for label, *_rest in rows[1:]:
            rate = _rest[3]
            print(f"{label}: {rate / base:.0%} of the baseline rate")
    print_lag_report()  # detection lag per source on a replayed stream (p50/p90)
    if opts.demo_site:
        print_demo_lag("07:00", 12)


if __name__ == "__main__":
    main()
