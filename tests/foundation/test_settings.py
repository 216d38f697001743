"""Settings errors name the file, the key and what was expected; the CLI exits 1, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import write_config
from yuqing.errors import ConfigError
from yuqing.settings import DEFAULT_CONFIG, load_settings, secret


def test_default_config_is_valid() -> None:
    settings = load_settings(DEFAULT_CONFIG, environ={})
    assert settings.index.backend == "embedded"
    assert settings.clock.hours_for(3) == 12
    assert settings.db_url.endswith("var/yuqing.db")
    assert [s.name for s in settings.keyword_schemes][:2] == ["妇联", "家暴"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "nope.yaml", environ={})
    assert "nope.yaml" in str(err.value) and "不存在" in str(err.value)


def test_wrong_type_names_file_key_and_expectation(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"clock": {"default_hours": "twelve"}})
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    message = str(err.value)
    assert str(path) in message
    assert "clock.default_hours" in message
    assert "number" in message and "twelve" in message


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"index": {"backend": "embedded", "bakend": "x"}})
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "index.bakend" in str(err.value) and "未知的配置项" in str(err.value)


def test_nested_list_item_error_names_index(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"channels": [{"name": "x", "type": "pager"}]})
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "channels[0].type" in str(err.value)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("index:\n  backend: [embedded\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "YAML 语法错误" in str(err.value) and "行" in str(err.value)


def test_roster_unknown_person(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"roster": {"people": [], "shifts": [{"people": ["ghost"]}]}})
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "ghost" in str(err.value)


def test_env_overrides(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    settings = load_settings(path, environ={
        "YUQING_DATABASE_URL": "sqlite:///" + str(tmp_path / "x.db"),
        "YUQING_DATA_DIR": str(tmp_path / "data"),
        "YUQING_INDEX__BACKEND": "elasticsearch",
        "YUQING_CLOCK__DEFAULT_HOURS": "5",
    })
    assert settings.db_url == "sqlite:///" + str(tmp_path / "x.db")
    assert settings.data_path == tmp_path / "data"
    assert settings.index.backend == "elasticsearch"
    assert settings.clock.default_hours == 5


def test_secret_from_env_then_untracked_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path)
    (tmp_path / "secrets.env").write_text("# comment\nYUQING_TEST_TOKEN='from-file'\n", encoding="utf-8")
    settings = load_settings(path, environ={})
    monkeypatch.delenv("YUQING_TEST_TOKEN", raising=False)
    assert secret("YUQING_TEST_TOKEN", settings) == "from-file"
    monkeypatch.setenv("YUQING_TEST_TOKEN", "from-env")
    assert secret("YUQING_TEST_TOKEN", settings) == "from-env"
    assert secret("YUQING_NOT_SET_ANYWHERE", settings) is None


def test_cli_bad_config_exits_1_without_traceback(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["web"] = {"port": "eighty"}
    path = tmp_path / "y.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "app.cli", "--config", str(path), "init"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "web.port" in proc.stderr and str(path) in proc.stderr
