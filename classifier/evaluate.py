"""Evaluate a classifier on labelled posts and render the figures in Chinese."""

from __future__ import annotations

from classifier.corpus import CATEGORY_INDEX, LABELS, Example
from classifier.metrics import evaluate_predictions
from yuqing.domain import Category


def evaluate_examples(clf, examples: list[Example], batch: int = 256) -> dict:
    preds = []
    for s in range(0, len(examples), batch):
        preds += clf.classify([e.post for e in examples[s:s + batch]])
    return evaluate_predictions([e.category for e in examples], [CATEGORY_INDEX[p.category.value] for p in preds],
                                [e.severity for e in examples], [int(p.severity) for p in preds])


def render(m: dict) -> str:
    zh = {c.value: c.zh for c in Category}
    lines = [f"样本数 {m['n']}，准确率 {m['accuracy']:.4f}，macro-F1 {m['macro_f1']:.4f}", "",
             f"{'类别':<12}{'精确率':>8}{'召回率':>8}{'F1':>8}{'样本':>6}"]
    for name in LABELS:
        c = m["per_class"][name]
        lines.append(f"{name + ' ' + zh[name]:<14}{c['precision']:>8.3f}{c['recall']:>8.3f}{c['f1']:>8.3f}{c['support']:>6}")
    lines += ["", "混淆矩阵（行：标注，列：预测）", " " * 11 + "".join(f"{n[:6]:>10}" for n in LABELS)]
    for name, row in zip(LABELS, m["confusion"], strict=True):
        lines.append(f"{name:<11}" + "".join(f"{v:>10}" for v in row))
    lines += ["", f"危机与非危机：危机精确率 {m['crisis_precision']:.4f}，危机召回率 {m['crisis_recall']:.4f}，"
                  f"非危机被判为危机 {m['none_called_crisis']:.4f}",
              f"危机帖子 {m['severity_crisis_n']} 条：等级完全一致 {m['severity_exact']:.4f}，"
              f"相差不超过一级 {m['severity_within_one']:.4f}"]
    return "\n".join(lines)
