"""Inference API used by the pipeline (docs/interfaces.md): ``load_classifier(settings)``.

Path of a post: text = title + start (bounded) → cascade stage 1 (char-n-gram model): if
P(none) ≥ the card's threshold (see train.decisive_none), the post is ``none`` without the
transformer → otherwise
the encoder in length-sorted, dynamically padded batches → (``classifier.backend``) ``onnx``: the
same cut exported once into var/ with the LoRA top merged and run by ONNX Runtime int8
(:mod:`classifier.onnx_runtime`; if onnxruntime is missing or the export fails, the torch path
is used and a warning logged), or ``torch``: frozen int8 lower layers + merged LoRA top layers,
quantised to int8 at load unless ``classifier.quantize`` is off →
category probabilities = the transformer's and the n-gram model's, mixed with the weight tuned on
dev; severity = the calibrated combiner of text severity and spread.
Text with no letters or CJK characters at all (empty, only emoji/punctuation) is ``none``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from yuqing.domain import Category, Classification, Post, Severity
from yuqing.errors import YuqingError

if TYPE_CHECKING:
    from yuqing.settings import Settings

ARTIFACTS = ("card.json", "adapter.safetensors", "ngram.safetensors", "severity.json")
BACKENDS = ("torch", "onnx")
log = logging.getLogger(__name__)
_CONTENT = re.compile(r"[0-9A-Za-z\u00c0-\u024f\u0400-\u04ff\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def has_content(text: str) -> bool:
    return bool(_CONTENT.search(text))


class PostClassifier(Protocol):
    """What the pipeline worker needs of a classifier (``Classifier`` is the product's)."""

    def classify(self, posts: list[Post]) -> list[Classification]: ...

    def embed(self, texts: list[str]) -> Sequence[Sequence[float]] | None:
        """Sentence embeddings for incident grouping, or None when the classifier has none."""


class Classifier:
    def __init__(self, base_dir: Path, model_dir: Path, *, threads: int = 2, batch_size: int = 32,
                 max_length: int | None = None, cascade: bool = True, quantize: bool = True,
                 backend: str = "torch") -> None:
        import torch

        from classifier.model import TopConfig
        from classifier.ngram import load_ngram
        from classifier.severity import SeverityModel

        if backend not in BACKENDS:
            raise YuqingError(f"classifier.backend 无效：{backend!r}（应为 {' / '.join(BACKENDS)}）")
        missing = [a for a in ARTIFACTS if not (model_dir / a).exists()]
        if missing:
            raise YuqingError(f"分类模型不完整：{model_dir} 缺少 {', '.join(missing)}。请运行 `yuqing train` 训练模型。")
        torch.set_num_threads(threads)
        self.card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
        self.version: str = self.card["version"]
        cfg = TopConfig.from_card(self.card["top_config"])
        self.backend = "torch"
        self.onnx = None
        if backend == "onnx":
            self._load_onnx(base_dir, model_dir, threads)
        if self.onnx is None:
            self._load_torch(base_dir, model_dir, cfg, quantize)
        self.ngram = load_ngram(model_dir / "ngram.safetensors")
        self.severity = SeverityModel.load(model_dir / "severity.json")
        self.threshold: float = float(self.card["cascade"]["threshold"])
        self.ngram_weight: float = float(self.card.get("ensemble", {}).get("ngram_weight", 0.0))
        self.cascade = cascade
        self.batch_size = batch_size
        self.max_length = min(max_length or cfg.max_length, 512)

    def _load_onnx(self, base_dir: Path, model_dir: Path, threads: int) -> None:
        """The ONNX Runtime int8 encoder (exported into var/ on first use); torch if that fails."""
        from classifier.base import load_tokenizer
        from classifier.convert import is_prepared
        from classifier.onnx_runtime import OnnxEncoder, OnnxUnavailable, prepare_onnx

        if not is_prepared(base_dir):
            return  # _load_torch raises the usual "run yuqing model prepare" error
        try:
            self.onnx = OnnxEncoder(prepare_onnx(base_dir, model_dir), threads=threads)
        except OnnxUnavailable as exc:
            log.warning("ONNX 推理不可用，改用 torch：%s", exc)
            return
        self.tokenizer = load_tokenizer(base_dir)
        self.pad_id = int(json.loads((base_dir / "conversion.json").read_text())["pad_id"])
        self.hidden = self.onnx.hidden
        self.backend = "onnx"

    def _load_torch(self, base_dir: Path, model_dir: Path, cfg, quantize: bool) -> None:
        from safetensors.torch import load_file

        from classifier.base import load_base
        from classifier.model import merge_lora, quantize_int8, split_base

        base = load_base(base_dir)
        # adapters and heads never touch the embeddings: a trimmed or a full-vocabulary base gives
        # the same result for text in the kept characters (see convert.chinese_piece_ids)
        self.tokenizer, self.pad_id = base.tokenizer, base.pad_id
        self.lower, self.top = split_base(base.model, cfg)
        state = load_file(str(model_dir / "adapter.safetensors"))
        result = self.top.load_state_dict(state, strict=False)
        if result.unexpected_keys:
            raise YuqingError(f"分类模型文件与代码版本不符：{model_dir}/adapter.safetensors。请重新训练。")
        merge_lora(self.top)
        self.top.eval()
        if quantize:  # test macro-F1 within a post or two; faster in most runs (bench/classify_bench.py fp32_top)
            self.top = quantize_int8(self.top)
        self.hidden = self.top.cat_head.in_features

    # ------------------------------------------------------------ encoder
    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(category probabilities [n,6], text-severity probabilities [n,4], pooled [n,H])."""
        import torch

        from classifier.base import encode_batch

        n = len(texts)
        cat = np.zeros((n, 6), np.float32)
        sev = np.zeros((n, 4), np.float32)
        pooled = np.zeros((n, self.hidden), np.float32)
        order = sorted(range(n), key=lambda i: len(texts[i]))  # length buckets: little padding
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                ids, mask = encode_batch(self.tokenizer, [texts[i] for i in idx], self.max_length, self.pad_id)
                if self.onnx is not None:
                    c, s, p = (torch.from_numpy(a) for a in self.onnx.run(ids.numpy(), mask.numpy()))
                else:
                    hidden = self.lower(input_ids=ids, attention_mask=mask).last_hidden_state
                    c, s, p = self.top(hidden, mask)
                cat[idx] = torch.softmax(c, -1).numpy()
                sev[idx] = torch.softmax(s, -1).numpy()
                pooled[idx] = p.numpy()
        return cat, sev, pooled

    # ------------------------------------------------------------ API
    def classify(self, posts: list[Post]) -> list[Classification]:
        from classifier.corpus import LABELS, NONE_INDEX
        from classifier.features import model_text, spread_features
        from classifier.severity import severity_inputs

        texts = [model_text(p) for p in posts]
        cat = np.zeros((len(posts), 6), np.float32)
        sev_level = np.zeros(len(posts), np.int64)
        content = [i for i, t in enumerate(texts) if has_content(t)]
        cat[:, NONE_INDEX] = 1.0  # posts without content stay none
        if content:
            first = self.ngram.predict_proba([texts[i] for i in content])
            if self.cascade:
                deep = [i for k, i in enumerate(content) if first[k, NONE_INDEX] < self.threshold]
                cat[content] = first
            else:
                deep = content
            if deep:
                c, s, _ = self.encode([texts[i] for i in deep])
                row_of = {i: k for k, i in enumerate(content)}
                w = self.ngram_weight
                cat[deep] = (1.0 - w) * c + w * first[[row_of[i] for i in deep]]
                spread = np.stack([spread_features(posts[i]) for i in deep])
                sev_level[deep] = self.severity.predict(severity_inputs(s, spread))
        out = []
        for i in range(len(posts)):
            k = int(cat[i].argmax())
            category = Category(LABELS[k])
            level = 0 if category is Category.none else int(max(1, sev_level[i]))
            out.append(Classification(
                category=category, severity=Severity(level),
                category_scores={LABELS[j]: round(float(cat[i, j]), 4) for j in range(6)},
                model_version=self.version))
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised sentence embeddings (mean-pooled encoder output), for incident grouping."""
        if not texts:
            return np.zeros((0, self.hidden), np.float32)
        _, _, pooled = self.encode([t[:1000] for t in texts])
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norm, 1e-12)


_CACHE: dict[tuple, Classifier] = {}


def model_dir_of(settings: Settings) -> Path:
    return settings.resolve(settings.classifier.model_dir)


def classifier_for(settings: Settings, model_dir: Path) -> Classifier:
    """A classifier over ``model_dir`` with the settings' backend, threads, batch size, length cap and
    quantisation."""
    from classifier.base import base_path

    c = settings.classifier
    return Classifier(base_path(settings), model_dir, threads=c.threads, batch_size=c.batch_size,
                      max_length=c.max_length, quantize=c.quantize, backend=c.backend)


def load_classifier(settings: Settings) -> Classifier:
    """The classifier for these settings (cached per process)."""
    from classifier.base import base_path

    c = settings.classifier
    key = (str(base_path(settings)), str(model_dir_of(settings)), c.threads, c.batch_size, c.max_length, c.quantize,
           c.backend)
    if key not in _CACHE:
        _CACHE[key] = classifier_for(settings, model_dir_of(settings))
    return _CACHE[key]
