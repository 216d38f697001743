"""The fine-tuned part. The encoder is cut to its first ``depth`` layers (of 12): the lower
``depth - n_top`` stay frozen (int8 dynamic quantisation when ``lower_int8``; their outputs are
cached during training, so the top learns on exactly what inference feeds it), the top ``n_top``
get LoRA adapters, and two heads read the mean-pooled output: category (6 classes) and text
severity (levels 1–4, the harm the text itself states). Only the adapters and heads are saved
(``adapter.safetensors``, ~1 MB)."""

from __future__ import annotations

import copy
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn

from classifier.base import mean_pool


@dataclass
class TopConfig:
    """Defaults are the shipped model's (an old card without a field means the old behaviour:
    ``depth`` 12 and no quantisation, see ``from_card``)."""

    depth: int = 6
    n_top: int = 2
    lower_int8: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    head_dropout: float = 0.1
    max_length: int = 128
    n_classes: int = 6
    n_severity: int = 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_card(cls, d: dict) -> TopConfig:
        return cls(**{"depth": 12, "lower_int8": False, **d})


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class TopModel(nn.Module):
    def __init__(self, layers: list[nn.Module], hidden: int, cfg: TopConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(cfg.head_dropout)
        self.cat_head = nn.Linear(hidden, cfg.n_classes)
        self.sev_head = nn.Linear(hidden, cfg.n_severity)

    def pooled(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ext = additive_mask(mask, hidden.dtype)
        for layer in self.layers:
            hidden = layer(hidden, ext)
        return mean_pool(hidden, mask)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pooled = self.pooled(hidden, mask)
        x = self.dropout(pooled)
        return self.cat_head(x), self.sev_head(x), pooled


def split_base(bert: nn.Module, cfg: TopConfig, seed: int = 13) -> tuple[nn.Module, TopModel]:
    """(frozen lower encoder, trainable top). The lower model keeps embeddings + the first
    ``depth - n_top`` layers; its ``last_hidden_state`` is the input of the top."""
    from peft import LoraConfig, inject_adapter_in_model

    n = min(cfg.depth, len(bert.encoder.layer))
    if not 0 < cfg.n_top <= n:
        raise ValueError(f"n_top={cfg.n_top} must be between 1 and depth={n}")
    top_layers = [copy.deepcopy(bert.encoder.layer[i]) for i in range(n - cfg.n_top, n)]
    lower = bert
    lower.encoder.layer = lower.encoder.layer[: n - cfg.n_top]
    for p in lower.parameters():
        p.requires_grad_(False)
    lower.eval()
    if cfg.lower_int8:
        lower = quantize_int8(lower)
    torch.manual_seed(seed)
    top = TopModel(top_layers, bert.config.hidden_size, cfg)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=["query", "key", "value", "dense"])
    top = inject_adapter_in_model(lora, top)
    for name, p in top.named_parameters():
        p.requires_grad_("lora_" in name or "_head" in name)
    return lower, top


def quantize_int8(module: nn.Module) -> nn.Module:
    """Dynamic int8 quantisation of every Linear (weights int8, activations quantised per batch).

    torch 2.13 (pinned) marks ``torch.ao.quantization`` deprecated in favour of the separate
    torchao package; it still works, and the notices are not for users of the CLI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(module, {nn.Linear}, dtype=torch.qint8)


def trainable_state(top: TopModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in top.state_dict().items() if "lora_" in k or "_head" in k}


def merge_lora(top: nn.Module) -> None:
    """Fold the adapters into the weights (inference: no extra matmuls)."""
    for module in top.modules():
        if hasattr(module, "merge") and hasattr(module, "lora_A"):
            module.merge()
