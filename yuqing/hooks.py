"""Extension points, so a lower floor never imports a higher one.

- ``on_init`` / ``doctor_check``: what `yuqing init` and `yuqing doctor` run; areas fill them in
  their CLI's ``register(app)``.
- Engine hooks: what should happen when an incident enters a stage (``on_stage_entered``), which
  items still block leaving a stage (``advance_blocker``), what an override of them records
  (``on_override``), and what runs on every clock tick (``on_tick``). The incident engine calls
  them; playbooks/ registers them (``playbooks.engine_hooks.register``), wired by app/wiring.py.

Every registration is idempotent (the same function twice is kept once), and each list runs in
registration order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from yuqing.db.models import IncidentRow
    from yuqing.runtime import Runtime
    from yuqing.settings import Settings


@dataclass
class CheckResult:
    name: str  # what was checked (Chinese)
    ok: bool
    detail: str = ""  # what is wrong and how to fix it (Chinese)
    warning: bool = False  # ok but worth knowing


InitHook = Callable[["Runtime"], str]  # returns a Chinese one-line summary
DoctorCheck = Callable[["Runtime"], list[CheckResult]]

# (session, incident, stage, now, settings): the incident has just entered ``stage``
StageHook = Callable[["Session", "IncidentRow", str, datetime, "Settings"], None]
# (session, incident) -> the open items that block leaving the incident's current stage
AdvanceBlocker = Callable[["Session", "IncidentRow"], list[Any]]
# (session, incident, actor, now, reason): a person advances despite the blockers
OverrideHook = Callable[["Session", "IncidentRow", str, datetime, str], None]
# (session, now, settings): runs on every engine tick, after the incidents' clocks
TickHook = Callable[["Session", datetime, "Settings"], Any]

INIT_HOOKS: list[InitHook] = []
DOCTOR_CHECKS: list[DoctorCheck] = []
STAGE_HOOKS: list[StageHook] = []
ADVANCE_BLOCKERS: list[AdvanceBlocker] = []
OVERRIDE_HOOKS: list[OverrideHook] = []
TICK_HOOKS: list[TickHook] = []

_F = TypeVar("_F")


def _add(registry: list[_F], fn: _F) -> _F:
    if fn not in registry:
        registry.append(fn)
    return fn


def on_init(hook: InitHook) -> InitHook:
    return _add(INIT_HOOKS, hook)


def doctor_check(check: DoctorCheck) -> DoctorCheck:
    return _add(DOCTOR_CHECKS, check)


def on_stage_entered(hook: StageHook) -> StageHook:
    return _add(STAGE_HOOKS, hook)


def advance_blocker(blocker: AdvanceBlocker) -> AdvanceBlocker:
    return _add(ADVANCE_BLOCKERS, blocker)


def on_override(hook: OverrideHook) -> OverrideHook:
    return _add(OVERRIDE_HOOKS, hook)


def on_tick(hook: TickHook) -> TickHook:
    return _add(TICK_HOOKS, hook)
