"""The ONNX Runtime int8 encoder (``classifier.backend: onnx``).

Guarantees:
- ``prepare_onnx(base_dir, model_dir)`` exports exactly the product's encoder cut for that model
  card (embeddings, the card's ``depth`` layers with the LoRA adapters merged into the top ones,
  mean pooling, the category and text-severity heads) as one fp32 ONNX graph, quantises it with
  ``onnxruntime.quantization.quantize_dynamic`` (int8 weights, activations quantised per batch)
  and caches it under ``<base_dir>/../onnx/<key>/`` (``var/``, never in the repository). The key
  hashes the card, the adapter file and the base's conversion stamp, so a retrained model or a
  reconverted base gets a new file and a stale one is never used. Idempotent; offline.
- ``OnnxEncoder.run(ids, mask)`` returns (category logits, severity logits, pooled) as numpy,
  the same contract as the torch path in ``classifier.api``.
- ``OnnxUnavailable`` is raised (never anything else) when onnxruntime/onnx are missing or the
  export fails, so the caller can fall back to the torch path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

QUANTIZED = "encoder.int8.onnx"
STAMP = "onnx.json"
FORMAT = 1  # bump when the exported graph changes


class OnnxUnavailable(RuntimeError):
    """onnxruntime cannot serve this model (missing package, failed export or load)."""


def cache_key(base_dir: Path, model_dir: Path) -> str:
    h = hashlib.sha256(f"format={FORMAT}".encode())
    for f in (model_dir / "card.json", model_dir / "adapter.safetensors", base_dir / "conversion.json"):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cache_dir(base_dir: Path, model_dir: Path) -> Path:
    return base_dir.resolve().parent / "onnx" / cache_key(base_dir, model_dir)


def is_prepared(base_dir: Path, model_dir: Path) -> bool:
    d = cache_dir(base_dir, model_dir)
    return (d / QUANTIZED).exists() and (d / STAMP).exists()


def _fp32_encoder(base_dir: Path, model_dir: Path):
    """The product's cut in fp32 (merged LoRA top), as one torch module ``(ids, mask) → 3 tensors``."""
    import dataclasses

    import torch
    from safetensors.torch import load_file

    from classifier.base import load_base, mean_pool
    from classifier.model import TopConfig, additive_mask, merge_lora, split_base

    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    cfg = dataclasses.replace(TopConfig.from_card(card["top_config"]), lower_int8=False)
    base = load_base(base_dir)
    lower, top = split_base(base.model, cfg)
    top.load_state_dict(load_file(str(model_dir / "adapter.safetensors")), strict=False)
    merge_lora(top)
    top.eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = lower.embeddings
            self.layers = torch.nn.ModuleList([*lower.encoder.layer, *top.layers])
            self.cat_head, self.sev_head = top.cat_head, top.sev_head

        def forward(self, ids: torch.Tensor, mask: torch.Tensor):
            hidden = self.embeddings(input_ids=ids)
            ext = additive_mask(mask, hidden.dtype)
            for layer in self.layers:
                hidden = layer(hidden, ext)
            pooled = mean_pool(hidden, mask)
            return self.cat_head(pooled), self.sev_head(pooled), pooled

    return Encoder().eval(), base.pad_id


def prepare_onnx(base_dir: Path, model_dir: Path, *, force: bool = False) -> Path:
    """Export + quantise (once per model/base); the path of the int8 graph."""
    out = cache_dir(base_dir, model_dir)
    if is_prepared(base_dir, model_dir) and not force:
        return out / QUANTIZED
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise OnnxUnavailable(f"onnxruntime/onnx 未安装：{exc}") from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="export-", dir=out.parent))
    try:
        encoder, pad_id = _fp32_encoder(base_dir, model_dir)
        ids = torch.tensor([[0, 6, 100, 200, 2, pad_id], [0, 7, 300, 2, pad_id, pad_id]])
        mask = (ids != pad_id).long()
        with torch.inference_mode():
            torch.onnx.export(encoder, (ids, mask), str(tmp / "encoder.fp32.onnx"), dynamo=False,
                              input_names=["input_ids", "attention_mask"],
                              output_names=["category", "severity", "pooled"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                            "attention_mask": {0: "batch", 1: "length"},
                                            "category": {0: "batch"}, "severity": {0: "batch"},
                                            "pooled": {0: "batch"}},
                              opset_version=17, do_constant_folding=True)
        del encoder
        quantize_dynamic(str(tmp / "encoder.fp32.onnx"), str(tmp / QUANTIZED), weight_type=QuantType.QInt8,
                         per_channel=False, op_types_to_quantize=["MatMul", "Gather"])
        (tmp / "encoder.fp32.onnx").unlink()
        (tmp / STAMP).write_text(json.dumps({"format": FORMAT, "key": out.name, "pad_id": pad_id,
                                             "model_dir": str(model_dir), "base_dir": str(base_dir)}))
        if out.exists() and (force or not is_prepared(base_dir, model_dir)):
            shutil.rmtree(out)  # a half-written leftover (a finished one from a parallel export is kept)
        if not out.exists():
            try:
                os.replace(tmp, out)
            except OSError:
                if not is_prepared(base_dir, model_dir):  # lost a race only if the winner finished
                    raise
    except OnnxUnavailable:
        raise
    except Exception as exc:  # any export/quantisation failure: the caller falls back to torch
        raise OnnxUnavailable(f"ONNX 导出失败：{type(exc).__name__}: {exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / QUANTIZED


class OnnxEncoder:
    """An onnxruntime session over the int8 graph (threads: intra-op; one inter-op thread)."""

    def __init__(self, path: Path, threads: int = 2) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise OnnxUnavailable(f"onnxruntime 未安装：{exc}") from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise OnnxUnavailable(f"ONNX 模型无法载入：{path}: {exc}") from exc
        self.hidden = int(self.session.get_outputs()[2].shape[1])

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cat, sev, pooled = self.session.run(None, {"input_ids": ids.astype(np.int64),
                                                   "attention_mask": mask.astype(np.int64)})
        return cat, sev, pooled
