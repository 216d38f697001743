"""The versioned configuration store: overlay on the seed, field errors, diffs, rollback, no secrets,
and Runtime.load / the crawl context seeing the effective settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from yuqing import config_store
from yuqing.config_store import ConfigInvalid
from yuqing.errors import ConfigError
from yuqing.runtime import Runtime

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _schemes(rt: Runtime) -> list[dict]:
    return config_store.section_data(rt.settings, "keyword_schemes")


def test_editable_sections_are_settings_fields() -> None:
    assert {"keyword_schemes", "sources", "roster", "channels"} <= set(config_store.EDITABLE_SECTIONS)
    from yuqing.settings import Settings

    assert set(config_store.EDITABLE_SECTIONS) <= set(Settings.model_fields)


def test_round_trip_overlay_and_runtime_load(runtime: Runtime) -> None:
    schemes = _schemes(runtime)
    schemes[0]["event"] = [*schemes[0]["event"], "彩礼纠纷"]
    with runtime.session() as s:
        assert config_store.latest(s) is None
        v = config_store.save(s, runtime.settings, {"keyword_schemes": schemes}, "admin", T0, comment="加词")
    assert v is not None and v.id == 1 and v.changed == ["keyword_schemes"]
    assert "+  - 彩礼纠纷" in v.diff and v.username == "admin" and v.comment == "加词"
    name = runtime.settings.keyword_schemes[0].name
    assert f"* keyword_schemes[{name}].event：增加 彩礼纠纷" in v.diff.splitlines()  # field-level line
    # what every command sees: the file with the version over it; other sections from the file
    loaded = Runtime.load()
    try:
        assert loaded.config_version == 1
        assert "彩礼纠纷" in loaded.settings.keyword_schemes[0].event
        assert loaded.settings.roster == runtime.settings.roster
        assert loaded.seed is not None and "彩礼纠纷" not in loaded.seed.keyword_schemes[0].event
    finally:
        loaded.close()
    # the spiders' own loader (child process of a crawl) sees it too
    from crawlers.context import load_yuqing_settings

    assert "彩礼纠纷" in load_yuqing_settings().keyword_schemes[0].event
    # saving the same again records nothing
    with runtime.session() as s:
        assert config_store.save(s, runtime.settings, {"keyword_schemes": schemes}, "admin", T0) is None


def test_invalid_change_rejected_with_field_errors(runtime: Runtime) -> None:
    sources = config_store.section_data(runtime.settings, "sources")
    sources[0]["interval_minutes"] = 0
    roster = config_store.section_data(runtime.settings, "roster")
    roster["shifts"].append({"people": ["nobody"], "weekdays": [1]})
    with runtime.session() as s, pytest.raises(ConfigInvalid) as caught:
        config_store.save(s, runtime.settings, {"sources": sources, "roster": roster}, "admin", T0)
    errors = caught.value.errors
    assert errors["sources.0.interval_minutes"] == "应大于或等于 1"
    assert "未定义的人员: nobody" in errors["roster"]
    with runtime.session() as s:
        assert config_store.latest(s) is None  # nothing saved


def test_secrets_refused_only_names_stored(runtime: Runtime) -> None:
    sources = config_store.section_data(runtime.settings, "sources")
    sources[0]["cookie_env"] = "SUB=_2A25Lxyz; SUBP=0033"
    channels = [{"name": "robot", "type": "wecom",
                 "webhook_env": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc"},
                {"name": "slack", "type": "slack", "token_env": "YUQING_SLACK_TOKEN", "channel": "C1",
                 "base_url": "https://slack.example/api?token=xoxb-123456-abcdef"},
                {"name": "mail", "type": "email", "smtp_host": "smtp://bot:hunter22@mail.example"}]
    with runtime.session() as s, pytest.raises(ConfigInvalid) as caught:
        config_store.save(s, runtime.settings, {"sources": sources, "channels": channels}, "admin", T0)
    errors = caught.value.errors
    assert "环境变量的名称" in errors["sources.0.cookie_env"]
    assert "环境变量的名称" in errors["channels.0.webhook_env"]
    assert "疑似密钥" in errors["channels.1.base_url"] and "疑似密钥" in errors["channels.2.smtp_host"]
    channels = [{"name": "robot", "type": "wecom", "webhook_env": "YUQING_WECOM_WEBHOOK"}]
    with runtime.session() as s:
        v = config_store.save(s, runtime.settings, {"channels": channels}, "admin", T0)
    assert v is not None and v.sections["channels"][0]["webhook_env"] == "YUQING_WECOM_WEBHOOK"


def test_diff_history_and_rollback(runtime: Runtime) -> None:
    seed = runtime.settings
    roster = config_store.section_data(seed, "roster")
    roster["ack_timeout_minutes"] = 5
    with runtime.session() as s:
        v1 = config_store.save(s, seed, {"roster": roster}, "alice", T0)
        roster2 = dict(roster, ack_timeout_minutes=30)
        v2 = config_store.save(s, seed, {"roster": roster2}, "bob", T0 + timedelta(minutes=5))
        assert v1 and v2 and v2.changed == ["roster"]
        assert "-  ack_timeout_minutes: 5" in v2.diff and "+  ack_timeout_minutes: 30" in v2.diff
        assert "* roster.ack_timeout_minutes：5.0 → 30.0" in v2.diff.splitlines()
        back = config_store.rollback(s, seed, v1.id, "carol", T0 + timedelta(minutes=9))
        assert back is not None and back.rollback_of == v1.id and back.sections == v1.sections
        assert "回滚到版本 1" in back.comment
        eff, vid = config_store.effective(s, seed)
        assert vid == back.id and eff.roster.ack_timeout_minutes == 5
        assert [v.username for v in config_store.history(s)] == ["carol", "bob", "alice"]
        assert config_store.rollback(s, seed, v1.id, "carol", T0) is None  # already equal


def test_reload_swaps_runtime_settings(runtime: Runtime) -> None:
    assert config_store.reload(runtime) is False or runtime.config_version is None
    schemes = _schemes(runtime)
    schemes.append({"name": "新方案", "subject": ["妇联"], "event": ["拐卖"]})
    with runtime.session() as s:
        v = config_store.save(s, runtime.settings, {"keyword_schemes": schemes}, "admin", T0)
    assert config_store.reload(runtime) is True
    assert runtime.config_version == v.id and runtime.settings.scheme("新方案").event == ["拐卖"]
    assert config_store.reload(runtime) is False


def test_broken_stored_version_is_reported(runtime: Runtime) -> None:
    from yuqing.db.models import ConfigVersionRow

    with runtime.session() as s:  # a version that no longer validates (e.g. written by an older release)
        s.add(ConfigVersionRow(created_at=T0, username="x", comment="", sections={"sources": [{"name": "a"}]},
                               changed=["sources"], diff=""))
    with pytest.raises(ConfigError, match="配置版本 1"):
        Runtime.load()
    assert config_store.reload(runtime) is False  # the running service keeps what it has


def test_export_import_round_trip(runtime: Runtime, tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from app.cli import app

    cli = CliRunner()
    out1 = tmp_path / "a.yaml"
    result = cli.invoke(app, ["config", "export", str(out1)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out1.read_text(encoding="utf-8"))
    assert data["keyword_schemes"] == _schemes(runtime)
    data["keyword_schemes"][0]["event"].append("彩礼纠纷")
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    edited = tmp_path / "b.yaml"
    edited.write_text(text, encoding="utf-8")
    result = cli.invoke(app, ["config", "import", str(edited), "--user", "ops"])
    assert result.exit_code == 0, result.output
    assert "已导入为配置版本 1" in result.output
    out2 = tmp_path / "c.yaml"
    assert cli.invoke(app, ["config", "export", str(out2)]).exit_code == 0
    assert yaml.safe_load(out2.read_text(encoding="utf-8")) == data  # round trip
    assert cli.invoke(app, ["config", "export", str(tmp_path / "d.yaml")]).exit_code == 0
    assert (tmp_path / "d.yaml").read_text(encoding="utf-8") == out2.read_text(encoding="utf-8")
    with runtime.session() as s:
        v = config_store.latest(s)
    assert v is not None and v.username == "ops" and v.changed == ["keyword_schemes"]
    # all or nothing: one bad field, nothing recorded
    bad = tmp_path / "bad.yaml"
    data["sources"][0]["interval_minutes"] = 0
    data["keyword_schemes"][0]["event"].append("不应保存")
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = cli.invoke(app, ["config", "import", str(bad)])
    assert result.exit_code != 0
    assert "interval_minutes" in str(result.exception) and "bad.yaml" in str(result.exception)
    with runtime.session() as s:
        assert config_store.latest(s).id == 1
    # re-importing the same file records nothing new
    result = cli.invoke(app, ["config", "import", str(edited)])
    assert "未记录新版本" in result.output


def test_reload_if_due_checks_at_most_once_per_period(runtime: Runtime) -> None:
    clock = iter([100.0, 105.0, 121.0]).__next__
    assert config_store.reload_if_due(runtime, 20, clock) is False  # checked: nothing stored yet
    with runtime.session() as s:
        roster = dict(config_store.section_data(runtime.settings, "roster"), ack_timeout_minutes=3)
        config_store.save(s, runtime.settings, {"roster": roster}, "admin", T0)
    assert config_store.reload_if_due(runtime, 20, clock) is False  # 5 s later: not checked again
    assert runtime.settings.roster.ack_timeout_minutes != 3
    assert config_store.reload_if_due(runtime, 20, clock) is True  # 21 s later: the new version
    assert runtime.settings.roster.ack_timeout_minutes == 3


def test_export_never_writes_a_password_of_a_url(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"database_url": "postgresql+psycopg://yq:s3cret@db:5432/yuqing"})
    text = config_store.export_yaml(settings)
    assert "s3cret" not in text and "postgresql+psycopg://yq:***@db:5432/yuqing" in text
