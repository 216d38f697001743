"""The cascade's cheap first stage: hashed character 1-3-gram features, a linear softmax model.

It sees every post; when it is confident that a post is ``none`` (P(none) ≥ the threshold tuned
on the dev split) the transformer is skipped. Crisis posts always go to the transformer.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

BUCKETS = 1 << 18
NGRAMS = (1, 2, 3)


def ngram_ids(text: str, max_chars: int = 400) -> list[int]:
    text = text[:max_chars]
    out = []
    for n in NGRAMS:
        for i in range(len(text) - n + 1):
            out.append(zlib.crc32(f"{n}:{text[i:i + n]}".encode()) % BUCKETS)
    return out or [0]


class NgramModel(nn.Module):
    def __init__(self, n_classes: int = 6, buckets: int = BUCKETS) -> None:
        super().__init__()
        self.bag = nn.EmbeddingBag(buckets, n_classes, mode="mean")
        self.bias = nn.Parameter(torch.zeros(n_classes))
        nn.init.zeros_(self.bag.weight)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.bag(ids, offsets) * 10.0 + self.bias

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        lists = [ngram_ids(t) for t in texts]
        offsets = torch.tensor(np.cumsum([0] + [len(x) for x in lists[:-1]]), dtype=torch.long)
        return torch.tensor([i for x in lists for i in x], dtype=torch.long), offsets

    @torch.inference_mode()
    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.bias.numel()), dtype=np.float32)
        ids, offsets = self.batch(texts)
        return torch.softmax(self(ids, offsets), -1).numpy()


def train_ngram(texts: list[str], labels: list[int], *, epochs: int = 8, seed: int = 13,
                n_classes: int = 6, class_weight: np.ndarray | None = None) -> NgramModel:
    gen = torch.Generator().manual_seed(seed)
    model = NgramModel(n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    y = torch.tensor(labels, dtype=torch.long)
    weight = torch.tensor(class_weight, dtype=torch.float32) if class_weight is not None else None
    for _ in range(epochs):
        order = torch.randperm(len(texts), generator=gen)
        for start in range(0, len(order), 64):
            idx = order[start:start + 64].tolist()
            ids, offsets = model.batch([texts[i] for i in idx])
            loss = nn.functional.cross_entropy(model(ids, offsets), y[idx], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def save_ngram(model: NgramModel, path: Path) -> None:
    """Only the used rows are stored (sparse), in float16: a few hundred KB."""
    from safetensors.torch import save_file

    w = model.bag.weight.detach()
    rows = torch.nonzero(w.abs().sum(1) > 0).squeeze(1)
    save_file({"rows": rows.to(torch.int32), "weight": w[rows].to(torch.float16),
               "bias": model.bias.detach()}, str(path))


def load_ngram(path: Path, n_classes: int = 6) -> NgramModel:
    from safetensors.torch import load_file

    t = load_file(str(path))
    model = NgramModel(n_classes)
    with torch.no_grad():
        model.bag.weight[t["rows"].long()] = t["weight"].float()
        model.bias.copy_(t["bias"])
    model.eval()
    return model
