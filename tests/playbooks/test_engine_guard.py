"""The advance guard through the incident engine's real `advance` (alerting.actions)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from playbooks import checklist
from tests.playbooks.conftest import T0, make_incident
from yuqing.errors import YuqingError

actions = pytest.importorskip("alerting.actions")


def test_advance_refused_until_done_or_overridden(runtime, session) -> None:
    now = T0 + timedelta(hours=1)
    inc = make_incident(session, category="policy")
    checklist.instantiate(session, inc, "warning", now, runtime.settings)
    with pytest.raises(YuqingError, match="必做事项未完成"):
        actions.advance(session, inc.id, "zhang", now, settings=runtime.settings)
    assert inc.stage == "warning"
    for row in checklist.open_required(session, inc.id, "warning")[:-1]:
        checklist.check(session, row.id, "zhang", now)
    with pytest.raises(YuqingError):
        actions.advance(session, inc.id, "zhang", now, settings=runtime.settings)
    actions.advance(session, inc.id, "boss", now, override_reason="情况紧急", settings=runtime.settings)
    assert inc.stage == "response"
    warning_items = checklist.items(session, inc.id, "warning")
    assert [r.status for r in warning_items if r.required].count("overridden") == 1
    # the engine instantiates the next stage's checklist on entry
    assert {r.item_id for r in checklist.items(session, inc.id, "response")} >= {"policy_explainer", "first_response"}
