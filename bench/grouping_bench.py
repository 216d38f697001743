"""Incident grouping measured: timelines replayed through the real engine (``app.replay.replay``).

    .venv/bin/python bench/grouping_bench.py                 # all 12 timelines, model and legacy
    .venv/bin/python bench/grouping_bench.py --jobs 2 --groupers model --timelines tl_05 tl_06
    .venv/bin/python bench/grouping_bench.py --simulate      # the fitting script's in-memory grouping (seconds)

For every timeline and grouper (``engine.params.grouping``: ``model``, the default, and
``legacy``, the hand-tuned score it replaces, as the baseline of the same run) it prints pair
precision/recall and B-cubed precision/recall/F1 of the incidents the replay wrote, then the totals
of the TUNING timelines (tl_01–04, tl_07–10: the model was fit on these) and of the HELD-OUT ones
(tl_05, tl_06, tl_11, tl_12: never used for fitting or choosing anything). Only crisis posts are
scored; a post whose gold event is null is its own singleton (``alerting.engine.group_eval``).
``--jobs N`` replays N timelines at once in separate processes (each replay is single-threaded).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TIMELINES = ROOT / "tests" / "alerting" / "timelines"
TUNING = ("tl_01", "tl_02", "tl_03", "tl_04", "tl_07", "tl_08", "tl_09", "tl_10")
HELD_OUT = ("tl_05", "tl_06", "tl_11", "tl_12")
TARGET = {"pair_precision": 0.98, "pair_recall": 0.95}


def settings_for(grouper: str):  # type: ignore[no-untyped-def]
    from yuqing.settings import Settings, load_settings

    base = load_settings()
    data = base.model_dump(exclude={"source_path"})
    data["engine"] = {**data["engine"], "params": {**(data["engine"].get("params") or {}), "grouping": grouper}}
    settings = Settings.model_validate(data)
    settings.source_path = base.source_path
    return settings


def replay_one(args: tuple[str, str]) -> tuple[str, str, dict, float]:
    """(timeline, grouper, scores as a dict, seconds): one replay in a throw-away directory."""
    from alerting.engine.group_eval import pred_from_incidents, read_gold, score
    from app.replay import replay

    name, grouper = args
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="yuqing-gbench-") as tmp:
        inc = Path(tmp) / "incidents.jsonl"
        replay(TIMELINES / f"{name}.jsonl", Path(tmp) / "notify.jsonl", inc, settings=settings_for(grouper),
               tail=timedelta(hours=1))
        result = score(read_gold(TIMELINES / f"{name}.jsonl"), pred_from_incidents(inc))
    return name, grouper, result.__dict__.copy(), time.perf_counter() - began


def simulate_one(args: tuple[str, str]) -> tuple[str, str, dict, float]:
    sys.path.insert(0, str(ROOT / "bench"))
    import fit_grouping

    from alerting.engine.group_eval import read_gold, score

    name, _grouper = args
    began = time.perf_counter()
    items = fit_grouping.read_items(name) if name in TUNING else _held_out_items(name)
    from alerting.engine import group_model

    pred = fit_grouping.simulate(items, fit_grouping.evidence_of(items), None,
                                 group_model.model().get("merge_threshold"))
    return name, "model-sim", score(read_gold(TIMELINES / f"{name}.jsonl"), pred).__dict__.copy(), \
        time.perf_counter() - began


def _held_out_items(name: str):  # type: ignore[no-untyped-def]
    import fit_grouping

    sys.argv.append("--allow-held-out")  # measuring only: the fitting script never reads these
    try:
        return fit_grouping.read_items(name)
    finally:
        sys.argv.remove("--allow-held-out")


def main() -> None:
    from alerting.engine.group_eval import Scores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timelines", nargs="*", default=[*TUNING, *HELD_OUT])
    parser.add_argument("--groupers", nargs="*", default=["model", "legacy"], choices=["model", "legacy"])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--simulate", action="store_true", help="in-memory grouping only (no engine, no clock)")
    args = parser.parse_args()
    work = [(t, g) for g in (["model"] if args.simulate else args.groupers) for t in args.timelines]
    run = simulate_one if args.simulate else replay_one
    results = []
    by: dict[tuple[str, str], Scores] = {}

    def done(result: tuple[str, str, dict, float]) -> None:
        name, grouper, data, seconds = result
        results.append(result)
        by[(name, grouper)] = Scores(**data)
        print(f"{name} {grouper:9s} {by[(name, grouper)].line()}  ({seconds:.0f} s)", flush=True)

    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(run, w): w for w in work}
            for future in as_completed(futures):
                try:
                    done(future.result())
                except Exception as exc:  # one failed replay: say which, keep the others
                    print(f"{futures[future][0]} {futures[future][1]:9s} FAILED: {exc}", flush=True)
    else:
        for w in work:
            try:
                done(run(w))
            except Exception as exc:
                print(f"{w[0]} {w[1]:9s} FAILED: {exc}", flush=True)
    for grouper in sorted({g for _, g, _, _ in results}):
        for label, names in (("TUNING", TUNING), ("HELD-OUT", HELD_OUT)):
            parts = [by[(n, grouper)] for n in names if (n, grouper) in by]
            if not parts:
                continue
            total = sum(parts, Scores())
            met = ""
            if label == "HELD-OUT":
                ok = total.pair_precision >= TARGET["pair_precision"] and total.pair_recall >= TARGET["pair_recall"]
                met = f"  target P≥{TARGET['pair_precision']} R≥{TARGET['pair_recall']}: {'met' if ok else 'NOT met'}"
            print(f"{label:8s} {grouper:9s} {total.line()} ({len(parts)} timelines){met}")


if __name__ == "__main__":
    main()
