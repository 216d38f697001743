"""Probe: do sentence embeddings or "most recent incident of the category" help the grouping model?

    .venv/bin/python bench/grouping_probe.py            # text features only (today's model)
    .venv/bin/python bench/grouping_probe.py emb        # + full 12-layer e5 cosines (post vs incident)
    .venv/bin/python bench/grouping_probe.py ctx        # + recency context (most recent same-category incident)
    .venv/bin/python bench/grouping_probe.py emb ctx

A measurement, not the engine: it refits the logistic model of ``bench/fit_grouping.py`` in memory
on the TUNING timelines with the extra features, chooses join/merge thresholds on TUNING exactly as
the fitting script does (best pair F1 with pair precision >= 0.96), then prints the same figures on
the HELD-OUT timelines (read for measuring only; nothing is chosen on them). ``emb``: the converted
base encoder (all 12 layers of e5-small, ``query: `` prefix, max 128 tokens, mean-pooled, cached
in ``var/grouping_probe_emb.npz``; needs ``yuqing model prepare``), features: cosine with the
incident's mean embedding and the best cosine with its last six members, rescaled (c - 0.8) / 0.2.
``ctx``: the three incidents of the post's category active in the last 12 hours are added to the
candidates, with features "is the most recent", the same for a post naming no place, for a post
with fewer than 8 salient terms, and that shortness itself. Nothing here is written to the model file.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.argv.append("--allow-held-out")  # measuring only: thresholds are chosen on TUNING

import fit_grouping as fg  # noqa: E402

from alerting.engine import evidence  # noqa: E402
from alerting.engine.evidence import IncidentState, pair_features  # noqa: E402
from alerting.engine.group_eval import Scores, read_gold, score  # noqa: E402

USE_EMB = "emb" in sys.argv
USE_CTX = "ctx" in sys.argv
RECENT_K = 3
RECENT_H = 12
CACHE = ROOT / "var" / "grouping_probe_emb.npz"


def embeddings() -> dict[str, np.ndarray]:
    """Post id -> embedding of every crisis post of the 12 timelines (computed once, cached)."""
    if CACHE.exists():
        z = np.load(CACHE)
        return dict(zip(z["ids"], z["E"], strict=True))
    import torch

    from alerting.engine.features import clean
    from classifier.base import base_path, embed_texts, load_base
    from yuqing.settings import load_settings

    torch.set_num_threads(2)
    base = load_base(base_path(load_settings()))
    ids, texts = [], []
    for f in sorted(fg.TIMELINES.glob("tl_*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            o = json.loads(line)
            if "action" in o or o.get("category") in (None, "none"):
                continue
            ids.append(o["id"])
            texts.append(clean(f"{o['title']}\n{o['text']}" if o.get("title") else o["text"]))
    began = time.perf_counter()
    emb = embed_texts(base, texts, max_length=128)
    print(
        f"embedded {len(texts)} posts with {base.model.config.num_hidden_layers} layers "
        f"in {time.perf_counter() - began:.1f} s"
    )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, ids=np.array(ids), E=emb)
    return dict(zip(ids, emb, strict=True))


EMB = embeddings() if USE_EMB else {}


orig_add = IncidentState.add


def add(self, post):
    orig_add(self, post)
    e = getattr(post, "emb", None)
    if e is not None:
        self.__dict__["esum"] = self.__dict__.get("esum", 0) + e
        self.__dict__["ex"] = (self.__dict__.get("ex", []) + [e])[-6:]


IncidentState.add = add


def features(post, state, cat, last, rank):
    x = pair_features(post, state, cat, last)
    if USE_EMB:
        e = getattr(post, "emb", None)
        s = state.__dict__.get("esum")
        if e is None or s is None:
            x += [0.0, 0.0]
        else:
            x += [
                (float(e @ (s / np.linalg.norm(s))) - 0.8) / 0.2,
                (max(float(e @ v) for v in state.__dict__["ex"]) - 0.8) / 0.2,
            ]
    if USE_CTX:
        weak = 1.0 if len(post.terms) < 8 else 0.0  # rank 1: the most recent same-category incident
        x += [float(rank == 1), float(rank == 1 and not post.places), float(rank == 1) * weak, weak]
    return x


NAMES = (
    list(evidence.FEATURES)
    + (["emb_c", "emb_x"] if USE_EMB else [])
    + (["recent1", "recent1_noplace", "recent1_weak", "weak"] if USE_CTX else [])
)
M: dict = {}


def prob(x):
    z = M["bias"] + sum(w * v for w, v in zip(M["weights"], x, strict=True))
    return 1 / (1 + math.exp(-max(-30, min(30, z))))


def ev_of(items):
    out = fg.evidence_of(items)
    if USE_EMB:
        for i in items:
            if i.action is None:
                out[i.id].emb = EMB[i.id]
    return out


def cand_ids(index, post, states, last, cats, at, dismissed=()):
    ids = list(index.lookup(post))
    ranks = {}
    if USE_CTX:
        same = sorted(
            (
                k
                for k in states
                if cats[k] == post.category and (at - last[k]).total_seconds() <= RECENT_H * 3600
            ),
            key=lambda k: last[k],
            reverse=True,
        )
        same = [k for k in same if k not in dismissed]
        for r, k in enumerate(same[:RECENT_K], 1):
            ranks[k] = r
            if k not in ids:
                ids.append(k)
    return ids, ranks


EXT = fg.Extension(candidates=cand_ids, features=features, probability=prob)


def pairs(items, ev):
    return fg.pairs(items, ev, EXT)


def simulate(items, ev, threshold, merge, record=None):
    return fg.simulate(items, ev, threshold, merge, record=record, ext=EXT)


def main() -> None:
    data = {n: fg.read_items(n) for n in fg.TUNING + fg.HELD_OUT}
    ev = {n: ev_of(it) for n, it in data.items()}
    xs: list = []
    ys: list = []
    for n in fg.TUNING:
        x, y = pairs(data[n], ev[n])
        xs += x
        ys += y
    w, b = fg.fit(np.array(xs), np.array(ys, float))
    M.update(weights=list(w), bias=b)
    seen: list = []
    for n in fg.TUNING:  # second round, as bench/fit_grouping.py: the pairs the model meets in its own grouping
        simulate(data[n], ev[n], 0.5, 0.6, record=seen)
    xs += [a for a, _ in seen]
    ys += [c for _, c in seen]
    w, b = fg.fit(np.array(xs), np.array(ys, float))
    M.update(weights=list(w), bias=b)
    extra = len(NAMES) - len(evidence.FEATURES)
    for f, v in zip(NAMES[len(NAMES) - extra :], w[len(NAMES) - extra :], strict=True):
        print(f"  weight {f:16s}{v:+.2f}")

    def tot(names, t, m):
        s = Scores()
        for n in names:
            s = s + score(read_gold(fg.TIMELINES / f"{n}.jsonl"), simulate(data[n], ev[n], t, m))
        return s

    best = fg.best_thresholds(lambda t, m: tot(fg.TUNING, t, m), log=False)
    if best is None:
        raise SystemExit(f"no threshold reaches pair precision {fg.MIN_PRECISION} on TUNING")
    label = "+".join(a for a in ("emb", "ctx") if a in sys.argv) or "text"
    print(f"{label:8s} chosen on TUNING: join {best[0]} merge {best[1]}")
    print(f"{label:8s} TUNING   {best[3].line()}")
    print(f"{label:8s} HELD-OUT {tot(fg.HELD_OUT, best[0], best[1]).line()}")


if __name__ == "__main__":
    main()
