"""Routing to federation units through the replay: each county gets only its own incidents, a breach
is also reported to the city (上报), an incident naming no place goes to the city's triage, and a
moved incident's next reminders go to its new unit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.replay import parse_duration, replay
from tests.app.replay_helpers import SCENARIOS, Replayed
from tests.app.units_config import UNITS
from tests.conftest import write_config
from yuqing.settings import load_settings


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    tmp = tmp_path_factory.mktemp("units")
    settings = load_settings(write_config(tmp, {"units": UNITS}))
    out, inc = tmp / "out.jsonl", tmp / "inc.jsonl"
    report = replay(SCENARIOS / "units.jsonl", out, inc, tail=parse_duration("14h"), settings=settings)
    read = lambda p: [json.loads(line) for line in Path(p).read_text(encoding="utf-8").splitlines() if line]  # noqa: E731
    return Replayed(read(out), read(inc), [], report.errors)


def _notes(r: Replayed, post_id: str, kind: str | None = None) -> list[dict]:
    iid = r.of(post_id)["id"]
    return [n for n in r.notes if n["incident_id"] == iid and (kind is None or n["kind"] == kind)]


def test_every_line_names_its_unit(run: Replayed) -> None:
    assert run.errors == []
    assert run.notes and all(n.get("unit") in {"xm", "siming", "huli"} for n in run.notes)


def test_counties_get_only_their_own_incidents(run: Replayed) -> None:
    assert {n["unit"] for n in _notes(run, "s1", "new_incident")} == {"siming"}
    assert {n["unit"] for n in _notes(run, "h1")} == {"huli"}  # responded in time: never reported up
    assert not [n for n in _notes(run, "s1") if n["unit"] == "huli"]


def test_breach_is_also_sent_to_the_city(run: Replayed) -> None:
    breaches = _notes(run, "s1", "breach")
    assert {n["unit"] for n in breaches} == {"siming", "xm"}
    reminders = _notes(run, "s1", "reminder")
    assert reminders and {n["unit"] for n in reminders} == {"siming"}  # below severity 3: no 上报


def test_severity_three_is_reported_up_from_the_start(run: Replayed) -> None:
    assert {n["unit"] for n in _notes(run, "e3", "new_incident")} == {"siming", "xm"}
    assert {n["unit"] for n in _notes(run, "e3", "reminder")} == {"siming"}  # the county's own duty chain
    assert {n["unit"] for n in _notes(run, "s1", "new_incident")} == {"siming"}  # 一般 (2): the county alone


def test_county_without_a_unit_goes_to_the_lowest_unit_with_a_roster(run: Replayed) -> None:
    assert {n["unit"] for n in _notes(run, "j1", "new_incident")} == {"xm"}  # 集美区 has no federation unit here


def test_no_place_goes_to_the_root_triage(run: Replayed) -> None:
    assert {n["unit"] for n in _notes(run, "n1", "new_incident")} == {"xm"}


def test_moved_incident_changes_owner_and_reminders_follow(run: Replayed) -> None:
    assert {n["unit"] for n in _notes(run, "m1", "new_incident")} == {"siming"}  # before the move
    moved_at = "2026-03-02T11:00:00+08:00"
    before = [n for n in _notes(run, "m1") if n["time"] < moved_at]
    assert before and {n["unit"] for n in before} == {"siming"}
    later = [n for n in _notes(run, "m1") if n["time"] > moved_at and n["kind"] in ("reminder", "breach")]
    assert later, "the moved incident still has reminders"
    assert {n["unit"] for n in later if n["unit"] != "xm"} == {"huli"}
    assert {n["unit"] for n in _notes(run, "m1", "breach")} == {"huli", "xm"}  # its 上报 goes to the city
