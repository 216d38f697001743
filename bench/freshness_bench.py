"""Detection lag (publication → stored) per source on a replayed stream, at the default settings.

The stream: for every enabled source of config/yuqing.yaml, posts published at random times
(Poisson, fixed seed) over REPLAY_HOURS; for keyword-search sources a share of them are about
an open incident. Each source is polled every `interval_minutes` of the default config; a poll
searches each crawl keyword once (time-sorted search, one page at steady state thanks to the
incremental stop) at the source's `download_delay`, so it ends keywords × delay seconds after it
starts, and stores what was published before it. Open incidents' keywords are also polled every
`crawl.open_incident_interval_minutes` (default 5). The posts go into a real SQLite database
with the time they would have been stored, and the figures are read back with
`crawlers.freshness.lag_by_source` — the same query 管理 → 数据源 uses.

What this does not measure: the site's own indexing delay, bans and back-off, page caps.

    .venv/bin/python bench/freshness_bench.py [--hours 12] [--rate 10] [--incident-share 0.3]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawlers.freshness import (  # noqa: E402,I001
    DEFAULT_OPEN_INCIDENT_INTERVAL_MINUTES, is_keyword_search, lag_by_source, merge_schedules, poll_lags)

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
TARGET_P50 = 10.0
HOT_KEYWORDS = 3  # words of the open incidents searched on the fast schedule


def replay(hours: float, rate_per_hour: float, incident_share: float, seed: int = 7,
           open_incident_polling: bool = True) -> list[tuple[str, float, float, int]]:
    """(source, p50, p90, posts) per enabled source of the default configuration."""
    from sqlalchemy.orm import Session

    from yuqing.db.migrate import upgrade
    from yuqing.domain import Post
    from yuqing.query.scheme import crawl_keywords
    from yuqing.runtime import Runtime
    from yuqing.settings import Settings, load_settings
    from yuqing.store import store_posts

    config = load_settings(ROOT / "config" / "yuqing.yaml")
    words = len(crawl_keywords(config.keyword_schemes))
    fast = timedelta(minutes=DEFAULT_OPEN_INCIDENT_INTERVAL_MINUTES)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(Settings(data_dir=f"{tmp}/var"))
        upgrade(rt.engine)
        for source in config.sources:
            if not source.enabled:
                continue
            published: list[datetime] = []
            at = START
            while True:
                at += timedelta(hours=rng.expovariate(rate_per_hour))
                if at >= START + timedelta(hours=hours):
                    break
                published.append(at)
            n_words = len(source.keywords) or words
            searches = n_words if is_keyword_search(source.spider) else 1
            crawl_seconds = searches * float(source.download_delay or 0)
            interval = timedelta(minutes=source.interval_minutes)
            hot = [rng.random() < incident_share for _ in published] if is_keyword_search(source.spider) else \
                [False] * len(published)
            regular = poll_lags(published, START, interval, crawl_seconds)
            if open_incident_polling:
                both = merge_schedules(published, START, [(interval, crawl_seconds),
                                                          (fast, HOT_KEYWORDS * float(source.download_delay or 0))])
                lags = [b if h else r for r, b, h in zip(regular, both, hot, strict=True)]
            else:
                lags = regular
            with Session(rt.engine) as session, session.begin():
                for n, (pub, lag) in enumerate(zip(published, lags, strict=True)):
                    post = Post(id=f"{source.name}:{n}", platform="web", text=f"{source.name} {n}", published_at=pub)
                    store_posts(session, [post], pub + timedelta(minutes=lag), source=source.name)
        with Session(rt.engine) as session:
            figures = [(lag.source, lag.p50_minutes, lag.p90_minutes, lag.posts) for lag in lag_by_source(session)]
        rt.close()
    return figures


def print_lag_report(hours: float = 12, rate: float = 10, incident_share: float = 0.3) -> None:
    print(f"\nfreshness: detection lag (publication → stored), replayed stream of {hours:g} h, ~{rate:g} posts/h per "
          f"source, {incident_share:.0%} of keyword-search posts about an open incident; default config/yuqing.yaml "
          f"(interval_minutes, download_delay), open-incident keywords every {DEFAULT_OPEN_INCIDENT_INTERVAL_MINUTES} min")
    with_fast = replay(hours, rate, incident_share)
    without = {s: (p50, p90) for s, p50, p90, _n in replay(hours, rate, incident_share, open_incident_polling=False)}
    print(f"{'source':<14} {'posts':>6} {'p50 min':>8} {'p90 min':>8}   {'without 5-min polling: p50 / p90':>34}  "
          f"target p50 ≤ {TARGET_P50:g}")
    for source, p50, p90, n in with_fast:
        old = without.get(source, (float("nan"), float("nan")))
        ok = "ok" if p50 <= TARGET_P50 else "MISSED"
        print(f"{source:<14} {n:>6} {p50:>8.1f} {p90:>8.1f}   {old[0]:>20.1f} / {old[1]:<11.1f}  {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--rate", type=float, default=10, help="posts per hour per source")
    parser.add_argument("--incident-share", type=float, default=0.3)
    opts = parser.parse_args()
    print_lag_report(opts.hours, opts.rate, opts.incident_share)


if __name__ == "__main__":
    main()
