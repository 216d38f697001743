"""Extension points that areas (search/, classifier/, alerting/, playbooks/ …) fill in their
`register(app)`, so yuqing/ never imports them at module level."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yuqing.runtime import Runtime


@dataclass
class CheckResult:
    name: str  # what was checked (Chinese)
    ok: bool
    detail: str = ""  # what is wrong and how to fix it (Chinese)
    warning: bool = False  # ok but worth knowing


InitHook = Callable[["Runtime"], str]  # returns a Chinese one-line summary
DoctorCheck = Callable[["Runtime"], list[CheckResult]]

INIT_HOOKS: list[InitHook] = []
DOCTOR_CHECKS: list[DoctorCheck] = []


def on_init(hook: InitHook) -> InitHook:
    if hook not in INIT_HOOKS:
        INIT_HOOKS.append(hook)
    return hook


def doctor_check(check: DoctorCheck) -> DoctorCheck:
    if check not in DOCTOR_CHECKS:
        DOCTOR_CHECKS.append(check)
    return check
