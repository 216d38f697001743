"""Scoring an incident grouping against gold events: pair and B-cubed precision/recall (pure).

Only crisis posts count (those the engine groups: category not ``none``, severity > 0). A post whose
gold event is null (a comment on two events) is its own gold singleton. ``gold`` and ``pred`` map
post id → cluster id; a post missing from ``pred`` is a predicted singleton.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Scores:
    pair_tp: int = 0
    pair_pred: int = 0
    pair_gold: int = 0
    b3_p: float = 0.0  # sums over posts (divide by n)
    b3_r: float = 0.0
    n: int = 0

    def __add__(self, other: Scores) -> Scores:
        return Scores(self.pair_tp + other.pair_tp, self.pair_pred + other.pair_pred,
                      self.pair_gold + other.pair_gold, self.b3_p + other.b3_p, self.b3_r + other.b3_r,
                      self.n + other.n)

    @property
    def pair_precision(self) -> float:
        return self.pair_tp / self.pair_pred if self.pair_pred else 1.0

    @property
    def pair_recall(self) -> float:
        return self.pair_tp / self.pair_gold if self.pair_gold else 1.0

    @property
    def b3_precision(self) -> float:
        return self.b3_p / self.n if self.n else 1.0

    @property
    def b3_recall(self) -> float:
        return self.b3_r / self.n if self.n else 1.0

    @property
    def b3_f1(self) -> float:
        p, r = self.b3_precision, self.b3_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        return (f"pair P {self.pair_precision:.3f} R {self.pair_recall:.3f} | B3 P {self.b3_precision:.3f} "
                f"R {self.b3_recall:.3f} F1 {self.b3_f1:.3f} | posts {self.n}")


def read_gold(timeline: Path) -> dict[str, str]:
    """post id → gold cluster for the crisis posts of a timeline (null events: singletons)."""
    gold: dict[str, str] = {}
    for line in timeline.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if "action" in obj or obj.get("category") in (None, "none") or not obj.get("severity"):
            continue
        gold[obj["id"]] = obj.get("event") or f"single:{obj['id']}"
    return gold


def score(gold: dict[str, str], pred: dict[str, str]) -> Scores:
    ids = sorted(gold)
    pred_of = {i: pred.get(i, f"alone:{i}") for i in ids}
    g_members: dict[str, set[str]] = defaultdict(set)
    p_members: dict[str, set[str]] = defaultdict(set)
    for i in ids:
        g_members[gold[i]].add(i)
        p_members[pred_of[i]].add(i)
    out = Scores(n=len(ids))
    for i in ids:
        g, p = g_members[gold[i]], p_members[pred_of[i]]
        both = len(g & p)
        out.b3_p += both / len(p)
        out.b3_r += both / len(g)
    for members in p_members.values():
        out.pair_pred += len(members) * (len(members) - 1) // 2
        for a in members:
            out.pair_tp += sum(1 for b in members if a < b and gold[a] == gold[b])
    for members in g_members.values():
        out.pair_gold += len(members) * (len(members) - 1) // 2
    return out


def pred_from_incidents(path: Path) -> dict[str, str]:
    """post id → incident id from a replay's incidents file (the contract's INC lines)."""
    pred: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            for pid in obj.get("post_ids") or []:
                pred[pid] = str(obj["id"])
    return pred
