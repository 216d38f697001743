"""Playbook files: all five categories × three stages valid and specific; broken files named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from playbooks.loader import load_all, playbooks_dir, validate_dir
from playbooks.schema import PLAYBOOK_STAGES
from yuqing.errors import ConfigError
from yuqing.settings import load_settings

REPO_DIR = playbooks_dir(None)
SPECIFIC = {
    "rights": ["contact_victim", "coordinate_police", "privacy_review"],
    "policy": ["policy_explainer", "consult_issuer"],
    "image": ["discipline_inspection", "publish_result"],
    "emergency": ["casualty_liaison", "align_with_authorities", "family_aftercare"],
    "work": ["review_records", "rectification"],
}


def test_all_categories_and_stages_present_and_valid() -> None:
    report = validate_dir(REPO_DIR)
    assert report.errors == []
    assert sorted(report.playbooks) == ["emergency", "image", "policy", "rights", "work"]
    for category, book in report.playbooks.items():
        assert tuple(book.stages) == PLAYBOOK_STAGES
        for stage, plan in book.stages.items():
            assert any(i.required for i in plan.items), (category, stage)
            assert all(i.due is not None for i in plan.items if i.required), (category, stage)
        # seed 002 stage lists and seed 003 principles in every playbook
        ids = {i.id for plan in book.stages.values() for i in plan.items}
        assert {"collect_info", "analyze_trend", "judge_level", "alert_leaders", "form_team", "establish_facts",
                "first_response", "prevent_second_wave", "after_action_review", "archive"} <= ids
        assert any("快报事实、慎报原因、重在态度" in p for p in book.principles)
        for item_id in SPECIFIC[category]:
            assert book.item(item_id) is not None, (category, item_id)
        # the first response is due at the deadline
        stage, first = book.item("first_response")
        assert stage == "response" and first.due.anchor == "deadline" and first.due.hours == 0


def test_privacy_items_where_victims_or_minors_are_involved() -> None:
    books = validate_dir(REPO_DIR).playbooks
    for category in ("rights", "emergency"):
        assert sum(i.privacy for plan in books[category].stages.values() for i in plan.items) >= 3


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "pb"
    target.mkdir()
    for f in REPO_DIR.glob("*.yaml"):
        shutil.copy(f, target / f.name)
    return target


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_unknown_role_names_file_item_and_problem(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "rights.yaml", lambda x: x["stages"]["response"]["items"][1].update(role="权益处"))
    errors = validate_dir(d).errors
    assert len(errors) == 1
    assert "rights.yaml" in errors[0] and "应对阶段" in errors[0] and "第 2 项" in errors[0]
    assert "id=contact_victim" in errors[0] and "role" in errors[0] and "未知角色“权益处”" in errors[0]


def test_missing_field_bad_anchor_duplicate_and_missing_stage(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "policy.yaml", lambda x: x["stages"]["warning"]["items"][0].pop("text"))
    _edit(d / "image.yaml", lambda x: x["stages"]["warning"]["items"][0]["due"].update({"from": "lunch"}))
    _edit(d / "work.yaml", lambda x: x["stages"]["aftermath"]["items"][0].update(id="collect_info"))
    _edit(d / "emergency.yaml", lambda x: x["stages"].pop("aftermath"))
    errors = "\n".join(validate_dir(d).errors)
    assert "policy.yaml：预警阶段（warning） 第 1 项（id=collect_info） 字段 内容 text：缺少必填字段" in errors
    assert "image.yaml" in errors and "时限起点 from" in errors and "'lunch'" in errors
    assert "work.yaml" in errors and "“collect_info” 重复" in errors
    assert "emergency.yaml" in errors and "缺少阶段: aftermath" in errors


def test_anchor_of_another_stage_is_refused(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "work.yaml", lambda x: x["stages"]["aftermath"]["items"][0]["due"].update({"from": "warning_start"}))
    (error,) = validate_dir(d).errors
    assert "work.yaml" in error and "rectification" in error and "warning_start 不属于本阶段 aftermath" in error


def test_yaml_syntax_missing_file_and_wrong_category(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "rights.yaml").write_text("category: rights\nstages: [unclosed\n", encoding="utf-8")
    (d / "policy.yaml").unlink()
    _edit(d / "image.yaml", lambda x: x.update(category="work"))
    errors = "\n".join(validate_dir(d).errors)
    assert "rights.yaml：YAML 语法错误 第 3 行" in errors
    assert "policy.yaml：缺少政策解读类剧本文件" in errors
    assert "image.yaml：category 为 work" in errors


def test_load_all_raises_config_error_for_start_up(tmp_path: Path, config_file: Path) -> None:
    d = _copy(tmp_path)
    _edit(d / "rights.yaml", lambda x: x["stages"]["warning"]["items"][0].update(role="路人"))
    settings = load_settings(config_file)
    settings.playbooks_dir = str(d)
    with pytest.raises(ConfigError) as exc:
        load_all(settings)
    assert "rights.yaml" in str(exc.value) and "id=collect_info" in str(exc.value) and "路人" in str(exc.value)
    settings.playbooks_dir = str(REPO_DIR)
    assert len(load_all(settings)) == 5


def test_doctor_and_init_stop_on_a_broken_playbook(tmp_path: Path, config_file: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from app.cli import app
    from app.doctor import run_checks

    d = _copy(tmp_path)
    _edit(d / "emergency.yaml", lambda x: x["stages"]["response"]["items"][1].update(required="maybe"))
    data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    data["playbooks_dir"] = str(d)
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    results = {r.name: r for r in run_checks(str(config_file))}
    assert not results["应对剧本"].ok
    assert "emergency.yaml" in results["应对剧本"].detail and "casualty_liaison" in results["应对剧本"].detail
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError) and "casualty_liaison" in str(result.exception)
