"""Classifier throughput and peak memory against the fair fp32 pipeline, in the same run.

    .venv/bin/python bench/classify_bench.py [--posts 300] [--threads 2] [--sets realistic,written,band,real]
                                             [--old-baseline] [--thresholds]

Post sets (all from the corpus' test split, never trained or tuned on):
- ``realistic``: posts of realistic length (rule: ``realistic_rule()``, printed): written test posts
  of 80–300 characters plus every real-news test article cut to what the model reads (its first
  126 tokens), ``none`` posts subsampled (by a fixed hash of the id) to a quarter of the set;
- ``written``: the written test split; ``band``: test posts (both sources) of 50–300 characters;
  ``real``: the real-news test split.
Each set is cut or repeated to --posts.

Variants, each in its own subprocess (clean peak RSS, no shared caches):
- ``fair_fp32``: the plain fp32 pipeline a user would write (``FAIR``): BertModel with all 12 layers
  in fp32 (the converted base: trimmed vocabulary, see the printed base), batches of 32 sorted by
  length, dynamic padding to the longest post of the batch, max length 128, our fine-tuned top
  layers in layers 11–12 and our category head on top. No cascade.
- ``torch``: the product path with ``classifier.backend: torch`` (torch dynamic int8).
- ``onnx``: the product path with ``classifier.backend: onnx`` (ONNX Runtime int8, exported into var/).
- with --old-baseline: the former baseline (file order, every batch padded to 256 tokens, the full
  vocabulary if ``var/models/e5-small-full`` exists), one pass over 64 posts only.
Every variant is timed ``REPEATS`` times (median and range): the shared machine drifts, so only
ratios within one run mean anything. Beside each product variant: dev macro-F1 and crisis
precision/recall (dev: both sources), so faster never means worse. --thresholds adds the cascade
threshold on dev: quality and the share of realistic posts that skip the transformer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEATS = 3
SETS = ("realistic", "written", "band", "real")
BAND = (50, 300)
REALISTIC_CHARS = (80, 300)
REALISTIC_NONE_SHARE = 0.25


@dataclass(frozen=True)
class Baseline:
    """The fair fp32 pipeline's definition (tests/classifier/test_speed_paths.py checks it)."""

    layers: int = 12
    dtype: str = "float32"
    batch_size: int = 32
    sort_by_length: bool = True
    dynamic_padding: bool = True
    max_length: int = 128


FAIR = Baseline()
OLD = Baseline(sort_by_length=False, dynamic_padding=False, max_length=256)


def realistic_rule() -> str:
    return (f"写作测试集中 {REALISTIC_CHARS[0]}–{REALISTIC_CHARS[1]} 字的帖子 + 全部真实新闻测试集文章（截为模型读取的前 126 个词元），"
            f"非危机帖子按 id 的固定哈希抽样至 {REALISTIC_NONE_SHARE:.0%}")


def _cut_to_model(tokenizer, text: str, n: int = 126) -> str:
    """The characters the model reads of ``text`` (its first n pieces after the prefix)."""
    from classifier.base import PREFIX

    enc = tokenizer.encode(PREFIX + text, add_special_tokens=False)
    if len(enc.ids) <= n:
        return text
    return text[: max(0, enc.offsets[n - 1][1] - len(PREFIX))]


def post_set(name: str, tokenizer=None) -> list:
    """The labelled examples of one post set (see the module docstring)."""
    from classifier.corpus import NONE_INDEX, Example, by_split, load_corpus
    from classifier.features import model_text

    test = by_split(load_corpus()[0])["test"]
    if name == "written":
        return [e for e in test if e.source == "written"]
    if name == "real":
        return [e for e in test if e.source == "real"]
    if name == "band":
        return [e for e in test if BAND[0] <= len(model_text(e.post)) <= BAND[1]]
    if name != "realistic":
        raise ValueError(f"unknown set {name}")
    lo, hi = REALISTIC_CHARS
    items = [e for e in test if e.source == "written" and lo <= len(model_text(e.post)) <= hi]
    for e in test:
        if e.source == "real":
            post = e.post.model_copy(update={"title": None, "text": _cut_to_model(tokenizer, model_text(e.post))})
            items.append(Example(post, e.category, e.severity))
    crisis = [e for e in items if e.category != NONE_INDEX]
    none = sorted((e for e in items if e.category == NONE_INDEX),
                  key=lambda e: hashlib.sha1(f"bench:{e.post.id}".encode()).hexdigest())
    keep = int(len(crisis) * REALISTIC_NONE_SHARE / (1 - REALISTIC_NONE_SHARE))
    return crisis + none[:keep]


def sized(examples: list, n: int) -> list:
    """n posts: the set in a fixed hash order (so a cut keeps its mix), repeated if n is larger."""
    mixed = sorted(examples, key=lambda e: hashlib.sha1(f"order:{e.post.id}".encode()).hexdigest())
    return [mixed[i % len(mixed)].post for i in range(n)]


def baseline_batches(tokenizer, texts: list[str], pad_id: int, spec: Baseline = FAIR):
    """(indices, ids, mask) per batch as the baseline pipeline builds them."""
    import torch

    from classifier.base import encode_batch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if spec.sort_by_length else list(range(len(texts)))
    for s in range(0, len(order), spec.batch_size):
        idx = order[s:s + spec.batch_size]
        ids, mask = encode_batch(tokenizer, [texts[i] for i in idx], spec.max_length, pad_id)
        if not spec.dynamic_padding:
            pad = spec.max_length - ids.shape[1]
            ids = torch.nn.functional.pad(ids, (0, pad), value=pad_id)
            mask = torch.nn.functional.pad(mask, (0, pad), value=0)
        yield idx, ids, mask


def baseline_model(base_dir: Path, clf, spec: Baseline = FAIR):
    """The plain BertModel (``spec.layers`` layers, fp32) with our fine-tuned top layers as its last
    ones; ``clf`` must be an fp32 classifier (``quantize=False``), else ValueError."""
    from transformers import BertModel

    if any("quantized" in type(m).__module__ for m in clf.top.modules()):
        raise ValueError("the fair baseline needs fp32 top layers: load the classifier with quantize=False")

    full = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False, attn_implementation="sdpa").eval()
    full.encoder.layer = full.encoder.layer[: spec.layers]
    n_top = len(clf.top.layers)  # same work per layer as a fine-tuned e5-small
    for k in range(n_top):
        full.encoder.layer[spec.layers - n_top + k] = clf.top.layers[k]
    return full.float()


def _time(fn, posts, repeats: int) -> list[float]:
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(posts)
        rates.append(len(posts) / (time.perf_counter() - t))
    return rates


def run_variant(variant: str, set_name: str, n: int, threads: int) -> dict:
    import torch

    from classifier.api import Classifier, model_dir_of
    from classifier.base import base_path, load_tokenizer
    from yuqing.settings import load_settings

    torch.set_num_threads(threads)
    settings = load_settings()
    base_dir = base_path(settings)
    posts = sized(post_set(set_name, load_tokenizer(base_dir)), n)
    t0 = time.perf_counter()
    backend = "onnx" if variant == "onnx" else "torch"
    clf = Classifier(base_dir, model_dir_of(settings), threads=threads, batch_size=32,
                     quantize=not variant.endswith("baseline") and variant != "fair_fp32", backend=backend)
    load_s = time.perf_counter() - t0
    out = {"variant": variant, "set": set_name, "load_s": load_s, "backend": clf.backend}
    if variant in ("fair_fp32", "old_baseline"):
        spec = FAIR if variant == "fair_fp32" else OLD
        bdir = base_dir
        if variant == "old_baseline" and (ROOT / "var/models/e5-small-full/conversion.json").exists():
            bdir = ROOT / "var/models/e5-small-full"
        model = baseline_model(bdir, clf, spec)
        tokenizer = load_tokenizer(bdir)

        def predict(batch_posts):
            from classifier.features import model_text

            texts = [model_text(p) for p in batch_posts]
            with torch.inference_mode():
                for _, ids, mask in baseline_batches(tokenizer, texts, clf.pad_id, spec):
                    h = model(input_ids=ids, attention_mask=mask).last_hidden_state
                    m = mask.unsqueeze(-1).float()
                    torch.softmax(clf.top.cat_head((h * m).sum(1) / m.sum(1)), -1)

        predict(posts[:8])
        if variant == "old_baseline":
            posts = posts[:64]
        rates = _time(predict, posts, 1 if variant == "old_baseline" else REPEATS)
        out["vocab"] = json.loads((bdir / "conversion.json").read_text())["vocab_size"]
    else:
        clf.classify(posts[:32])  # warm-up
        rates = _time(clf.classify, posts, REPEATS)
        out["deep_share"] = _deep_share(clf, posts)
        if set_name == "realistic":
            out["dev"] = _dev_quality(clf)
    out.update(posts_per_s=statistics.median(rates), range=(min(rates), max(rates)), n=len(posts))
    return out


def _deep_share(clf, posts) -> float:
    from classifier.corpus import NONE_INDEX
    from classifier.features import model_text

    p = clf.ngram.predict_proba([model_text(x) for x in posts])
    return float((p[:, NONE_INDEX] < clf.threshold).mean())


def _dev_quality(clf) -> dict:
    from classifier.corpus import by_split, load_corpus
    from classifier.evaluate import evaluate_examples

    m = evaluate_examples(clf, by_split(load_corpus()[0])["dev"])
    return {k: m[k] for k in ("macro_f1", "crisis_precision", "crisis_recall")}


def thresholds(threads: int) -> list[dict]:
    """The cascade threshold on dev (both sources): quality and the share of realistic posts that skip."""
    import numpy as np

    from classifier.api import Classifier, model_dir_of
    from classifier.base import base_path, load_tokenizer
    from classifier.corpus import NONE_INDEX, by_split, load_corpus
    from classifier.features import model_text
    from classifier.metrics import evaluate_predictions
    from yuqing.settings import load_settings

    settings = load_settings()
    clf = Classifier(base_path(settings), model_dir_of(settings), threads=threads, backend="onnx")
    dev = by_split(load_corpus()[0])["dev"]
    texts = [model_text(e.post) for e in dev]
    first = clf.ngram.predict_proba(texts)
    cat, _, _ = clf.encode(texts)
    w = clf.ngram_weight
    mixed = (1 - w) * cat + w * first
    real = post_set("realistic", load_tokenizer(base_path(settings)))
    real_first = clf.ngram.predict_proba([model_text(e.post) for e in real])
    rows = []
    for t in sorted({0.3, 0.4, 0.5, clf.threshold, 0.7, 0.8, 1.01}):
        pred = np.where(first[:, NONE_INDEX] >= t, first.argmax(1), mixed.argmax(1))
        m = evaluate_predictions([e.category for e in dev], pred.tolist(), [e.severity for e in dev],
                                 [e.severity for e in dev])
        rows.append({"threshold": t, "macro_f1": m["macro_f1"], "crisis_precision": m["crisis_precision"],
                     "crisis_recall": m["crisis_recall"], "dev_skip": float((first[:, NONE_INDEX] >= t).mean()),
                     "realistic_skip": float((real_first[:, NONE_INDEX] >= t).mean()), "card": t == clf.threshold})
    return rows


def child(args) -> None:
    if args.variant == "thresholds":
        print("RESULT " + json.dumps(thresholds(args.threads)))
        return
    out = run_variant(args.variant, args.set, args.posts, args.threads)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def spawn(variant: str, set_name: str, args) -> dict | list:
    cmd = [sys.executable, __file__, "--child", "--variant", variant, "--set", set_name, "--posts", str(args.posts),
           "--threads", str(args.threads)]
    env = dict(os.environ, TRANSFORMERS_VERBOSITY="error", TOKENIZERS_PARALLELISM="false",
               OMP_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")


def _describe_sets(names: list[str]) -> None:
    import statistics as st

    from classifier.base import base_path, load_tokenizer
    from classifier.corpus import NONE_INDEX
    from classifier.features import model_text
    from yuqing.settings import load_settings

    tok = load_tokenizer(base_path(load_settings()))
    for name in names:
        ex = post_set(name, tok)
        lengths = [len(model_text(e.post)) for e in ex]
        none = sum(e.category == NONE_INDEX for e in ex) / len(ex)
        real = sum(e.source == "real" for e in ex)
        print(f"  {name}: {len(ex)} 条（真实新闻 {real} 条），长度中位数 {st.median(lengths):.0f} 字，非危机占 {none:.1%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--old-baseline", action="store_true", help="also time the former 256-token baseline")
    ap.add_argument("--thresholds", action="store_true", help="cascade threshold on dev")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--variant", default="onnx")
    ap.add_argument("--set", default="realistic")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    from classifier.api import model_dir_of
    from classifier.base import base_path
    from classifier.convert import prepare
    from classifier.model import TopConfig
    from classifier.onnx_runtime import prepare_onnx
    from yuqing.settings import load_settings

    settings = load_settings()
    base_dir = base_path(settings)
    prepare(base_dir)
    t = time.perf_counter()
    prepare_onnx(base_dir, model_dir_of(settings))
    print(f"ONNX int8 模型就绪（{time.perf_counter() - t:.0f} 秒；已缓存则为 0）")
    card = json.loads((model_dir_of(settings) / "card.json").read_text(encoding="utf-8"))
    top = TopConfig.from_card(card["top_config"])
    info = json.loads((base_dir / "conversion.json").read_text())
    print(f"模型 {card['version']}：编码器前 {top.depth} 层（底层 {top.depth - top.n_top} 层，顶层 {top.n_top} 层 LoRA 合并），"
          f"级联阈值 {card['cascade']['threshold']}；基座词表 {info['vocab_size']}；线程 {args.threads}")
    print(f"公平基线：{FAIR}（完整 12 层 fp32，按长度排序、动态填充）")
    names = [s for s in args.sets.split(",") if s]
    print(f"帖子集合（测试集；每个集合截取或重复到 {args.posts} 条）：realistic = {realistic_rule()}")
    _describe_sets(names)
    variants = ["fair_fp32", "torch", "onnx"]
    rows = []
    for name in names:
        for v in variants:
            rows.append(spawn(v, name, args))
            r = rows[-1]
            print(f"  … {name} {v}: {r['posts_per_s']:.1f} posts/s ({r['range'][0]:.1f}–{r['range'][1]:.1f}), "
                  f"RSS {r['peak_rss_mb']:.0f} MB, load {r['load_s']:.1f} s, deep {r.get('deep_share', '-')}, "
                  f"dev {r.get('dev', '-')}", flush=True)
    if args.old_baseline:
        rows.append(spawn("old_baseline", "realistic", args))
    print(f"\n{'set':<11}{'variant':<14}{'posts/s':>9}{'min–max':>11}{'x fair':>8}{'deep':>6}{'load s':>8}"
          f"{'RSS MB':>8}   dev macro-F1 / crisis P / R")
    fair = {r["set"]: r["posts_per_s"] for r in rows if r["variant"] == "fair_fp32"}
    for r in rows:
        dev = r.get("dev")
        q = (f"{dev['macro_f1']:.4f} / {dev['crisis_precision']:.3f} / {dev['crisis_recall']:.3f}" if dev else "-")
        deep = f"{r['deep_share']:.2f}" if "deep_share" in r else "-"
        name = r["variant"] + ("(→torch)" if r["variant"] == "onnx" and r["backend"] != "onnx" else "")
        print(f"{r['set']:<11}{name:<14}{r['posts_per_s']:>9.1f}{r['range'][0]:>5.0f}–{r['range'][1]:<5.0f}"
              f"{r['posts_per_s'] / fair[r['set']]:>8.2f}{deep:>6}{r['load_s']:>8.1f}{r['peak_rss_mb']:>8.0f}   {q}")
    if args.thresholds:
        print("\n级联阈值（验证集，ONNX 路径；realistic_skip = 真实长度集合跳过 Transformer 的比例）")
        for t in spawn("thresholds", "realistic", args):
            mark = " ← 模型卡" if t["card"] else ""
            print(f"  {t['threshold']:.3f}: dev macro-F1 {t['macro_f1']:.4f}，危机 P {t['crisis_precision']:.3f} "
                  f"R {t['crisis_recall']:.3f}，dev 跳过 {t['dev_skip']:.1%}，realistic 跳过 {t['realistic_skip']:.1%}{mark}")
    print(f"\nposts/s：每个变体计时 {REPEATS} 遍取中位数（2 核共享机器，速度漂移大，只有同一次运行内的比值有意义）；"
          "deep = 经过 Transformer 的帖子比例；基线不做级联，其 dev 质量不适用（头部不是为 12 层训练的）")
    print("targets (realistic): ≥ 100 posts/s and ≥ 3× fair_fp32, peak RSS ≤ 1536 MB")


if __name__ == "__main__":
    main()
