"""Wires the areas together where one must act on another's events without importing it.

Importing this module registers the playbooks' engine hooks (checklists on stage changes, the
advance guard and override, overdue reminders on every tick), the federation units' owner
refresh on every tick and masks personal data in every log
record (seed 002: no exit without masking, logs included). Every entry point of the composition
imports it: the root CLI, the worker, the scheduler service, replay and the demo. Both are
idempotent.
"""

from __future__ import annotations

from alerting import units
from playbooks import engine_hooks
from yuqing import exits

engine_hooks.register()
units.register()  # every open incident's owner unit follows its region on each tick
exits.install_log_masking()
