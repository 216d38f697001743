"""The fitted "same event" model and the inverted index that finds its candidates (no I/O but the
weights file).

``probability(x)``: logistic regression over ``evidence.FEATURES`` with the weights in
``alerting/data/grouping_model.json`` (fit by ``bench/fit_grouping.py`` on the tuning timelines
only; the file records how). ``decide`` applies the model and two hard rules:

* a post whose places conflict with an incident's (two different counties, a county outside the
  incident's city…) never joins it (reposts and near-duplicates are decided before the model);
* a dismissed incident attracts a post that names places only when one of them is compatible
  with the incident's places.

The best candidate at or above the fitted threshold wins; none ⇒ the post opens an incident.

``TermIndex`` maps index keys (salient terms ``t:…``, place codes ``p:…`` with their parents) to
incident ids, so a post is scored only against the ``MAX_CANDIDATES`` incidents sharing the most
IDF weight with it, whatever the number of open incidents.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from alerting.engine import idf as idf_table
from alerting.engine.evidence import (
    FEATURES,
    IncidentState,
    PostEvidence,
    dominant_places,
    pair_features,
    place_relation,
)
from yuqing.places import RANK, contains

WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "grouping_model.json"
MAX_CANDIDATES = 25
MAX_POSTING = 200  # a key shared by more open incidents than this says too little to rank candidates by
PLACE_KEY_WEIGHT = 4.0  # a shared place counts as much as a rare word in the candidate ranking


@lru_cache(maxsize=1)
def model() -> dict[str, Any]:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    if list(data["features"]) != list(FEATURES):
        raise ValueError(f"{WEIGHTS}: features {data['features']} ≠ {list(FEATURES)} (refit the model)")
    return data


def join_threshold(post: PostEvidence, threshold: float | None = None) -> float:
    """The probability a post needs to join its best candidate: the fitted ``threshold`` (or the
    one given), or the lower ``placeless_first_person_threshold`` for a first-person account that
    names no place (an eyewitness or a parent before anyone names the place: few words in common
    with the event's other posts, and no place that could contradict it)."""
    m = model()
    limit = float(m["threshold"]) if threshold is None else float(threshold)
    low = m.get("placeless_first_person_threshold")
    if low is not None and post.first_person and not post.places:
        return min(limit, float(low))
    return limit


def probability(x: list[float]) -> float:
    m = model()
    z = float(m["bias"]) + sum(w * v for w, v in zip(m["weights"], x, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class Candidate:
    key: Any  # incident id (or a cluster id in the fitting script)
    state: IncidentState
    category: str
    last_post_at: datetime | None
    dismissed: bool = False


def allowed(post: PostEvidence, cand: Candidate) -> bool:
    depth, conflict = place_relation(post.places, list(cand.state.place_objs.values()),
                                     dominant_places(cand.state))
    if conflict:
        return False
    return not (cand.dismissed and post.places and cand.state.places and depth == 0)


def ranked(post: PostEvidence, cands: list[Candidate]) -> list[tuple[Any, float]]:
    """The allowed candidates with their probability, best first (ties: lower key first)."""
    out = [(cand.key, probability(pair_features(post, cand.state, cand.category, cand.last_post_at)))
           for cand in cands if allowed(post, cand)]
    out.sort(key=lambda kp: (-kp[1], str(kp[0])))
    return out


def decide(post: PostEvidence, cands: list[Candidate], threshold: float | None = None) -> tuple[Any, float] | None:
    """The best allowed candidate at or above the threshold: (key, probability), else None."""
    limit = float(model()["threshold"]) if threshold is None else threshold
    best = ranked(post, cands)
    if not best or best[0][1] < limit:
        return None
    return best[0]


def mergeable(a: IncidentState, b: IncidentState) -> bool:
    """Two incidents may be one event when their dominant places do not conflict (either way) and,
    where both name counties (or finer), at least one pair of those is compatible: a city-level
    incident never chains two incidents of different counties together."""
    da, db = dominant_places(a), dominant_places(b)
    _, ab = place_relation(da, db, db)
    _, ba = place_relation(db, da, da)
    if ab or ba:
        return False
    fine_a = [p for p in a.place_objs.values() if RANK[p.level] >= RANK["county"]]
    fine_b = [p for p in b.place_objs.values() if RANK[p.level] >= RANK["county"]]
    if fine_a and fine_b:
        return any(contains(x, y) or contains(y, x) for x in fine_a for y in fine_b)
    return True


def post_keys(post: PostEvidence) -> dict[str, float]:
    """Index keys of a post with their weight for ranking candidates."""
    keys = {f"t:{k}": v * idf_table.idf(k) for k, v in post.terms.items()}
    for p in post.places:
        keys[f"p:{p.code}"] = PLACE_KEY_WEIGHT
    return keys


def incident_keys(state: IncidentState) -> set[str]:
    keys = {f"t:{k}" for k in state.centroid}
    for code, place in state.place_objs.items():
        keys.add(f"p:{code}")
        keys.update(f"p:{c}" for c in place.parents)
    return keys


class TermIndex:
    """key → incident ids, and incident id → its keys (to update an incident in place)."""

    def __init__(self) -> None:
        self.postings: dict[str, set[Any]] = {}
        self.keys_of: dict[Any, set[str]] = {}

    def __len__(self) -> int:
        return len(self.keys_of)

    def put(self, key: Any, state: IncidentState) -> None:
        new = incident_keys(state)
        old = self.keys_of.get(key, set())
        for k in old - new:
            ids = self.postings.get(k)
            if ids is not None:
                ids.discard(key)
                if not ids:
                    del self.postings[k]
        for k in new - old:
            self.postings.setdefault(k, set()).add(key)
        self.keys_of[key] = new

    def drop(self, key: Any) -> None:
        for k in self.keys_of.pop(key, set()):
            ids = self.postings.get(k)
            if ids is not None:
                ids.discard(key)
                if not ids:
                    del self.postings[k]

    def lookup(self, post: PostEvidence, limit: int = MAX_CANDIDATES) -> list[Any]:
        """The ``limit`` incidents sharing the most key weight with ``post`` (ties: lower id first)."""
        score: dict[Any, float] = {}
        for k, w in post_keys(post).items():
            ids = self.postings.get(k, ())
            if len(ids) > MAX_POSTING:
                continue
            for key in ids:
                score[key] = score.get(key, 0.0) + w
        ranked = sorted(score.items(), key=lambda kv: (-kv[1], str(kv[0])))
        return [k for k, _ in ranked[:limit]]
