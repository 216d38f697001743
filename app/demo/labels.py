"""The demo's fallback classifier: the labels written with the bundled day, looked up by post id.

Used only when the fine-tuned classifier is not available (or when asked for); the demo says
so in its summary. Same interface as ``classifier.api.Classifier`` minus ``embed`` (incident
grouping then uses text features only).
"""

from __future__ import annotations

from yuqing.domain import Category, Classification, Post, Severity


class GivenLabels:
    version = "demo-labels"

    def __init__(self, labels: dict[str, tuple[str, int]]) -> None:
        self.labels = labels
        self.unknown: list[str] = []  # ids crawled that the bundled day does not know

    def embed(self, texts: list[str]) -> None:
        """Given labels carry no sentence embeddings: grouping uses the text features alone."""
        return None

    def classify(self, posts: list[Post]) -> list[Classification]:
        out = []
        for post in posts:
            category, severity = self.labels.get(post.id, ("none", 0))
            if post.id not in self.labels:
                self.unknown.append(post.id)
            scores = {c.value: (1.0 if c.value == category else 0.0) for c in Category}
            out.append(Classification(category=Category(category), severity=Severity(severity),
                                      category_scores=scores, model_version=self.version))
        return out
