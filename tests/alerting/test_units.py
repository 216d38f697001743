"""Federation units: the settings' tree is validated, routing picks the lowest unit with a roster,
and the outbox writes each notification to the owner unit's channels and roster (上报 copy to the
parent) — with a real SQLite instance and the real sender writing the units' own file channels."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from alerting import units
from alerting.engine.notify import send
from alerting.sender import send_due
from tests.alerting.conftest_notify import T0, add_incident
from tests.app.units_config import UNITS, roster
from tests.conftest import write_config
from yuqing.db.migrate import upgrade
from yuqing.db.models import IncidentRow, NotificationRow
from yuqing.errors import ConfigError
from yuqing.runtime import Runtime
from yuqing.settings import Settings, load_settings
from yuqing.timeutil import SimClock


def settings_with(unit_list: list[dict[str, Any]], **extra: Any) -> Settings:
    return Settings.model_validate({"units": unit_list, **extra})


def _bad(unit_list: list[dict[str, Any]], **extra: Any) -> str:
    with pytest.raises(ValidationError) as info:
        settings_with(unit_list, **extra)
    return str(info.value)


def test_units_tree_is_validated() -> None:
    ok = settings_with(UNITS)
    assert [u.region for u in ok.units] == ["350200000000", "350203000000", "350206000000"]
    twice = copy.deepcopy(UNITS) + [dict(copy.deepcopy(UNITS[1]))]
    assert "单位 id 重复: siming" in _bad(twice)
    orphan = copy.deepcopy(UNITS)
    orphan[2]["parent"] = "fujian"
    assert "上级 fujian 未定义" in _bad(orphan)
    cycle = copy.deepcopy(UNITS)
    cycle[0]["parent"] = "siming"
    assert "顶级单位" in _bad(cycle)  # no root left
    loop = copy.deepcopy(UNITS) + [
        {"id": "a", "name": "甲镇妇联", "region": "350203001000", "level": "town", "parent": "b"},
        {"id": "b", "name": "乙镇妇联", "region": "350203002000", "level": "town", "parent": "a"}]
    assert "有环" in _bad(loop)
    assert "6 位或 12 位数字" in _bad([{**UNITS[0], "region": "35020"}])
    assert "与级别 city 不符" in _bad([{**UNITS[0], "level": "city", "region": "350203"}])
    assert "level" in _bad([{**UNITS[0], "level": "district"}])
    assert "只用于镇街" in _bad([{**UNITS[0], "region": "350200/某街道"}])
    assert "6 位或 12 位数字" in _bad([{**UNITS[0], "region": "350203/"}])
    outside = copy.deepcopy(UNITS)
    outside[2]["region"] = "410102"  # a county of 郑州 under 厦门
    assert "不在上级 xm" in _bad(outside)
    unknown_person = copy.deepcopy(UNITS)
    unknown_person[1]["roster"]["shifts"] = [{"people": ["ghost"]}]
    assert "未定义的人员: ghost" in _bad(unknown_person)
    conflict = copy.deepcopy(UNITS)
    conflict[2]["roster"]["people"].append({"id": "siming_duty", "name": "另一个人"})
    assert "定义不一致" in _bad(conflict)
    unknown_channel = copy.deepcopy(UNITS)
    unknown_channel[1]["channels"] = ["nowhere"]
    assert "未定义的渠道: nowhere" in _bad(unknown_channel)
    clash = copy.deepcopy(UNITS)
    clash[1]["channels"] = [{"name": "file", "type": "file", "path": "a.jsonl"}]
    assert "重名" in _bad(clash, channels=[{"name": "file", "type": "file"}])


def test_bad_units_in_the_file_name_the_file_and_field(tmp_path: Path) -> None:
    bad = copy.deepcopy(UNITS)
    bad[1]["level"] = "district"
    path = write_config(tmp_path, {"units": bad})
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and "units[1].level" in str(info.value)


def test_route_lowest_unit_with_a_roster() -> None:
    tree = copy.deepcopy(UNITS) + [
        # a town federation without a roster of its own: its incidents go to its county
        {"id": "lianqian", "name": "莲前街道妇联", "region": "350203008000", "level": "town", "parent": "siming"},
        # a town with a roster: the lowest unit with one wins
        {"id": "jialian", "name": "嘉莲街道妇联", "region": "350203007000", "level": "town", "parent": "siming",
         "roster": roster("jl_duty", "jl_lead")}]
    tree.append({"id": "binhai", "name": "滨海街道妇联", "region": "350203/滨海街道", "level": "town",
                 "parent": "siming", "roster": roster("bh_duty", "bh_lead")})  # a town by name, as regions have it
    s = settings_with(tree)
    assert s.units[-1].region == "350203000000/滨海街道"
    assert units.route(s, "350203000000/滨海街道", 0.8).unit.id == "binhai"
    assert units.route(s, "350203000000/滨海街道/黄厝社区", 0.8).unit.id == "binhai"
    assert units.route(s, "350203000000/莲前街道", 0.8).unit.id == "siming"
    assert units.route(s, "350203000000", 1.0).unit.id == "siming"
    assert units.route(s, "350203008001", 0.9).unit.id == "siming"  # a village of 莲前 (no roster there)
    assert units.route(s, "350203007002", 0.9).unit.id == "jialian"
    assert units.route(s, "350206", 1.0).unit.id == "huli"  # 6-digit codes too
    assert units.route(s, "350211000000", 1.0).unit.id == "xm"  # 集美区: no unit, the city has the roster
    triage = units.route(s, "350203000000", units.MIN_CONFIDENCE - 0.01)
    assert triage.unit.id == "xm" and "置信度" in triage.reason
    assert units.route(s, None, None).unit.id == "xm"
    assert units.route(s, "110105000000", 1.0).unit.id == "xm"  # outside every unit: root triage
    assert units.subtree(s, "siming") == {"siming", "lianqian", "jialian", "binhai"}
    assert units.subtree(s, "xm") is None  # the root sees everything
    assert units.visible(s, "huli", "siming") is False and units.visible(s, "xm", "jialian") is True
    assert units.visible(s, "siming", "jialian") is True and units.visible(s, "jialian", "siming") is False


def test_without_units_everything_is_the_one_root() -> None:
    s = Settings.model_validate({"roster": roster("a", "b")})
    only = units.root(s)
    assert only.id == units.ROOT_ID and units.roster_of(s, only) is s.roster
    assert units.route(s, "350203000000", 1.0).unit.id == units.ROOT_ID
    assert units.subtree(s, None) is None


def test_assign_follows_the_region_until_moved_by_hand() -> None:
    s = settings_with(UNITS)
    inc = IncidentRow(id=1, title="t", category="rights", severity=2, stage="warning", unit_id=None, unit_manual=False)
    inc.region_code, inc.region_confidence = "350203000000", 0.9
    assert units.assign(inc, s) is True and inc.unit_id == "siming"
    inc.region_code = "350206000000"  # more posts: the region changed
    assert units.assign(inc, s) is True and inc.unit_id == "huli"
    inc.unit_id, inc.unit_manual = "siming", True  # a person moved it: it sticks
    inc.region_code = "350211000000"
    assert units.assign(inc, s) is False and inc.unit_id == "siming"


@pytest.fixture
def unit_rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    tree = copy.deepcopy(UNITS)
    tree[1]["channels"] = [{"name": "siming_file", "type": "file", "path": "siming.jsonl"}]
    tree[2]["channels"] = ["shared"]
    path = write_config(tmp_path, {"units": tree, "channels": [
        {"name": "shared", "type": "file", "path": "shared.jsonl"},
        {"name": "city", "type": "file", "path": "city.jsonl"}],
        "notify": {"repeat_suppression_minutes": 60}})
    monkeypatch.setenv("YUQING_CONFIG", str(path))
    rt = Runtime(load_settings(path), SimClock(T0))
    upgrade(rt.engine)
    yield rt
    rt.close()


def _lines(rt: Runtime, name: str) -> list[dict[str, Any]]:
    file = rt.settings.data_file(name)
    return [json.loads(x) for x in file.read_text(encoding="utf-8").splitlines()] if file.exists() else []


def test_outbox_uses_the_owner_units_channels_and_roster(unit_rt: Runtime) -> None:
    inc_id = add_incident(unit_rt, severity=2)
    with unit_rt.session() as s:
        inc = s.get(IncidentRow, inc_id)
        inc.region_code, inc.region_confidence = "350203000000", 1.0
        assert send(s, kind="new_incident", incident=inc, text="新事件", now=T0, settings=unit_rt.settings,
                    key="open") == 1  # 一般: the county alone
        assert send(s, kind="breach", incident=inc, text="超时", now=T0, settings=unit_rt.settings,
                    key="late", level=1) == 3  # breach: the county, and 上报 to the city's two channels
    with unit_rt.session() as s:
        rows = list(s.scalars(select(NotificationRow).order_by(NotificationRow.id)))
        assert [(r.kind, r.unit_id, r.channel) for r in rows] == [
            ("new_incident", "siming", "siming_file"), ("breach", "siming", "siming_file"),
            ("breach", "xm", "shared"), ("breach", "xm", "city")]
        assert rows[0].recipients == ["siming_duty"]
        assert rows[1].recipients == ["siming_duty", "siming_lead"]  # level 1 of the county's escalation
        assert rows[2].recipients == ["xm_duty"] and rows[2].payload["extra"]["from_unit"] == "siming"
        assert s.get(IncidentRow, inc_id).unit_id == "siming"
    report = send_due(unit_rt, T0)
    assert report.sent == 4, report.errors
    assert [(n["kind"], n["unit"]) for n in _lines(unit_rt, "siming.jsonl")] == [
        ("new_incident", "siming"), ("breach", "siming")]
    assert [(n["kind"], n["unit"]) for n in _lines(unit_rt, "city.jsonl")] == [("breach", "xm")]
    assert [(n["kind"], n["unit"]) for n in _lines(unit_rt, "shared.jsonl")] == [("breach", "xm")]


def test_moved_incident_notifies_the_new_unit(unit_rt: Runtime) -> None:
    from yuqing.errors import YuqingError

    inc_id = add_incident(unit_rt, severity=2)
    with unit_rt.session() as s:
        inc = s.get(IncidentRow, inc_id)
        inc.region_code, inc.region_confidence = "350203000000", 1.0
        with pytest.raises(YuqingError, match="原因"):
            units.move(s, inc_id, "huli", "张三", T0, "  ", unit_rt.settings)
        with pytest.raises(YuqingError, match="不存在"):
            units.move(s, inc_id, "mars", "张三", T0, "地点有误", unit_rt.settings)
        units.move(s, inc_id, "huli", "张三", T0, "地点有误", unit_rt.settings)
        send(s, kind="reminder", incident=inc, text="提醒", now=T0, settings=unit_rt.settings, key="6h")
    with unit_rt.session() as s:
        row = s.scalar(select(NotificationRow).where(NotificationRow.kind == "reminder"))
        assert (row.unit_id, row.channel, row.recipients) == ("huli", "shared", ["huli_duty"])


def test_the_commented_example_in_the_default_config_is_valid() -> None:
    import yaml

    from yuqing.settings import DEFAULT_CONFIG

    lines = DEFAULT_CONFIG.read_text(encoding="utf-8").splitlines()
    start = lines.index("# units:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    data = yaml.safe_load("\n".join(block))
    s = Settings.model_validate({**data, "channels": [{"name": "console", "type": "console"},
                                                      {"name": "file", "type": "file"}]})
    assert [u.id for u in s.units] == ["xm", "siming", "huli", "lianqian"]
    assert units.route(s, "350203008004", 0.9).unit.id == "siming"  # the town has no roster
    assert units.subtree(s, "lianqian") == {"lianqian"}


def test_units_are_edited_as_a_config_section(tmp_path: Path) -> None:
    from yuqing import config_store

    assert "units" in config_store.EDITABLE_SECTIONS
    rt = Runtime(load_settings(write_config(tmp_path)), SimClock(T0))
    upgrade(rt.engine)
    try:
        seed = rt.settings
        assert seed.units == []  # the shipped file: units commented out, one root
        with rt.session() as s:
            config_store.save(s, seed, {"units": UNITS}, "admin1", T0, comment="四级联动")
        with rt.session() as s:
            effective, _ = config_store.effective(s, seed)
        assert units.route(effective, "350206000000", 1.0).unit.id == "huli"
        bad = copy.deepcopy(UNITS)
        bad[2]["parent"] = "nowhere"
        with rt.session() as s, pytest.raises(config_store.ConfigInvalid) as info:
            config_store.save(s, seed, {"units": bad}, "admin1", T0)
        assert "上级 nowhere 未定义" in str(info.value)
    finally:
        rt.close()
