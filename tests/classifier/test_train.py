"""Training on a tiny slice: loss goes down, save/load round-trips, same seed → same model."""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import load_file

from tests.classifier.conftest import tiny_settings


def test_loss_decreases(tiny_model):
    _, card = tiny_model
    losses = card["losses"]
    assert len(losses) >= 6
    assert np.mean(losses[-3:]) < np.mean(losses[:3])


def test_card_and_artifacts(tiny_model):
    out, card = tiny_model
    for name in ("adapter.safetensors", "ngram.safetensors", "severity.json", "card.json"):
        assert (out / name).exists()
    assert card["data"]["n"] == 32 and card["data"]["train"] + card["data"]["dev"] + card["data"]["test"] == 32
    assert len(card["data"]["hash"]) == 16
    size = sum(p.stat().st_size for p in out.iterdir())
    assert size < 10 * 1024 * 1024


def test_round_trip_save_load(tiny_model, base_dir, tiny_examples):
    """The loaded classifier reproduces the trained top's predictions on training posts."""
    from classifier.api import Classifier
    from classifier.features import model_text

    out, card = tiny_model
    clf = Classifier(base_dir, out, threads=2, max_length=48)
    assert clf.version == card["version"]
    texts = [model_text(e.post) for e in tiny_examples[:8]]
    cat, sev, pooled = clf.encode(texts)
    assert np.allclose(cat.sum(1), 1, atol=1e-4) and np.allclose(sev.sum(1), 1, atol=1e-4)
    again = Classifier(base_dir, out, threads=2, max_length=48).encode(texts)[0]
    assert np.allclose(cat, again, atol=1e-5)
    emb = clf.embed(texts)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    # the cascade is off here so every post goes through the transformer; the category is the
    # argmax of the transformer's and the n-gram model's probabilities mixed with the card's weight
    clf.cascade = False
    w = card["ensemble"]["ngram_weight"]
    assert clf.ngram_weight == w and 0.0 <= w < 1.0
    mixed = (1 - w) * cat + w * clf.ngram.predict_proba(texts)
    results = clf.classify([e.post for e in tiny_examples[:8]])
    assert [r.category.value for r in results] == [
        ["policy", "rights", "image", "work", "emergency", "none"][i] for i in mixed.argmax(1)]
    for r in results:
        assert (r.category.value == "none") == (int(r.severity) == 0)


def test_same_seed_same_model(tiny_model, base_dir, tiny_examples, tmp_path):
    from classifier.train import train

    out, _ = tiny_model
    ts = tiny_settings()
    ts.max_steps = None
    again = train(tiny_examples, base_dir, tmp_path, ts)
    a, b = load_file(str(out / "adapter.safetensors")), load_file(str(tmp_path / "adapter.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert again["version"] == tiny_model[1]["version"]


def test_lower_layers_are_int8_and_cut_to_depth(tiny_model, base_dir):
    """The shipped configuration: the first `depth` layers, the frozen ones quantised to int8 both
    when training caches their output and when the classifier loads."""
    from classifier.api import Classifier

    out, card = tiny_model
    cfg = card["top_config"]
    assert cfg["lower_int8"] and cfg["depth"] == 6 and cfg["n_top"] == 2
    clf = Classifier(base_dir, out, threads=2, max_length=48)
    assert len(clf.lower.encoder.layer) == cfg["depth"] - cfg["n_top"] and len(clf.top.layers) == cfg["n_top"]
    from torch import nn
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

    def kinds(module: nn.Module) -> tuple[int, int]:
        return (sum(type(m) is nn.Linear for m in module.modules()),
                sum(isinstance(m, Int8Linear) for m in module.modules()))

    assert kinds(clf.lower.encoder)[0] == 0 and kinds(clf.lower.encoder)[1] == 6 * (cfg["depth"] - cfg["n_top"])
    assert kinds(clf.top)[0] == 0 and kinds(clf.top)[1] > 0  # classifier.quantize (default on)
    fp32 = Classifier(base_dir, out, threads=2, max_length=48, quantize=False)
    assert kinds(fp32.top)[0] > 0 and kinds(fp32.top)[1] == 0


def test_old_card_means_twelve_fp32_layers():
    from classifier.model import TopConfig

    old = TopConfig.from_card({"n_top": 1, "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.05,
                               "head_dropout": 0.1, "max_length": 128, "n_classes": 6, "n_severity": 4})
    assert (old.depth, old.n_top, old.lower_int8) == (12, 1, False)


def test_choose_mix_weighs_the_ngram_model_by_dev_f1():
    from classifier.train import choose_mix

    labels = [0, 1, 2, 3, 4, 5] * 5
    eye = np.eye(6, dtype=np.float32)
    truth = eye[labels]
    # the transformer confuses class 2 with 3; the n-gram model is right but less sure elsewhere
    deep = truth.copy()
    deep[[i for i, y in enumerate(labels) if y == 2]] = 0.6 * eye[3] + 0.4 * eye[2]
    first = 0.5 * truth + 0.5 / 6
    w, f1 = choose_mix(deep, first, labels)
    assert 0.0 < w < 1.0 and f1 == 1.0
    # an uninformative n-gram model gets no weight
    w0, f0 = choose_mix(truth * 0.9 + 0.1 / 6, np.full((30, 6), 1 / 6, np.float32), labels)
    assert w0 == 0.0 and f0 == 1.0
    assert choose_mix(np.zeros((0, 6)), np.zeros((0, 6)), []) == (0.0, 0.0)


def test_choose_mix_does_not_let_the_ngram_half_call_real_news_none():
    """With real articles in dev, a weight that wins written macro-F1 by calling every real crisis
    article `none` loses to one that finds them."""
    from classifier.train import choose_mix

    written = [0, 1, 2, 3, 4, 5] * 20
    real_labels = [1, 4, 5, 5, 5, 5, 5, 5]
    labels = written + real_labels
    real = [False] * len(written) + [True] * len(real_labels)
    eye = np.eye(6, dtype=np.float32)
    truth = eye[labels]
    # the n-gram half is right (less sure) on written posts but sure that every real article is none;
    # the transformer is right on real articles and confuses class 2 with 3 on written ones
    first = 0.6 * truth + 0.4 / 6
    first[len(written):] = eye[5]
    deep = truth.copy()
    deep[[i for i, y in enumerate(written) if y == 2]] = 0.97 * eye[3] + 0.03 * eye[2]
    w_plain, _ = choose_mix(deep, first, labels)
    w_real, score = choose_mix(deep, first, labels, real)
    assert w_plain > w_real
    pred = ((1 - w_real) * deep + w_real * first).argmax(1)
    assert all(pred[len(written) + k] == y for k, y in enumerate(real_labels))
    assert 0.0 < score <= 1.0


def test_decisive_none_means_the_transformer_cannot_change_the_category():
    """Above ``decisive_none(w)`` the mixed category is none for any transformer output, so the
    cascade may skip the transformer there without changing a result; just below it, it can flip."""
    from classifier.train import decisive_none

    assert decisive_none(0.0) == 1.0 and decisive_none(0.5) == 1.0
    rng = np.random.default_rng(5)
    for w in (0.6, 0.8, 0.9):
        t = decisive_none(w)
        for _ in range(200):
            p = rng.dirichlet(np.ones(6))
            p_none = rng.uniform(t, 1.0)
            p = np.append(p[:5] / p[:5].sum() * (1 - p_none), p_none)
            c = np.eye(6)[rng.integers(0, 5)]  # the transformer sure of some crisis class
            assert ((1 - w) * c + w * p).argmax() == 5
        below = np.array([0, 0, 0, 1 - (t - 0.02), 0, t - 0.02])
        assert ((1 - w) * np.eye(6)[3] + w * below).argmax() == 3


def test_real_crisis_articles_are_repeated_in_each_epoch(base_dir, tiny_examples, tmp_path):
    """--real-crisis-repeat: every real crisis article of the train split is seen that many times per
    epoch (more steps), written posts and real `none` news once."""
    import dataclasses

    from classifier.corpus import REAL_PREFIX, split_of
    from classifier.train import train

    def as_real(e):
        return dataclasses.replace(e, post=e.post.model_copy(update={"id": REAL_PREFIX + e.post.id}))

    examples = [as_real(e) if e.is_crisis else e for e in tiny_examples]
    real_train = [e for e in examples if e.source == "real" and split_of(e.post.id) == "train"]
    assert real_train
    n_train = sum(split_of(e.post.id) == "train" for e in examples)
    ts = tiny_settings()
    ts.epochs, ts.batch_size = 1, 4
    once = train(examples, base_dir, tmp_path / "once", ts)
    ts.real_crisis_repeat = 3
    thrice = train(examples, base_dir, tmp_path / "thrice", ts)
    assert once["training"]["steps"] == -(-n_train // 4)
    assert thrice["training"]["steps"] == -(-(n_train + 2 * len(real_train)) // 4)
    assert thrice["settings"]["real_crisis_repeat"] == 3
