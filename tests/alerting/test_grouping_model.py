"""The fitted "same event" grouper: evidence, hard place rules, the candidate index, and replays.

Replays go through ``app.replay.replay`` (real engine, real SQLite) on small hand-made scenarios
in tests/alerting/grouping_scenarios/; the tuning-timeline check runs the engine's decision code
in memory (bench/fit_grouping.py ``simulate``: the same ``group_model`` calls on the same states),
because a full multi-day replay takes minutes.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerting.engine import group_model
from alerting.engine.evidence import IncidentState, PostEvidence, descriptors
from alerting.engine.group_eval import pred_from_incidents, read_gold, score
from app.replay import replay
from tests.conftest import write_config
from yuqing.settings import load_settings

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "grouping_scenarios"
T0 = datetime(2026, 3, 9, 2, 0)


def _state(*texts: str, category: str = "emergency") -> IncidentState:
    state = IncidentState()
    for text in texts:
        state.add(PostEvidence.of(text, category, T0))
    return state


def test_place_conflict_blocks_a_join_whatever_the_words() -> None:
    state = _state("全州县才湾镇一幼儿园围墙倒塌，3名幼儿受伤送医")
    same_words_other_county = PostEvidence.of("郸城县汲冢镇一幼儿园围墙倒塌，3名幼儿受伤送医", "emergency", T0)
    cand = group_model.Candidate(1, state, "emergency", T0)
    assert not group_model.allowed(same_words_other_county, cand)
    assert group_model.decide(same_words_other_county, [cand], threshold=0.0) is None
    no_place = PostEvidence.of("幼儿园围墙倒塌，3名幼儿受伤送医，家长都赶去医院了", "emergency", T0)
    assert group_model.allowed(no_place, cand)
    assert group_model.decide(no_place, [cand]) is not None


def test_dismissed_incident_takes_no_post_of_another_place() -> None:
    state = _state("于都县一小学发生踩踏，好多学生被送去医院了")
    elsewhere = PostEvidence.of("江西省赣州市一小学发生踩踏，多名学生受伤", "emergency", T0)  # the city around it
    open_cand = group_model.Candidate(1, state, "emergency", T0)
    dismissed = group_model.Candidate(1, state, "emergency", T0, dismissed=True)
    assert group_model.allowed(elsewhere, open_cand)
    # compatible (赣州 contains 于都) but not at the same place: a dismissed incident does not take it
    same = PostEvidence.of("于都县那所小学踩踏是演练视频", "emergency", T0)
    assert group_model.allowed(same, dismissed)


def test_model_prefers_the_same_place_and_decays_with_time() -> None:
    post = PostEvidence.of("全州县才湾镇幼儿园围墙倒塌后续：涉事园长被带走调查", "emergency", T0 + timedelta(hours=3))
    here = group_model.Candidate(1, _state("全州县才湾镇南一村一民办幼儿园围墙倒塌，3名幼儿受伤"), "emergency", T0)
    ranked = group_model.ranked(post, [here])
    assert ranked and ranked[0][0] == 1 and ranked[0][1] >= group_model.model()["threshold"]
    later = PostEvidence.of(post_text := "全州县才湾镇幼儿园围墙倒塌后续：涉事园长被带走调查", "emergency",
                            T0 + timedelta(days=10))
    assert post_text
    assert group_model.ranked(later, [here])[0][1] < ranked[0][1]


def test_descriptors_ages_jobs_and_named_schools() -> None:
    found = descriptors("4岁女童在才湾镇中心幼儿园受伤，校车司机被控制")
    assert {"age:4", "job:校车司机", "org:才湾镇中心幼儿园"} <= found
    assert "age:13" in descriptors("一名十三岁女孩")


def test_state_stays_small_and_round_trips() -> None:
    state = IncidentState()
    for i in range(200):
        state.add(PostEvidence.of(f"第{i}条：全州县才湾镇幼儿园围墙倒塌，伤者{i}号已出院，家长{i}发声", "emergency", T0))
    data = state.to_json()
    assert len(data["c"]) <= 60 and len(data["x"]) <= 6 and len(data["ch"]) <= 120 and data["n"] == 200
    assert len(json.dumps(data, ensure_ascii=False)) < 20000
    back = IncidentState.from_json(data)
    assert back.to_json() == data


def test_index_returns_a_bounded_candidate_list_among_thousands() -> None:
    index = group_model.TermIndex()
    for i in range(3000):
        index.put(i, _state(f"第{i}号：一女子遭丈夫家暴致重伤，妇联已介入" if i % 2 else f"事件{i}：校园欺凌视频流传"))
    target = _state("衡南县栗江镇一女子遭丈夫殴打致颅骨骨折", category="rights")
    index.put("target", target)
    found = index.lookup(PostEvidence.of("衡南县栗江镇女子被家暴后续：施暴者被拘", "rights", T0))
    assert "target" in found and len(found) <= group_model.MAX_CANDIDATES
    index.drop("target")
    assert "target" not in index.lookup(PostEvidence.of("衡南县栗江镇女子被家暴", "rights", T0))


def _replay(name: str, tmp: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
    settings = load_settings(write_config(tmp))
    inc = tmp / "inc.jsonl"
    report = replay(SCENARIOS / name, tmp / "out.jsonl", inc, tail=timedelta(hours=1), settings=settings)
    return read_gold(SCENARIOS / name), pred_from_incidents(inc), report.errors


def test_replay_eyewitness_update_commentary_join_and_concurrent_event_opens_its_own(tmp_path: Path) -> None:
    gold, pred, errors = _replay("two_kindergartens.jsonl", tmp_path)
    assert errors == []
    # the eyewitness post naming no place, the parent's hospital update and the commentary join the
    # official notice; the other kindergarten emergency the same morning opens its own incident
    assert len({pred[p] for p in ("a1", "a2", "a3", "a4", "a5")}) == 1
    assert len({pred[p] for p in ("b1", "b2", "b3")}) == 1
    assert pred["a1"] != pred["b1"]
    result = score(gold, pred)
    assert (result.pair_precision, result.pair_recall) == (1.0, 1.0)


def test_replay_first_post_of_new_emergency_not_swallowed_by_dismissed_incident(tmp_path: Path) -> None:
    gold, pred, errors = _replay("dismissed_then_new.jsonl", tmp_path)
    assert errors == []
    assert pred["c1"] == pred["c2"]
    assert pred["d1"] == pred["d2"] != pred["c1"]


@pytest.mark.parametrize("name, min_p, min_r", [("tl_01", 0.97, 0.85), ("tl_08", 0.97, 0.87)])
def test_tuning_timelines_grouping_figures(name: str, min_p: float, min_r: float) -> None:
    """Figures reached when fitting (tl_01 P 1.000 R 0.880, tl_08 P 1.000 R 0.897) minus a margin."""
    sys.path.insert(0, str(HERE.parent.parent / "bench"))
    import fit_grouping

    items = fit_grouping.read_items(name)
    pred = fit_grouping.simulate(items, fit_grouping.evidence_of(items), None,
                                 group_model.model().get("merge_threshold"))
    result = score(read_gold(HERE / "timelines" / f"{name}.jsonl"), pred)
    assert result.pair_precision >= min_p and result.pair_recall >= min_r, result.line()


def test_placeless_first_person_account_joins_at_the_lower_threshold() -> None:
    """An eyewitness or parent naming no place needs only ``placeless_first_person_threshold``; a
    commentary asking 为什么, or a post that names a place, needs the fitted threshold."""
    m = group_model.model()
    low, normal = float(m["placeless_first_person_threshold"]), float(m["threshold"])
    assert low < normal
    parent = PostEvidence.of("我儿子在那辆车上，额头磕破了，现在往县医院赶", "emergency", T0)
    commentary = PostEvidence.of("为什么农村学生接送车辆超载屡禁不止？\n正规校车覆盖不到的村子", "emergency", T0)
    placed = PostEvidence.of("我儿子在郸城县那辆车上，额头磕破了", "emergency", T0)
    assert parent.first_person and not parent.places
    assert group_model.join_threshold(parent) == low
    assert not commentary.first_person and group_model.join_threshold(commentary) == normal
    assert placed.places and group_model.join_threshold(placed) == normal
    assert group_model.join_threshold(parent, 0.4) == 0.4  # a configured threshold below it wins
