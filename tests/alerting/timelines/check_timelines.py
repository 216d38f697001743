"""Validates every tl_*.jsonl timeline in this folder against its tl_*.events.json and prints totals.

Guarantees checked: required post fields and types, ids unique across all timelines, fetched_at >=
published_at, lines sorted by time, category/severity consistent (0 iff none), every post's event
listed in the events file, every listed event with >= 6 posts, repost_of naming an earlier post of the
same timeline, actions well formed and naming an earlier post.  Exit status 1 if anything fails.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLATFORMS = {"weibo", "wechat", "news", "douyin", "toutiao", "tieba", "bilibili", "zhihu", "kuaishou",
             "xiaohongshu", "rss", "web"}
CATEGORIES = {"policy", "rights", "image", "work", "emergency", "none"}
ACTIONS = {"ack", "advance", "respond", "dismiss", "close"}
REQUIRED = {"id": str, "platform": str, "url": str, "author": str, "author_verified": bool,
            "author_followers": int, "text": str, "published_at": str, "fetched_at": str, "reposts": int,
            "comments": int, "likes": int, "category": str, "severity": int}


def check_file(path: Path, seen_ids: set[str], errors: list[str]) -> dict:
    where = path.name
    ev_path = path.with_name(path.name.replace(".jsonl", ".events.json"))
    events = {e["id"]: e for e in json.loads(ev_path.read_text(encoding="utf-8"))["events"]}
    counts: Counter = Counter()
    per_event: Counter = Counter()
    ids: set[str] = set()
    last: datetime | None = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        def err(msg: str, n: int = n) -> None:
            errors.append(f"{where}:{n}: {msg}")
        obj = json.loads(raw)
        if "action" in obj:
            counts["actions"] += 1
            if obj["action"] not in ACTIONS:
                err(f"unknown action {obj['action']!r}")
            if obj.get("post_id") not in ids:
                err("action post_id is not an earlier post")
            t = datetime.fromisoformat(obj["at"])
        else:
            counts["posts"] += 1
            for field, typ in REQUIRED.items():
                if not isinstance(obj.get(field), typ) or (typ is int and isinstance(obj.get(field), bool)):
                    err(f"field {field} missing or not {typ.__name__}")
            if "event" not in obj:
                err("field event missing")
            pid = obj.get("id")
            if pid in seen_ids:
                err(f"duplicate id {pid}")
            seen_ids.add(pid)
            ids.add(pid)
            if obj.get("platform") not in PLATFORMS:
                err(f"bad platform {obj.get('platform')!r}")
            if not str(obj.get("url", "")).startswith(("http://", "https://")):
                err("url is not http(s)")
            if not 20 <= len(obj.get("text", "")) <= 600:
                err(f"text length {len(obj.get('text', ''))} outside 20..600")
            pub = datetime.fromisoformat(obj["published_at"])
            t = datetime.fromisoformat(obj["fetched_at"])
            if t < pub:
                err("fetched_at before published_at")
            if t - pub > (pub - pub).__class__(hours=1):
                counts["late"] += 1
            cat, sev = obj.get("category"), obj.get("severity")
            if cat not in CATEGORIES or not isinstance(sev, int) or not 0 <= sev <= 4:
                err(f"bad category/severity {cat}/{sev}")
            elif (cat == "none") != (sev == 0):
                err(f"severity {sev} inconsistent with category {cat}")
            ev = obj.get("event")
            if ev is None:
                counts["null_event"] += 1
                if cat == "none":
                    counts["none"] += 1
            elif ev not in events:
                err(f"event {ev} not in {ev_path.name}")
            else:
                per_event[ev] += 1
            if "repost_of" in obj:
                counts["reposts"] += 1
                if obj["repost_of"] not in ids - {pid}:
                    err("repost_of is not an earlier post")
        if last is not None and t < last:
            err("not sorted by time")
        last = t
    for eid in events:
        if per_event[eid] < 6:
            errors.append(f"{ev_path.name}: event {eid} has {per_event[eid]} posts (< 6)")
    counts["events"] = len(events)
    return dict(counts)


def main() -> int:
    seen: set[str] = set()
    errors: list[str] = []
    total: Counter = Counter()
    for path in sorted(HERE.glob("tl_*.jsonl")):
        c = check_file(path, seen, errors)
        total.update(c)
        print(path.name, " ".join(f"{k}={v}" for k, v in sorted(c.items())))
    print("TOTAL", " ".join(f"{k}={v}" for k, v in sorted(total.items())))
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
