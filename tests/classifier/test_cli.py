"""The `yuqing classify` contract, `evaluate` and bad input, with the tiny model of this session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.conftest import write_config

runner = CliRunner()


@pytest.fixture
def tiny_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model, base_dir) -> Path:
    out, _ = tiny_model
    path = write_config(tmp_path, {"classifier": {"model_dir": str(out), "base_dir": str(base_dir),
                                                  "threads": 2, "batch_size": 16, "max_length": 64}})
    monkeypatch.setenv("YUQING_CONFIG", str(path))
    return path


def _post(i: int, text: str, **extra) -> str:
    return json.dumps({"id": f"p{i}", "platform": "weibo", "text": text, **extra}, ensure_ascii=False)


def test_classify_contract_with_bad_lines(tiny_config: Path, tmp_path: Path):
    lines = [
        _post(1, "女子遭丈夫家暴多次报警无果", reposts=900, comments=500, likes=3000, author_verified=True),
        "{这不是 JSON",
        json.dumps({"id": "p3", "text": "缺少平台字段"}, ensure_ascii=False),
        _post(4, ""),  # empty text: a defined result (none)
        _post(5, "😀😀😀🎉"),  # only emoji: none
        _post(6, "家暴" * 10000),  # 20,000 characters
        _post(7, "Domestic violence case reported in the city, police are investigating"),
        "",
        json.dumps([1, 2, 3]),
        _post(10, "周末带娃去公园 so happy 😊", extra_field="kept"),
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["classify", "--input", str(src), "--output", str(dst)])
    assert result.exit_code == 2, result.output
    assert "line 2:" in result.output and "line 3:" in result.output and "line 9:" in result.output
    assert "platform" in result.output
    rows = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["p1", "p4", "p5", "p6", "p7", "p10"]
    for r in rows:
        assert r["category"] in {"policy", "rights", "image", "work", "emergency", "none"}
        assert set(r["category_scores"]) == {"policy", "rights", "image", "work", "emergency", "none"}
        assert abs(sum(r["category_scores"].values()) - 1) < 1e-2
        assert (r["severity"] == 0) == (r["category"] == "none")
        assert 0 <= r["severity"] <= 4
    by_id = {r["id"]: r for r in rows}
    assert by_id["p4"]["category"] == "none" and by_id["p5"]["category"] == "none"
    assert by_id["p10"]["extra_field"] == "kept"


def test_classify_all_good_exits_zero(tiny_config: Path, tmp_path: Path):
    src = tmp_path / "in.jsonl"
    src.write_text(_post(1, "社区亲子运动会") + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["classify", "-i", str(src), "-o", str(dst)])
    assert result.exit_code == 0, result.output
    assert len(dst.read_text(encoding="utf-8").splitlines()) == 1


def test_evaluate_writes_json(tiny_config: Path, tmp_path: Path):
    from tests.classifier.conftest import FIXTURES

    out = tmp_path / "eval.json"
    result = runner.invoke(app, ["evaluate", "--input", str(FIXTURES / "tiny.jsonl"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "混淆矩阵" in result.output
    m = json.loads(out.read_text(encoding="utf-8"))
    assert m["n"] == 32
    assert sum(map(sum, m["confusion"])) == 32
    assert 0 <= m["severity_within_one"] <= 1


def test_evaluate_on_the_real_test_split(tiny_config: Path, tmp_path: Path):
    from classifier.corpus import by_split, load_corpus

    out = tmp_path / "eval.json"
    result = runner.invoke(app, ["evaluate", "--split", "test", "--source", "real", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "危机精确率" in result.output
    m = json.loads(out.read_text(encoding="utf-8"))
    assert "真实新闻" in m["input"]
    assert m["n"] == len([e for e in by_split(load_corpus()[0])["test"] if e.source == "real"]) > 100
    assert 0.0 <= m["crisis_precision"] <= 1.0 and 0.0 <= m["none_called_crisis"] <= 1.0
    bad = runner.invoke(app, ["evaluate", "--split", "holdout"])
    assert bad.exit_code == 1 and "--split" in str(bad.exception)


def test_missing_model_is_a_chinese_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_dir):
    from classifier.api import Classifier
    from yuqing.errors import YuqingError

    with pytest.raises(YuqingError, match="yuqing train"):
        Classifier(base_dir, tmp_path / "nothing")
