"""Where an incident is, measured: region accuracy on the labelled crisis posts of
``alerting/data/regions/`` (generated ``posts.jsonl`` and ``handwritten.jsonl``, see its README),
tuning and held-out parts apart, per source and together (``all``: the targets).

    .venv/bin/python bench/region_bench.py            # figures + baselines, one run
    .venv/bin/python bench/region_bench.py --misses tune   # list the tuning part's misses

Each post is read the way the engine reads an incident's members (``alerting.engine.region``:
title/text places, author location, IP属地 from the ``region`` field or "IP属地/发布于" lines) and
its region is taken as a one-post incident's. A region counts only when it is *confident*
(``yuqing.places.CONFIDENT``, 0.5: the routing threshold; below it an incident goes to triage).

* county accuracy: a post whose true county is C is right when the confident region lies in C
  (its county code, 12 digits, equals C; a town/village region counts by its county).
* city accuracy: the same with the city (``code[:4]``; a municipality's districts share 1101…,
  Hainan's 省直辖 counties 4690…).
* null truth (a national commentary naming no place): right when there is no confident region.
  Null posts are counted in both accuracies (they test that nothing is invented).

Baselines of the same run, what a competent user would write with the same gazetteer:
``first``: the first place ``yuqing.places.extract`` finds in title+text (IP lines included), and
``finest``: the first place at the finest level (``alerting.engine.evidence.primary_place``, what
the grouper uses). Both take any place found as confident.
Targets (issue 19, held-out): county ≥ 0.90, city ≥ 0.95.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT / "alerting" / "data" / "regions"
SOURCES = {"generated": DATA_DIR / "posts.jsonl", "handwritten": DATA_DIR / "handwritten.jsonl"}
TARGET = {"county": 0.90, "city": 0.95}


def _obj(post: dict) -> SimpleNamespace:
    known = {"id", "platform", "category", "text", "title", "truth", "variety", "split", "source"}
    return SimpleNamespace(text=post["text"], title=post.get("title"),
                           extra={k: v for k, v in post.items() if k not in known})


def _score(pred_code: str | None, truth: dict | None, level: str) -> bool:
    from yuqing import places

    if truth is None:
        return pred_code is None
    if pred_code is None:
        return False
    if level == "county":
        if truth["county_code"][4:] == "0" * 8:  # a city without counties (东莞市): the city is the answer
            return places.city_of(pred_code) == truth["city_code"]
        return places.county_of(pred_code) == truth["county_code"]
    return places.city_of(pred_code) == truth["city_code"]


def predict_resolver(post: dict) -> str | None:
    from alerting.engine.region import locate_posts

    region = locate_posts([_obj(post)])
    return region.code if region is not None and region.confident else None


def predict_first(post: dict) -> str | None:
    from yuqing import places

    found = places.extract(f"{post.get('title') or ''}\n{post['text']}")
    return places.code_of(found[0]) if found else None


def predict_finest(post: dict) -> str | None:
    from alerting.engine.evidence import primary_place
    from yuqing import places

    found = primary_place(places.extract(f"{post.get('title') or ''}\n{post['text']}"))
    return places.code_of(found) if found else None


METHODS = {"resolver": predict_resolver, "first": predict_first, "finest": predict_finest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", choices=["tune"], help="print the misses of the tuning part (never held-out)")
    args = parser.parse_args()
    posts = []
    for source, path in SOURCES.items():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                posts.append({**json.loads(line), "source": source})
    started = time.perf_counter()
    table: dict[str, dict[str, dict[str, float]]] = {}
    parts = {f"{src}/{split}": [p for p in posts if p["source"] == src and p["split"] == split]
             for src in SOURCES for split in ("tune", "heldout")}
    parts["all/tune"] = [p for p in posts if p["split"] == "tune"]
    parts["all/heldout"] = [p for p in posts if p["split"] == "heldout"]
    for name, fn in METHODS.items():
        cache = {p["id"]: fn(p) for p in posts}
        for split, part in parts.items():
            preds = [cache[p["id"]] for p in part]
            preds = [fn(p) for p in part]
            county = sum(_score(c, p["truth"], "county") for c, p in zip(preds, part, strict=True)) / len(part)
            city = sum(_score(c, p["truth"], "city") for c, p in zip(preds, part, strict=True)) / len(part)
            table.setdefault(name, {})[split] = {"n": len(part), "county": county, "city": city}
            if name == "resolver" and split.endswith("/tune") and not split.startswith("all") and args.misses:
                for c, p in zip(preds, part, strict=True):
                    if not _score(c, p["truth"], "county"):
                        truth = p["truth"]["county_name"] if p["truth"] else None
                        print(f"MISS {p['id']} truth={truth} pred={c} {p['variety']}\n   {p.get('title') or ''}"
                              f"|{p['text']}|{ {k: v for k, v in p.items() if k == 'region'} }")
    elapsed = time.perf_counter() - started
    print(f"region accuracy on {len(posts)} labelled crisis posts ({DATA_DIR.relative_to(ROOT)}/*.jsonl)")
    print(f"{'method':<10}{'part':<22}{'n':>5}{'county':>9}{'city':>8}")
    for name, rows in table.items():
        for split, row in rows.items():
            print(f"{name:<10}{split:<22}{row['n']:>5}{row['county']:>9.3f}{row['city']:>8.3f}")
    held = table["resolver"]["all/heldout"]
    ok = held["county"] >= TARGET["county"] and held["city"] >= TARGET["city"]
    print(f"target (held-out) county ≥ {TARGET['county']}, city ≥ {TARGET['city']}: {'met' if ok else 'NOT met'}"
          f"  [{elapsed:.1f} s for {len(METHODS)} methods]")


if __name__ == "__main__":
    main()
