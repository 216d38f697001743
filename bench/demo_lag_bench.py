"""Detection lag on the demo site: the real spiders, polled at the DEFAULT intervals of config/yuqing.yaml.

The demo's replay site (app/demo/site.py) serves the bundled day in the real sources' formats and
shows only what is published by its clock. This bench moves that clock over a window of the day
in 5-minute steps; at every step the enabled sources of the default configuration that are due
(``interval_minutes``) are crawled by the real spiders (one batch process per step, storing into
a fresh SQLite database, ``now`` = the step), so paging, the incremental stop at posts already
stored, keyword matching and date parsing are the product's own. The lag of a post is stored −
published, for posts published inside the window (those never stored by the end count as
missed). Not included: the time a crawl takes to reach a keyword (keywords × ``download_delay``;
the crawls here run without delay) and the open-incident 5-minute polling (no incidents are
grouped here), so for the keyword-search sources this is the lag without that polling.

    .venv/bin/python bench/demo_lag_bench.py [--start 08:00] [--hours 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = date(2025, 6, 14)
STEP = timedelta(minutes=5)
SERVED = {"weibo_search", "weibo_hot", "weibo_web", "baidu_news", "sogou_weixin", "rss", "tieba", "douyin"}
CRAWL = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "YUQING_RETRY_BACKOFF_BASE": 0,
         "LOG_LEVEL": "WARNING", "YUQING_STORE": "1"}


def run(start_hhmm: str = "08:00", hours: float = 4.0, echo=print) -> dict[str, tuple[int, int, float, float]]:
    """source -> (posts published in the window, stored, p50 min, p90 min)."""
    import yaml
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.demo.bundle import load_day
    from app.demo.site import ReplaySite
    from crawlers.freshness import quantile
    from crawlers.testing.batch import BatchJob, run_batch
    from yuqing.db.migrate import upgrade
    from yuqing.db.models import PostRow
    from yuqing.runtime import Runtime
    from yuqing.settings import load_settings
    from yuqing.timeutil import SHANGHAI, as_aware_utc

    base = load_settings(ROOT / "config" / "yuqing.yaml")
    day = load_day(DAY)
    hh, mm = (int(x) for x in start_hhmm.split(":"))
    start = datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=SHANGHAI)
    end = start + timedelta(hours=hours)
    sources = [s for s in base.sources if s.enabled and s.spider in SERVED]
    with tempfile.TemporaryDirectory() as tmp, ReplaySite(day, start) as site:
        data = base.model_dump(mode="json", exclude={"source_path"})
        data.update(database_url=None, data_dir=tmp)
        data["index"] = {**data["index"], "backend": "embedded", "embedded_dir": "index"}
        data["sources"] = [{**s.model_dump(mode="json"), "base_url": site.url,
                            **({"feeds": [site.feed_url]} if s.spider == "rss" else {})} for s in sources]
        config = Path(tmp) / "yuqing.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        rt = Runtime(load_settings(config))
        upgrade(rt.engine)
        at, steps, crawls = start, 0, 0
        while at <= end:
            due = [s for s in sources if int((at - start) / timedelta(minutes=1)) % s.interval_minutes == 0]
            if due:
                site.now = at
                work = Path(tmp) / f"step{steps}"
                jobs = [BatchJob(spider=s.spider, output=str(work / f"{s.name}.jsonl"),
                                 summary_file=str(work / f"{s.name}.summary.json"),
                                 args={"source": s.name, "now": at.isoformat()}, settings=CRAWL,
                                 env={"YUQING_CONFIG": str(config)}) for s in due]
                for summary in run_batch(jobs, work, timeout=600):
                    if summary.status != "ok":
                        echo(f"  {at:%H:%M} {summary.source}: {summary.status} {summary.message}")
                crawls += len(jobs)
                steps += 1
            at += STEP
        published = {p.post_id: p for p in day.posts if start <= p.at <= end - timedelta(minutes=20)}
        lags: dict[str, list[float]] = defaultdict(list)
        with Session(rt.engine) as s:
            for post_id, source, first_seen in s.execute(select(PostRow.id, PostRow.source, PostRow.first_seen_at)):
                post = published.get(post_id)
                if post is not None:
                    lags[source].append(max(0.0, (as_aware_utc(first_seen) - post.at).total_seconds() / 60))
        rt.close()
    echo(f"demo site {DAY} {start:%H:%M}–{end:%H:%M}: {steps} steps, {crawls} crawls")
    by_src = {"weibo": ("weibo_search", "weibo_web"), "news": ("baidu_news",), "wechat": ("sogou_weixin",),
              "rss": ("rss",), "hot": ("weibo_hot",), "tieba": ("tieba",), "douyin": ("douyin",)}
    out = {}
    for s in sources:
        src = next((k for k, v in by_src.items() if s.spider in v), None)
        n = sum(1 for p in published.values() if p.src == src)
        values = lags.get(s.name, [])
        out[s.name] = (n, len(values), quantile(values, 0.5) if values else float("nan"),
                       quantile(values, 0.9) if values else float("nan"))
    return out


def print_demo_lag(start: str = "08:00", hours: float = 4.0) -> None:
    print("\nfreshness on the demo site (real spiders at the default intervals, crawl time and the "
          "open-incident polling not included)")
    figures = run(start, hours)
    print(f"{'source':<14} {'published':>9} {'stored':>7} {'p50 min':>8} {'p90 min':>8}")
    for name, (n, stored, p50, p90) in figures.items():
        print(f"{name:<14} {n:>9} {stored:>7} {p50:>8.1f} {p90:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", default="08:00", help="local time on the demo day")
    parser.add_argument("--hours", type=float, default=4.0)
    opts = parser.parse_args()
    print_demo_lag(opts.start, opts.hours)


if __name__ == "__main__":
    main()
