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
    # the cascade is off here so every post goes through the transformer
    clf.cascade = False
    results = clf.classify([e.post for e in tiny_examples[:8]])
    assert [r.category.value for r in results] == [
        ["policy", "rights", "image", "work", "emergency", "none"][i] for i in cat.argmax(1)]
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
