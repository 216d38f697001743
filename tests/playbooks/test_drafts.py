"""The response draft checker on good and bad drafts: every rule fires at least once."""

from __future__ import annotations

from pathlib import Path

import pytest

from playbooks.drafts import check_draft, default_rules, has_errors, load_rules
from yuqing.errors import ConfigError

GOOD = ("【情况通报】3月2日上午，网民反映某区一名女童在校遭受欺凌。经初步核实，该女童目前已送医治疗，身体无大碍。"
        "对此我们深感痛心。区妇联已成立工作组，会同教育部门和公安机关开展调查，已安排专人为其家庭提供心理疏导和法律援助。"
        "事件原因正在调查，以警方通报为准。我们将于今晚20时前通报最新进展。"
        "如需帮助，请拨打妇女维权公益服务热线12338或区妇联电话 010-66889899。")

BAD_DRAFTS = {
    "no_comment": "对于记者提问，我们无可奉告。",
    "leadership_stressed": "区妇联领导高度重视，第一时间作出重要批示。",
    "scapegoat": "经查，此事系临时工擅自所为。",
    "personal_act": "该行为纯属个人行为。",
    "cause_as_fact": "此次事件的原因是当事人情绪失控。",
    "personal_data": "受害人王芳（13岁），联系电话13812345678。",
    "victim_details": "该女童就读于实验小学三年级2班。",
    "empty_words": "我们将认真贯彻落实有关要求。",
    "vague_numbers": "现场聚集了数百人。",
    "missing_facts": "我们无可奉告。",
    "missing_actions": "我们无可奉告。",
    "missing_next_update": "我们无可奉告。",
    "missing_contact": "我们无可奉告。",
    "missing_attitude": "我们无可奉告。",
}


def _ids(findings) -> set[str]:
    return {f.rule_id for f in findings}


def test_good_draft_has_no_findings() -> None:
    assert check_draft(GOOD) == []
    assert check_draft(GOOD, incident={"category": "rights"}) == []


@pytest.mark.parametrize("rule_id", sorted(BAD_DRAFTS))
def test_each_rule_on_a_bad_draft(rule_id: str) -> None:
    findings = check_draft(BAD_DRAFTS[rule_id], incident={"category": "rights"})
    hits = [f for f in findings if f.rule_id == rule_id]
    assert hits, findings
    for f in hits:
        assert f.seed.startswith("种子00") and f.message
        if f.span:
            assert f.excerpt == BAD_DRAFTS[rule_id][f.span[0]:f.span[1]] or f.excerpt.endswith(
                BAD_DRAFTS[rule_id][f.span[0]:f.span[1]])


def test_every_rule_of_the_data_file_is_exercised() -> None:
    covered = set(BAD_DRAFTS) | {"too_long"}
    assert {r.id for r in default_rules()} == covered


def test_spans_and_severities() -> None:
    text = "对于记者提问，我们无可奉告。"
    (f,) = [f for f in check_draft(text) if f.rule_id == "no_comment"]
    assert f.severity == "error" and text[f.span[0]:f.span[1]] == "无可奉告"
    assert "冷性词汇" in f.seed
    assert has_errors(check_draft(text)) and not has_errors(check_draft(GOOD))
    # errors come first
    levels = [f.severity for f in check_draft(BAD_DRAFTS["personal_data"] + BAD_DRAFTS["vague_numbers"])]
    assert levels == sorted(levels, key=["error", "warning", "info"].index)


def test_leadership_late_in_a_factual_draft_is_fine_but_repeated_is_not() -> None:
    late = GOOD.replace("对此我们深感痛心。", "对此我们深感痛心，区妇联高度重视。")
    assert "leadership_stressed" not in _ids(check_draft(late))
    twice = GOOD + "市妇联领导高度重视，亲自部署。"
    assert "leadership_stressed" in _ids(check_draft(twice))


def test_hedged_cause_is_fine() -> None:
    assert "cause_as_fact" not in _ids(check_draft("据初步了解，原因是车辆失控，具体以警方通报为准。"))
    assert "cause_as_fact" in _ids(check_draft("事故是由于司机酒后驾驶。"))


def test_public_hotline_is_not_personal_data_but_a_mobile_is() -> None:
    assert "personal_data" not in _ids(check_draft("咨询电话：010-66889899。"))
    found = [f for f in check_draft("咨询电话：13812345678。") if f.rule_id == "personal_data"]
    assert found and "13812345678" in found[0].excerpt
    assert "personal_data" in _ids(check_draft("身份证号110101201001011234。"))


def test_category_rules_and_platform_length() -> None:
    assert "victim_details" not in _ids(check_draft(BAD_DRAFTS["victim_details"], incident={"category": "policy"}))
    long_text = GOOD + "我们将持续跟进。" * 60
    assert "too_long" in _ids(check_draft(long_text, platform="weibo"))
    assert "too_long" not in _ids(check_draft(long_text, platform="wechat"))
    (f,) = [f for f in check_draft(long_text, platform="douyin") if f.rule_id == "too_long"]
    assert "douyin 建议不超过 300 字" in f.message


def test_rules_are_extendable_as_data(tmp_path: Path) -> None:
    base = Path(__file__).resolve().parents[2] / "playbooks" / "draft_rules.yaml"
    (tmp_path / "draft_rules.yaml").write_text(base.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "draft_rules.d").mkdir()
    (tmp_path / "draft_rules.d" / "local.yaml").write_text(
        "rules:\n  - id: jargon\n    kind: phrase\n    severity: info\n    patterns: ['舆情处置']\n"
        "    message: 避免专业术语\n    seed: 种子003：避免使用过多专业术语\n", encoding="utf-8")
    rules = load_rules(tmp_path)
    assert "jargon" in _ids(check_draft(GOOD + "我们正在做舆情处置。", rules=rules))


def test_broken_rule_file_names_file_rule_and_field(tmp_path: Path) -> None:
    (tmp_path / "draft_rules.yaml").write_text(
        "rules:\n  - id: bad_regex\n    kind: phrase\n    patterns: ['(unclosed']\n    message: 消息\n    seed: 种子003\n"
        "  - id: no_hedges\n    kind: cause\n    patterns: ['原因是']\n    message: 消息\n    seed: 种子003\n",
        encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_rules(tmp_path)
    text = str(exc.value)
    assert "draft_rules.yaml：第 1 条规则（id=bad_regex） 字段 patterns" in text and "无效" in text
    assert "第 2 条规则（id=no_hedges）" in text and "hedges" in text
