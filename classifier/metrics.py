"""Evaluation figures: per-class P/R/F1, macro-F1, confusion matrix, severity accuracy."""

from __future__ import annotations

from collections.abc import Sequence

from classifier.corpus import LABELS, NONE_INDEX


def evaluate_predictions(gold_cat: Sequence[int], pred_cat: Sequence[int],
                         gold_sev: Sequence[int], pred_sev: Sequence[int]) -> dict:
    n = len(LABELS)
    confusion = [[0] * n for _ in range(n)]
    for g, p in zip(gold_cat, pred_cat, strict=True):
        confusion[g][p] += 1
    per_class = {}
    for i, name in enumerate(LABELS):
        tp = confusion[i][i]
        fp = sum(confusion[r][i] for r in range(n)) - tp
        fn = sum(confusion[i]) - tp
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_class[name] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                           "support": tp + fn}
    present = [c for c in per_class.values() if c["support"]]
    macro = sum(c["f1"] for c in present) / len(present) if present else 0.0
    crisis = [i for i, g in enumerate(gold_cat) if g != NONE_INDEX]
    exact = sum(gold_sev[i] == pred_sev[i] for i in crisis)
    within = sum(abs(gold_sev[i] - pred_sev[i]) <= 1 for i in crisis)
    total = len(gold_cat)
    # crisis vs none: what pages a person (any crisis category) against what does not
    called = [i for i, p in enumerate(pred_cat) if p != NONE_INDEX]
    hit = sum(1 for i in called if gold_cat[i] != NONE_INDEX)
    gold_none = total - len(crisis)
    false_alarm = len(called) - hit
    return {
        "crisis_precision": round(hit / len(called), 4) if called else 0.0,
        "crisis_recall": round(hit / len(crisis), 4) if crisis else 0.0,
        "none_called_crisis": round(false_alarm / gold_none, 4) if gold_none else 0.0,
        "n": total,
        "accuracy": round(sum(g == p for g, p in zip(gold_cat, pred_cat, strict=True)) / total, 4) if total else 0.0,
        "macro_f1": round(macro, 4),
        "per_class": per_class,
        "labels": list(LABELS),
        "confusion": confusion,  # rows gold, columns predicted
        "severity_crisis_n": len(crisis),
        "severity_exact": round(exact / len(crisis), 4) if crisis else 0.0,
        "severity_within_one": round(within / len(crisis), 4) if crisis else 0.0,
        "severity_exact_all": round(sum(g == p for g, p in zip(gold_sev, pred_sev, strict=True)) / total, 4)
        if total else 0.0,
    }
