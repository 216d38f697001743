"""The labelled corpus: reading, validation, the deterministic split and the data hash.

Split: ``sha1("yuqing-split:" + id)`` → a bucket 0–99; buckets 0–69 train, 70–84 dev (early
stopping, thresholds, calibration), 85–99 test (never trained or tuned on; only reported).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from yuqing.domain import Category, Post
from yuqing.validation import LineError, post_from_obj

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
CATEGORY_INDEX = {c.value: i for i, c in enumerate(Category)}
LABELS = [c.value for c in Category]  # policy rights image work emergency none
NONE_INDEX = CATEGORY_INDEX["none"]


@dataclass
class Example:
    post: Post
    category: int  # index into LABELS
    severity: int  # 0-4

    @property
    def is_crisis(self) -> bool:
        return self.category != NONE_INDEX


def split_of(post_id: str) -> str:
    bucket = int(hashlib.sha1(f"yuqing-split:{post_id}".encode()).hexdigest(), 16) % 100
    return "train" if bucket < 70 else ("dev" if bucket < 85 else "test")


def example_from_obj(obj: object) -> Example:
    """An Example from a decoded JSON line; ValueError with a Chinese reason."""
    post = post_from_obj(obj)
    assert isinstance(obj, dict)
    cat = obj.get("label_category", obj.get("category"))
    sev = obj.get("label_severity", obj.get("severity"))
    if cat not in CATEGORY_INDEX:
        raise ValueError(f"字段 label_category 无效: {cat!r}（应为 {'/'.join(LABELS)}）")
    if not isinstance(sev, int) or isinstance(sev, bool) or not 0 <= sev <= 4:
        raise ValueError(f"字段 label_severity 无效: {sev!r}（应为 0-4 的整数）")
    if (cat == "none") != (sev == 0):
        raise ValueError(f"label_category={cat} 与 label_severity={sev} 矛盾（非危机才为 0）")
    return Example(post, CATEGORY_INDEX[cat], sev)


def read_labelled(path: Path) -> tuple[list[Example], list[LineError]]:
    examples, errors = [], []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                examples.append(example_from_obj(json.loads(line)))
            except json.JSONDecodeError as exc:
                errors.append(LineError(number, f"JSON 格式错误: {exc.msg}"))
            except ValueError as exc:
                errors.append(LineError(number, str(exc)))
    return examples, errors


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl")) if directory.exists() else []


def load_corpus(directory: Path = CORPUS_DIR) -> tuple[list[Example], list[str]]:
    """Every labelled example (duplicate ids: first wins) and the problems found (file: line N: …)."""
    seen: set[str] = set()
    out: list[Example] = []
    problems: list[str] = []
    for file in corpus_files(directory):
        examples, errors = read_labelled(file)
        problems += [f"{file.name}: {e}" for e in errors]
        for ex in examples:
            if ex.post.id in seen:
                problems.append(f"{file.name}: 重复 id {ex.post.id}（已忽略）")
                continue
            seen.add(ex.post.id)
            out.append(ex)
    return out, problems


def by_split(examples: list[Example]) -> dict[str, list[Example]]:
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex in examples:
        parts[split_of(ex.post.id)].append(ex)
    return parts


def data_hash(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.post.id):
        h.update(json.dumps([ex.post.id, ex.post.full_text, ex.category, ex.severity,
                             ex.post.reposts, ex.post.comments, ex.post.likes, ex.post.views,
                             ex.post.author_followers, ex.post.author_verified, ex.post.platform],
                            ensure_ascii=False).encode())
    return h.hexdigest()[:16]
