"""The shape of a playbook file (pydantic): one file per crisis category, three stages, ordered items.

Every field a person writes is checked here; :mod:`playbooks.loader` turns a validation error into
a Chinese message naming the file, the item and the problem.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Owner roles an item may name (seed 002 组织架构与职责分工, 新媒体团队; seed 003 舆情处置机制).
ROLES: tuple[str, ...] = (
    "值班员",
    "信息员",
    "应对小组组长",
    "新闻发言人/宣传部",
    "网信/新媒体运营",
    "权益部",
    "政策研究室",
    "纪检监察",
    "办公室",
    "分管领导",
    "主要领导",
    "家庭儿童工作部",
    "法律顾问",
    "联络员",
)

PLAYBOOK_STAGES: tuple[str, ...] = ("warning", "response", "aftermath")

# Where a due time is measured from.
#   stage_start (or <stage>_start of the item's own stage): when the incident entered the stage
#   clock_start: when the event went public (the incident's 12-hour clock)
#   deadline:    the first-response deadline
#   detected:    when the system first saw the incident
DueAnchor = Literal["stage_start", "warning_start", "response_start", "aftermath_start",
                    "clock_start", "deadline", "detected"]

_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Due(_Strict):
    anchor: DueAnchor = Field(alias="from")
    hours: float = Field(ge=-72, le=24 * 60)

    def describe(self) -> str:
        """Chinese description, e.g. '预警开始后 1 小时' / '截止前 2 小时'."""
        names = {"stage_start": "进入本阶段", "warning_start": "进入预警", "response_start": "进入应对",
                 "aftermath_start": "进入善后", "clock_start": "事件公开（计时起点）", "deadline": "首次回应截止",
                 "detected": "系统发现"}
        base = names[self.anchor]
        hours = f"{abs(self.hours):g} 小时"
        if self.hours == 0:
            return f"{base}时"
        return f"{base}后 {hours}" if self.hours > 0 else f"{base}前 {hours}"


class Item(_Strict):
    id: str
    text: str = Field(min_length=4, max_length=200)
    role: str
    due: Due | None = None
    required: bool = True
    guidance: str = ""
    privacy: bool = False  # the item handles personal data of victims or minors
    seed: str = ""  # which seed rule the item comes from

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id 只能由小写字母、数字、下划线组成，以字母开头，2-64 个字符")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"未知角色“{value}”（可用：{'、'.join(ROLES)}）")
        return value


class StagePlan(_Strict):
    goal: str = ""
    items: list[Item] = Field(min_length=1)


class Playbook(_Strict):
    category: Literal["policy", "rights", "image", "work", "emergency"]
    name: str
    version: int = Field(default=1, ge=1)
    principles: list[str] = Field(default_factory=list)
    stages: dict[str, StagePlan]

    @model_validator(mode="after")
    def _stages_and_ids(self) -> Playbook:
        missing = [s for s in PLAYBOOK_STAGES if s not in self.stages]
        extra = [s for s in self.stages if s not in PLAYBOOK_STAGES]
        if missing:
            raise ValueError(f"缺少阶段: {', '.join(missing)}（需要 warning / response / aftermath）")
        if extra:
            raise ValueError(f"未知阶段: {', '.join(extra)}（只能是 warning / response / aftermath）")
        seen: dict[str, str] = {}
        for stage, plan in self.stages.items():
            for item in plan.items:
                if item.id in seen:
                    raise ValueError(f"事项 id “{item.id}” 重复（{seen[item.id]} 与 {stage}），同一剧本内必须唯一")
                seen[item.id] = stage
                if item.due and item.due.anchor.endswith("_start") and item.due.anchor != "stage_start" \
                        and item.due.anchor != f"{stage}_start":
                    raise ValueError(f"事项 {item.id}: 时限起点 {item.due.anchor} 不属于本阶段 {stage}，"
                                     f"请改用 stage_start、{stage}_start、clock_start 或 deadline")
        return self

    def stage(self, stage: str) -> StagePlan:
        return self.stages[stage]

    def item(self, item_id: str) -> tuple[str, Item] | None:
        for stage, plan in self.stages.items():
            for item in plan.items:
                if item.id == item_id:
                    return stage, item
        return None

    def item_count(self) -> int:
        return sum(len(plan.items) for plan in self.stages.values())
