"""The fine-tuned part: the base's lower layers stay frozen (their outputs are cached during
training), the top ``n_top`` layers get LoRA adapters, and two heads read the mean-pooled
output: category (6 classes) and text severity (levels 1–4, the harm the text itself states).
Only the adapters and heads are saved (``adapter.safetensors``, ~1 MB)."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
from torch import nn

from classifier.base import mean_pool


@dataclass
class TopConfig:
    n_top: int = 1
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    head_dropout: float = 0.1
    max_length: int = 128
    n_classes: int = 6
    n_severity: int = 4

    def to_dict(self) -> dict:
        return asdict(self)


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
    """(frozen lower encoder, trainable top). The lower model keeps embeddings + first layers;
    its ``last_hidden_state`` is the input of the top."""
    from peft import LoraConfig, inject_adapter_in_model

    n = len(bert.encoder.layer)
    top_layers = [copy.deepcopy(bert.encoder.layer[i]) for i in range(n - cfg.n_top, n)]
    lower = bert
    lower.encoder.layer = lower.encoder.layer[: n - cfg.n_top]
    for p in lower.parameters():
        p.requires_grad_(False)
    lower.eval()
    torch.manual_seed(seed)
    top = TopModel(top_layers, bert.config.hidden_size, cfg)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=["query", "key", "value", "dense"])
    top = inject_adapter_in_model(lora, top)
    for name, p in top.named_parameters():
        p.requires_grad_("lora_" in name or "_head" in name)
    return lower, top


def trainable_state(top: TopModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in top.state_dict().items() if "lora_" in k or "_head" in k}


def merge_lora(top: nn.Module) -> None:
    """Fold the adapters into the weights (inference: no extra matmuls)."""
    for module in top.modules():
        if hasattr(module, "merge") and hasattr(module, "lora_A"):
            module.merge()
