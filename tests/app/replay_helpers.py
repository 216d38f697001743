"""Shared helpers for the scenario tests (run a scenario once per module, read its outputs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.replay import replay
from tests.conftest import write_config
from yuqing.settings import load_settings
from yuqing.timeutil import parse_datetime

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@dataclass
class Replayed:
    notes: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    posts: list[dict[str, Any]]
    errors: list[str]

    def of(self, post_id: str) -> dict[str, Any]:
        return next(i for i in self.incidents if post_id in i["post_ids"])

    def kinds(self, incident_id: int, kind: str, clock_only: bool = True) -> list[dict[str, Any]]:
        out = [n for n in self.notes if n["incident_id"] == incident_id and n["kind"] == kind]
        if clock_only and kind == "reminder":
            out = [n for n in out if "清单逾期" not in n["text"]]
        return out


def run_scenario(name: str, tmp: Path, tail: str = "24h") -> Replayed:
    from app.replay import parse_duration

    settings = load_settings(write_config(tmp))
    out, inc = tmp / "out.jsonl", tmp / "inc.jsonl"
    report = replay(SCENARIOS / name, out, inc, tail=parse_duration(tail), settings=settings)
    read = lambda p: [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]  # noqa: E731
    posts = [p for p in read(SCENARIOS / name) if "action" not in p]
    return Replayed(read(out), read(inc), posts, report.errors)


def at(value: str):  # type: ignore[no-untyped-def]
    return parse_datetime(value)


def pairwise_grouping(posts: list[dict[str, Any]], incidents: list[dict[str, Any]]) -> tuple[float, float]:
    """Pairwise precision and recall of the grouping against the gold ``event`` of each crisis post."""
    gold = {p["id"]: p["event"] for p in posts if p.get("event")}
    found = {pid: i["id"] for i in incidents for pid in i["post_ids"]}
    ids = sorted(gold)
    tp = fp = fn = 0
    for n, a in enumerate(ids):
        for b in ids[n + 1:]:
            same_gold = gold[a] == gold[b]
            same_found = a in found and found.get(a) == found.get(b)
            tp += same_gold and same_found
            fp += same_found and not same_gold
            fn += same_gold and not same_found
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall
