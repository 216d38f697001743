"""The speed paths: the benchmark's fair baseline is the plain fp32 pipeline (12 layers, fp32,
batches of 32 sorted by length, dynamic padding, max 128), its realistic post set has realistic
lengths, and ``classifier.backend: onnx`` agrees with torch or falls back to it cleanly.
Nothing here is timed."""

from __future__ import annotations

import importlib.util
import json
import shutil
import statistics
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "classifier" / "model"
sys.path.insert(0, str(ROOT))


def _bench():
    if "classify_bench" not in sys.modules:
        spec = importlib.util.spec_from_file_location("classify_bench", ROOT / "bench" / "classify_bench.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["classify_bench"] = module  # dataclasses resolve annotations through sys.modules
        spec.loader.exec_module(module)
    return sys.modules["classify_bench"]


@pytest.fixture(scope="module")
def base_dir() -> Path:
    from classifier.base import base_path
    from classifier.convert import is_prepared
    from yuqing.settings import load_settings

    path = base_path(load_settings())
    if not is_prepared(path):
        pytest.skip("base model not prepared (yuqing model prepare)")
    return path


@pytest.fixture(scope="module")
def torch_clf(base_dir):
    from classifier.api import Classifier

    return Classifier(base_dir, MODEL, threads=2)


def test_fair_baseline_definition():
    fair = _bench().FAIR
    assert (fair.layers, fair.dtype, fair.batch_size, fair.max_length) == (12, "float32", 32, 128)
    assert fair.sort_by_length and fair.dynamic_padding


def test_baseline_batches_sorted_and_dynamically_padded(torch_clf):
    bench = _bench()
    texts = ["妇联" * k for k in (40, 1, 7, 300, 3, 12)] * 7  # 42 texts, one batch of 32 and one of 10
    batches = list(bench.baseline_batches(torch_clf.tokenizer, texts, torch_clf.pad_id, bench.FAIR))
    assert [len(idx) for idx, _, _ in batches] == [32, 10]
    seen = [len(texts[i]) for idx, _, _ in batches for i in idx]
    assert seen == sorted(seen)  # length-sorted across the whole input
    for _, ids, mask in batches:
        assert ids.shape == mask.shape and ids.shape[1] <= 128
        assert int(mask.sum(1).max()) == ids.shape[1]  # padded to the batch's longest post only
    short = batches[0][2]
    assert short.shape[1] < 128  # the short batch is not padded to max length
    old = list(bench.baseline_batches(torch_clf.tokenizer, texts, torch_clf.pad_id, bench.OLD))
    assert all(ids.shape[1] == 256 for _, ids, _ in old)


def test_baseline_model_is_full_fp32(base_dir, torch_clf):
    import torch

    from classifier.api import Classifier

    with pytest.raises(ValueError, match="fp32"):  # the product's int8 top is not the plain pipeline
        _bench().baseline_model(base_dir, torch_clf)
    model = _bench().baseline_model(base_dir, Classifier(base_dir, MODEL, threads=2, quantize=False))
    assert len(model.encoder.layer) == 12
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not any("quantized" in type(m).__module__ for m in model.modules())


def test_realistic_set_has_realistic_lengths(torch_clf):
    from classifier.corpus import NONE_INDEX
    from classifier.features import model_text

    examples = _bench().post_set("realistic", torch_clf.tokenizer)
    median = statistics.median(len(model_text(e.post)) for e in examples)
    none = sum(e.category == NONE_INDEX for e in examples) / len(examples)
    assert 100 <= median <= 130 and none <= 1 / 3
    assert any(e.source == "real" for e in examples)


def test_unknown_backend_is_refused(base_dir):
    from classifier.api import Classifier
    from yuqing.errors import YuqingError

    with pytest.raises(YuqingError, match="classifier.backend"):
        Classifier(base_dir, MODEL, backend="tensorrt")


def test_broken_onnx_file_falls_back_to_torch(base_dir, tmp_path, caplog):
    """A cached graph that cannot be loaded: the classifier logs it and serves with torch."""
    from classifier.api import Classifier
    from classifier.onnx_runtime import QUANTIZED, STAMP, cache_dir
    from yuqing.domain import Post

    pytest.importorskip("onnxruntime")
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    card = json.loads((model / "card.json").read_text(encoding="utf-8"))
    card["version"] += "-copy"  # a different card: its own cache key, never the real cache entry
    (model / "card.json").write_text(json.dumps(card), encoding="utf-8")

    broken = cache_dir(base_dir, model)
    broken.mkdir(parents=True)
    try:
        (broken / QUANTIZED).write_bytes(b"not an onnx graph")
        (broken / STAMP).write_text("{}")
        clf = Classifier(base_dir, model, backend="onnx")
        assert clf.backend == "torch" and clf.onnx is None
        assert "ONNX" in caplog.text
        out = clf.classify([Post(id="x", platform="weibo", text="某地妇联回应家暴求助无人理睬，受害女子被丈夫打伤住院")])
        assert out[0].category.value != "none"
    finally:
        shutil.rmtree(broken)


def test_onnx_agrees_with_torch(base_dir, torch_clf):
    """Same categories as the torch path on known texts (export into var/ if not cached: ~1 min)."""
    pytest.importorskip("onnxruntime")
    from classifier.api import Classifier
    from yuqing.domain import Post

    clf = Classifier(base_dir, MODEL, threads=2, backend="onnx")
    assert clf.backend == "onnx"
    texts = ["某地妇联回应家暴求助无人理睬，受害女子被丈夫打伤住院",
             "今天天气不错，和朋友去公园散步，拍了很多照片",
             "新修订的妇女权益保障法明日起施行，这些变化与你有关",
             "小区电梯故障致多名儿童被困，其中一名女童受伤送医",
             "某县妇联主任在直播中称“女人就该回家带孩子”，引发网友批评"]
    posts = [Post(id=str(i), platform="weibo", text=t) for i, t in enumerate(texts)]
    a = clf.classify(posts)
    b = torch_clf.classify(posts)
    assert [x.category for x in a] == [x.category for x in b]
    emb = clf.embed(texts)
    assert emb.shape == (5, torch_clf.hidden)
