"""Domain types shared by every part of the product (no I/O here)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yuqing.timeutil import parse_datetime


class Category(StrEnum):
    """Crisis category (危机舆情分类, seed 002)."""

    policy = "policy"
    rights = "rights"
    image = "image"
    work = "work"
    emergency = "emergency"
    none = "none"

    @property
    def zh(self) -> str:
        return CATEGORY_ZH[self]

    @property
    def is_crisis(self) -> bool:
        return self is not Category.none


CATEGORY_ZH: dict[Category, str] = {
    Category.policy: "政策解读类",
    Category.rights: "权益侵害类",
    Category.image: "形象危机类",
    Category.work: "工作争议类",
    Category.emergency: "突发事件类",
    Category.none: "非危机",
}
CATEGORIES: tuple[Category, ...] = tuple(Category)
CRISIS_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c.is_crisis)


class Severity(IntEnum):
    """舆情等级: 0 none, 1 一般 (IV 蓝) … 4 特别重大 (I 红)."""

    none = 0
    general = 1  # 一般 IV 蓝
    major = 2  # 较大 III 黄
    serious = 3  # 重大 II 橙
    critical = 4  # 特别重大 I 红

    @property
    def zh(self) -> str:
        return SEVERITY_INFO[self][0]

    @property
    def roman(self) -> str:
        return SEVERITY_INFO[self][1]

    @property
    def colour_zh(self) -> str:
        return SEVERITY_INFO[self][2]

    @property
    def colour(self) -> str:
        return SEVERITY_INFO[self][3]

    @property
    def label(self) -> str:
        """Full Chinese label, e.g. '重大（II级·橙色）'."""
        if self is Severity.none:
            return "无"
        return f"{self.zh}（{self.roman}级·{self.colour_zh}色）"


SEVERITY_INFO: dict[Severity, tuple[str, str, str, str]] = {
    Severity.none: ("无", "-", "灰", "#9e9e9e"),
    Severity.general: ("一般", "IV", "蓝", "#1e88e5"),
    Severity.major: ("较大", "III", "黄", "#fbc02d"),
    Severity.serious: ("重大", "II", "橙", "#fb8c00"),
    Severity.critical: ("特别重大", "I", "红", "#e53935"),
}


class Stage(StrEnum):
    """Incident stage: 预警 → 应对 → 善后 → closed; dismissed for false alarms."""

    warning = "warning"
    response = "response"
    aftermath = "aftermath"
    closed = "closed"
    dismissed = "dismissed"

    @property
    def zh(self) -> str:
        return STAGE_ZH[self]

    @property
    def is_open(self) -> bool:
        return self in (Stage.warning, Stage.response, Stage.aftermath)


STAGE_ZH: dict[Stage, str] = {
    Stage.warning: "预警",
    Stage.response: "应对",
    Stage.aftermath: "善后",
    Stage.closed: "已关闭",
    Stage.dismissed: "已排除",
}
# Stage a person's "advance" moves to.
NEXT_STAGE: dict[Stage, Stage] = {
    Stage.warning: Stage.response,
    Stage.response: Stage.aftermath,
    Stage.aftermath: Stage.closed,
}


class Post(BaseModel):
    """One collected post, the wire format of shared/schema/post.schema.json.

    Unknown fields are kept (``extra='allow'``) and ignored by the product.
    Datetimes are timezone-aware; naive input is read as Asia/Shanghai time.
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    platform: str
    text: str
    url: str | None = None
    author: str | None = None
    author_id: str | None = None
    author_verified: bool | None = None
    author_followers: int | None = Field(default=None, ge=0)
    title: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    reposts: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    likes: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)
    keywords: list[str] | None = None
    repost_of: str | None = None

    @field_validator("published_at", "fetched_at", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        return parse_datetime(value)

    @property
    def full_text(self) -> str:
        """Title and text as one string: what keyword rules and the classifier read."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    @property
    def engagement(self) -> int:
        return (self.reposts or 0) + (self.comments or 0) + (self.likes or 0)

    def to_wire(self) -> dict[str, Any]:
        """The JSON object of the wire format (ISO 8601 times with offset, no nulls)."""
        return self.model_dump(mode="json", exclude_none=True)


class Classification(BaseModel):
    """What the classifier (or a person relabelling) says about one post."""

    category: Category
    severity: Severity
    category_scores: dict[str, float] = Field(default_factory=dict)
    model_version: str = ""

    @field_validator("severity")
    @classmethod
    def _none_is_zero(cls, value: Severity, info: Any) -> Severity:
        category = info.data.get("category")
        if category is Category.none and value != Severity.none:
            raise ValueError("category none must have severity 0")
        if category is not None and category is not Category.none and value == Severity.none:
            raise ValueError("a crisis category needs severity 1-4")
        return value


class Incident(BaseModel):
    """舆情事件: the public view of an incident (what `incidents list --json` prints)."""

    id: int
    title: str = ""
    category: Category
    severity: Severity
    stage: Stage
    post_ids: list[str] = Field(default_factory=list)
    clock_started_at: datetime | None = None
    deadline: datetime | None = None
    first_response_at: datetime | None = None
    detected_at: datetime | None = None
    heat: float = 0.0

    @property
    def detection_lag_seconds(self) -> float | None:
        if self.clock_started_at is None or self.detected_at is None:
            return None
        return max(0.0, (self.detected_at - self.clock_started_at).total_seconds())


def _enum_zh(enum: type[Category] | type[Stage], value: str | None) -> str:
    """Chinese name of an enum value; "—" when missing, the raw value when unknown."""
    if not value:
        return "—"
    try:
        return enum(value).zh
    except ValueError:
        return str(value)


def category_zh(value: str | None) -> str:
    """Chinese name of a category value; "—" when missing, the raw value when unknown."""
    return _enum_zh(Category, value)


def severity_zh(value: int | None) -> str:
    """Full Chinese severity label, e.g. '重大（II级·橙色）'; the raw value when out of range."""
    try:
        return Severity(int(value or 0)).label
    except ValueError:
        return str(value)


def stage_zh(value: str | None) -> str:
    """Chinese name of a stage value; "—" when missing, the raw value when unknown."""
    return _enum_zh(Stage, value)
