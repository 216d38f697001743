"""Shared fixtures: an isolated instance (own config, data dir and SQLite database) per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from app import wiring  # noqa: F401  (engine hooks, as every entry point of the composition has them)
from yuqing.db.migrate import upgrade
from yuqing.runtime import Runtime
from yuqing.settings import DEFAULT_CONFIG, ROOT, load_settings

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def write_config(tmp: Path, overrides: dict | None = None) -> Path:
    """A copy of the default config with a private data dir, channels limited to a file."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp / "var")
    data["channels"] = [{"name": "file", "type": "file", "path": "notifications.jsonl"}]
    for key, value in (overrides or {}).items():
        data[key] = value
    path = tmp / "yuqing.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_config(tmp_path)
    monkeypatch.setenv("YUQING_CONFIG", str(path))
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_DATA_DIR", raising=False)
    return path


@pytest.fixture
def runtime(config_file: Path) -> Iterator[Runtime]:
    """A migrated, empty instance."""
    rt = Runtime(load_settings(config_file))
    upgrade(rt.engine)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
