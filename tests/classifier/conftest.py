"""Classifier fixtures: the converted base is built once and cached in the repository's var/
(shared by every run); a tiny model is trained once per session on a 32-post slice."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.settings import ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE_DIR = ROOT / "var" / "models" / "e5-small"


@pytest.fixture(scope="session")
def base_dir() -> Path:
    from classifier.convert import prepare

    prepare(BASE_DIR)  # idempotent: converts only the first time
    return BASE_DIR


@pytest.fixture(scope="session")
def tiny_examples():
    from classifier.corpus import read_labelled

    examples, errors = read_labelled(FIXTURES / "tiny.jsonl")
    assert not errors
    return examples


def tiny_settings(seed: int = 13):
    from classifier.model import TopConfig
    from classifier.train import TrainSettings

    return TrainSettings(seed=seed, epochs=3, batch_size=8, lr=5e-3, top=TopConfig(max_length=48))


@pytest.fixture(scope="session")
def tiny_model(base_dir: Path, tiny_examples, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from classifier.train import train

    out = tmp_path_factory.mktemp("tiny-model")
    card = train(tiny_examples, base_dir, out, tiny_settings())
    return out, card
