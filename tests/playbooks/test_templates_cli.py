"""Templates filled with an incident's facts, and the CLI end to end on a real database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app
from playbooks import checklist
from playbooks.drafts import check_draft, has_errors
from playbooks.templates import render
from tests.playbooks.conftest import T0, make_incident
from yuqing.db.models import AuditRow, ResponseRow, StageHistoryRow
from yuqing.errors import YuqingError

CATEGORIES = ["policy", "rights", "image", "work", "emergency"]


@pytest.mark.parametrize("category", CATEGORIES)
def test_first_response_per_category_passes_the_checker(runtime, session, category: str) -> None:
    inc = make_incident(session, category=category)
    text = render("first_response", inc, session, T0 + timedelta(hours=3))
    assert "某地女童遭受欺凌事件" in text and "3月2日9时00分" in text
    assert "3月3日12时00分前通报最新进展" in text  # next update: now + 24 h, Shanghai time
    findings = check_draft(text, platform="wechat", incident=inc)
    assert not has_errors(findings), findings
    assert not [f for f in findings if f.rule_id.startswith("missing_")], findings


def test_category_specific_wording(runtime, session) -> None:
    texts = {c: render("first_response", make_incident(session, category=c), session, T0) for c in CATEGORIES}
    assert "公安机关" in texts["rights"] and "不传播涉及其身份" in texts["rights"]
    assert "纪检监察" in texts["image"]
    assert "政策原文" in texts["policy"]
    assert "专人联络" in texts["emergency"]
    assert "台账" in texts["work"]


def test_progress_update_and_review_carry_the_facts(runtime, session) -> None:
    inc = make_incident(session, category="rights", posts=3)
    start = T0 + timedelta(minutes=30)
    session.add(StageHistoryRow(incident_id=inc.id, from_stage=None, to_stage="warning", at=start, actor="system"))
    session.add(StageHistoryRow(incident_id=inc.id, from_stage="warning", to_stage="response",
                                at=start + timedelta(hours=1), actor="zhang", reason="启动应急预案"))
    checklist.instantiate(session, inc, "warning", start, runtime.settings)
    checklist.check(session, (inc.id, "collect_info"), "zhang", start + timedelta(minutes=20))
    checklist.skip(session, (inc.id, "no_identity_spread"), "li", start, "已统一提醒")
    inc.first_response_at = T0 + timedelta(hours=5)
    session.add(ResponseRow(incident_id=inc.id, kind="first", at=inc.first_response_at, url="https://weibo.com/x",
                            text="情况说明", author="zhang"))
    session.flush()

    update = render("progress_update", inc, session, T0 + timedelta(hours=8))
    assert "第 1 次通报" in update and "相关信息 3 条" in update and "微博 2 条、新闻网站 1 条" in update
    assert "收集相关信息，了解事件全貌" in update and "保护" in update

    review = render("review", inc, session, T0 + timedelta(days=3))
    assert "发现滞后 30分钟" in review and "用时 5小时，按时" in review
    assert "预警 → 应对（zhang：启动应急预案）" in review
    assert "转发 60，评论 15，点赞 21，阅读 300" in review
    assert "预警阶段（完成 1/6，跳过 1" in review and "理由：已统一提醒" in review
    assert "https://weibo.com/x" in review and "是否第一时间联系并保护了当事人" in review
    with pytest.raises(YuqingError, match="未知模板类型"):
        render("press_release", inc, session, T0)


def _seed_incident(runtime) -> int:
    with runtime.session() as s:
        inc = make_incident(s, category="work")
        checklist.instantiate(s, inc, "warning", T0 + timedelta(minutes=30), runtime.settings)
        return inc.id


def test_cli_playbook_commands(runtime, tmp_path: Path) -> None:
    cli = CliRunner()
    shown = cli.invoke(app, ["playbook", "show", "rights", "response"])
    assert shown.exit_code == 0 and "contact_victim" in shown.output and "权益部" in shown.output
    assert cli.invoke(app, ["playbook", "show", "nope"]).exit_code != 0
    valid = cli.invoke(app, ["playbook", "validate"])
    assert valid.exit_code == 0 and "剧本全部有效" in valid.output

    good = tmp_path / "good.txt"
    good.write_text("3月2日，网民反映有关情况。经核实，区妇联已成立工作组正在调查，对此深表关切。"
                    "我们将及时通报后续进展，咨询请拨打12338。", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text("领导高度重视。\n对此我们无可奉告。", encoding="utf-8")
    ok = cli.invoke(app, ["playbook", "check-draft", str(good)])
    assert ok.exit_code == 0 and "未发现问题" in ok.output
    failed = cli.invoke(app, ["playbook", "check-draft", str(bad)])
    assert failed.exit_code == 1 and "no_comment" in failed.output and "第 2 行" in failed.output
    as_json = cli.invoke(app, ["playbook", "check-draft", str(bad), "--json"])
    assert '"rule_id": "no_comment"' in as_json.output
    warn_only = tmp_path / "warn.txt"
    warn_only.write_text("3月2日，网民反映有关情况。", encoding="utf-8")
    assert cli.invoke(app, ["playbook", "check-draft", str(warn_only)]).exit_code == 0
    assert cli.invoke(app, ["playbook", "check-draft", str(warn_only), "--strict"]).exit_code == 1
    missing = cli.invoke(app, ["playbook", "check-draft", str(tmp_path / "none.txt")])
    assert missing.exit_code != 0


def test_cli_checklist_and_check(runtime) -> None:
    incident_id = _seed_incident(runtime)
    cli = CliRunner()
    listed = cli.invoke(app, ["playbook", "checklist", str(incident_id)])
    assert listed.exit_code == 0 and "identify_work" in listed.output and "值班员" in listed.output
    done = cli.invoke(app, ["playbook", "check", str(incident_id), "collect_info", "--by", "zhang"])
    assert done.exit_code == 0 and "已完成 collect_info" in done.output
    skipped = cli.invoke(app, ["playbook", "check", str(incident_id), "analyze_trend", "--skip", "已并入研判会",
                               "--by", "li"])
    assert skipped.exit_code == 0 and "已跳过" in skipped.output
    assigned = cli.invoke(app, ["playbook", "check", str(incident_id), "judge_level", "--assign", "王主任",
                                "--by", "li"])
    assert assigned.exit_code == 0 and "王主任" in assigned.output
    with runtime.session() as s:
        actions = [a.action for a in s.execute(select(AuditRow).where(AuditRow.object_type == "checklist_item")
                                               .order_by(AuditRow.id)).scalars()]
        assert actions == ["checklist.done", "checklist.skip", "checklist.reassign"]
        assert {r.item_id for r in checklist.open_required(s, incident_id, "warning")} == \
            {"identify_work", "judge_level", "alert_leaders"}
