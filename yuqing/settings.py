"""Settings: YAML files in config/, validated with pydantic, overridden by YUQING_* variables.

Secrets never live in these files: a setting such as ``webhook_env`` names an environment
variable; :func:`secret` reads it from the environment or from the untracked file
``config/secrets.env`` (``KEY=value`` lines).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yuqing.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "yuqing.yaml"
SECRETS_FILE_NAME = "secrets.env"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexElasticsearch(_Section):
    url: str = "http://127.0.0.1:9200"
    index_prefix: str = "yuqing-posts"
    analyzer: Literal["auto", "ik", "cjk"] = "auto"
    username: str | None = None
    password_env: str = "YUQING_ES_PASSWORD"
    api_key_env: str = "YUQING_ES_API_KEY"
    verify_certs: bool = True
    ca_certs: str | None = None
    request_timeout: float = 30.0
    kibana_url: str | None = None


class IndexSettings(_Section):
    backend: Literal["embedded", "elasticsearch"] = "embedded"
    embedded_dir: str = "index"  # relative to data_dir
    elasticsearch: IndexElasticsearch = Field(default_factory=IndexElasticsearch)


class ClassifierSettings(_Section):
    model_dir: str = "classifier/model"  # fine-tuned heads/adapters (in the repository)
    base_dir: str = "models/e5-small"  # converted base model (relative to data_dir)
    threads: int = Field(default=2, ge=1, le=64)
    batch_size: int = Field(default=32, ge=1, le=1024)
    max_length: int = Field(default=128, ge=16, le=512)  # tokens per post at inference (trained with 128)
    quantize: bool = True  # the fine-tuned top layers in int8 too (the frozen lower ones always are)
    # encoder runtime: onnx = the same cut exported once into var/ and run by ONNX Runtime int8
    # (falls back to torch if onnxruntime is missing); torch = torch dynamic int8
    backend: Literal["torch", "onnx"] = "onnx"


class KeywordScheme(_Section):
    """关键词方案: OR inside a group, AND across non-empty groups, any exclusion excludes."""

    name: str
    description: str = ""
    subject: list[str] = Field(default_factory=list)  # 主体词
    region: list[str] = Field(default_factory=list)  # 地域词
    person: list[str] = Field(default_factory=list)  # 人物词
    event: list[str] = Field(default_factory=list)  # 事件词
    exclude: list[str] = Field(default_factory=list)  # 排除词
    expression: str | None = None  # an extra keyword-language expression, ANDed

    @model_validator(mode="after")
    def _not_empty(self) -> KeywordScheme:
        if not (self.subject or self.region or self.person or self.event or self.expression):
            raise ValueError("关键词方案至少需要一个非空词组（subject/region/person/event）或 expression")
        return self


class SourceSettings(_Section):
    name: str
    spider: str
    enabled: bool = True
    interval_minutes: int = Field(default=30, ge=1)
    schemes: list[str] = Field(default_factory=list)  # empty = all schemes
    keywords: list[str] = Field(default_factory=list)  # explicit crawl keywords (else from schemes)
    download_delay: float = Field(default=2.0, ge=0)
    concurrency: int = Field(default=1, ge=1, le=32)
    cookie_env: str | None = None
    proxy_env: str | None = None
    base_url: str | None = None
    feeds: list[str] = Field(default_factory=list)
    args: dict[str, Any] = Field(default_factory=dict)


class ClockSettings(_Section):
    default_hours: float = Field(default=12, gt=0)
    hours_by_severity: dict[int, float] = Field(default_factory=dict)
    reminders_before_hours: list[float] = Field(default_factory=lambda: [6, 3, 1])
    auto_response_severity: int = Field(default=3, ge=1, le=5)  # 5 = never automatic
    aftermath_quiet_reminder_days: float = Field(default=7, gt=0)

    @field_validator("hours_by_severity")
    @classmethod
    def _levels(cls, value: dict[int, float]) -> dict[int, float]:
        for level, hours in value.items():
            if level not in (1, 2, 3, 4):
                raise ValueError(f"等级必须是 1-4，得到 {level}")
            if hours <= 0:
                raise ValueError(f"等级 {level} 的时限必须大于 0 小时")
        return value

    def hours_for(self, severity: int) -> float:
        return self.hours_by_severity.get(int(severity), self.default_hours)


class Person(_Section):
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    slack_user: str | None = None
    wecom_user: str | None = None
    dingtalk_mobile: str | None = None


class Shift(_Section):
    people: list[str]
    weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7])  # ISO 1=Mon
    start: str = "00:00"
    end: str = "24:00"


class EscalationLevel(_Section):
    name: str  # 值班员 / 科室负责人 / 分管领导
    people: list[str] = Field(default_factory=list)  # empty for level 0: whoever is on shift


class RosterSettings(_Section):
    people: list[Person] = Field(default_factory=list)
    shifts: list[Shift] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list)
    holiday_people: list[str] = Field(default_factory=list)
    escalation: list[EscalationLevel] = Field(default_factory=list)
    ack_timeout_minutes: float = Field(default=15, gt=0)

    @model_validator(mode="after")
    def _known_people(self) -> RosterSettings:
        known = {p.id for p in self.people}
        refs = [p for s in self.shifts for p in s.people] + self.holiday_people
        refs += [p for level in self.escalation for p in level.people]
        missing = sorted({r for r in refs if r not in known})
        if missing:
            raise ValueError(f"值班表引用了未定义的人员: {', '.join(missing)}")
        return self


class ChannelSettings(_Section):
    name: str
    type: Literal["console", "file", "slack", "wecom", "dingtalk", "feishu", "email"]
    enabled: bool = True
    min_severity: int = Field(default=1, ge=0, le=4)
    kinds: list[str] = Field(default_factory=list)  # empty = every kind
    path: str | None = None  # file
    token_env: str | None = None  # slack bot token
    channel: str | None = None  # slack channel id
    base_url: str | None = None  # slack API base URL (tests, proxies)
    webhook_env: str | None = None  # wecom / dingtalk / feishu webhook URL
    secret_env: str | None = None  # dingtalk / feishu signing secret; slack: request signing secret
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user_env: str | None = None
    smtp_password_env: str | None = None
    mail_from: str | None = None
    mail_to: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10, gt=0)


UNIT_LEVELS = ("province", "city", "county", "town", "village")
# digits of a 12-digit 行政区划代码 that name a unit of each level (the rest are zeros)
UNIT_CODE_DIGITS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}


class Unit(_Section):
    """一级妇联组织: its region (行政区划代码), level, parent, roster and channels.

    ``channels``: names of top-level ``channels`` entries, or full channel entries of its own (their
    names unique across the file); empty = the top-level channels. ``roster`` empty (no people) =
    the unit has no duty roster of its own: incidents in its region go to the nearest unit above
    that has one."""

    id: str = Field(min_length=1, max_length=64)
    name: str
    # 6- or 12-digit 行政区划代码; a town/village may instead be named under its county, as the
    # incidents' regions name it when the gazetteer has no code for it: "350203/莲前街道"
    region: str
    level: Literal["province", "city", "county", "town", "village"]
    parent: str | None = None
    roster: RosterSettings = Field(default_factory=RosterSettings)
    channels: list[str | ChannelSettings] = Field(default_factory=list)

    @field_validator("region")
    @classmethod
    def _code(cls, value: str) -> str:
        value = str(value).strip()
        base, sep, names = value.partition("/")
        if not base.isdigit() or len(base) not in (6, 12) or (sep and not names.strip("/")):
            raise ValueError(f"行政区划代码应为 6 位或 12 位数字（镇街、村居也可写作 县级代码/名称，"
                             f"如 350203/莲前街道），得到 {value!r}")
        return base.ljust(12, "0") + (sep + names.strip("/") if sep else "")

    @model_validator(mode="after")
    def _code_matches_level(self) -> Unit:
        base, _, names = self.region.partition("/")
        if names:
            if self.level not in ("town", "village") or base[6:].strip("0"):
                raise ValueError(f"单位 {self.id}: 写作“县级代码/名称”的区划只用于镇街、村居（town/village），"
                                 f"且前面须是县级代码，得到 {self.region}（{self.level}）")
            return self
        digits = UNIT_CODE_DIGITS[self.level]
        if self.region[digits:].strip("0") or not self.region[:digits].strip("0"):
            raise ValueError(f"单位 {self.id}: 行政区划代码 {self.region} 与级别 {self.level} 不符"
                             f"（{self.level} 级代码只有前 {digits} 位非零）")
        return self

    @property
    def has_roster(self) -> bool:
        return bool(self.roster.people)

    @property
    def prefix(self) -> str:
        """The digits every (digits-only) region code inside this unit starts with."""
        base, _, names = self.region.partition("/")
        return base[:6] if names else self.region[:UNIT_CODE_DIGITS[self.level]]


class NotifySettings(_Section):
    quiet_hours: str | None = None  # "22:00-07:00"; never holds back severity >= 3
    repeat_suppression_minutes: float = Field(default=60, ge=0)
    digest_times: list[str] = Field(default_factory=lambda: ["08:30"])
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=30, gt=0)
    claim_timeout_seconds: float = Field(default=60, gt=0)  # a claim without a heartbeat this long: its worker died
    # personal data is always masked at every exit; the key stays only so older files still load, and
    # ``false`` is refused
    mask_personal_data: Literal[True] = True


class EngineSettings(_Section):
    """Grouping, heat and severity knobs of the incident engine (alerting/)."""

    group_window_days: float = Field(default=14, gt=0)
    similarity_threshold: float = Field(default=0.5, ge=0, le=1)
    batch_size: int = Field(default=64, ge=1)
    params: dict[str, Any] = Field(default_factory=dict)


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key_env: str = "YUQING_SECRET_KEY"
    cookie_secure: bool = False
    root_path: str = ""
    # Failed logins per (account, client address) before each further attempt must wait; the wait
    # doubles (1 s, 2 s, 4 s …) up to login_lock_minutes. Nobody else's failures slow an owner down.
    login_max_attempts: int = Field(default=5, ge=1)
    login_lock_minutes: float = Field(default=15, gt=0)
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; default none:
    # the client address is the TCP peer and the header is ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    session_hours: float = Field(default=12, gt=0, le=24 * 30)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"不是 IP 地址或网段: {item!r}（示例：127.0.0.1 或 10.0.0.0/8）") from None
        return [item.strip() for item in value]


class SchedulerSettings(_Section):
    process_interval_seconds: float = Field(default=60, gt=0)
    tick_interval_seconds: float = Field(default=60, gt=0)
    outbox_interval_seconds: float = Field(default=10, gt=0)
    daily_report_time: str = "08:30"


class CrawlSettings(_Section):
    # a shared scrapy-redis queue for `yuqing crawl --workers N` on several machines; a password goes only
    # in the environment (YUQING_REDIS_URL), never in this file
    redis_url: str | None = None
    open_incident_interval_minutes: int = Field(default=5, ge=1)  # open incidents' keywords polled this often


class Settings(_Section):
    database_url: str | None = None  # default: sqlite:///<data_dir>/yuqing.db
    data_dir: str = "var"
    timezone: str = "Asia/Shanghai"
    index: IndexSettings = Field(default_factory=IndexSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    keyword_schemes: list[KeywordScheme] = Field(default_factory=list)
    sources: list[SourceSettings] = Field(default_factory=list)
    clock: ClockSettings = Field(default_factory=ClockSettings)
    roster: RosterSettings = Field(default_factory=RosterSettings)
    channels: list[ChannelSettings] = Field(default_factory=list)
    units: list[Unit] = Field(default_factory=list)  # 各级妇联 (empty: one root with the roster above)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    playbooks_dir: str = "playbooks"

    # where the settings came from (not a YAML key)
    source_path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        for label, items in (("keyword_schemes", self.keyword_schemes), ("sources", self.sources),
                             ("channels", self.channels)):
            names = [i.name for i in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{label} 中名称重复: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _units_tree(self) -> Settings:
        if not self.units:
            return self
        ids = [u.id for u in self.units]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"units 中单位 id 重复: {', '.join(dupes)}")
        by_id = {u.id: u for u in self.units}
        roots = [u.id for u in self.units if u.parent is None]
        if len(roots) != 1:
            raise ValueError(f"units 必须恰有一个顶级单位（不填 parent），实际 {len(roots)} 个: {', '.join(roots)}")
        top = {c.name for c in self.channels}
        own = [c.name for u in self.units for c in u.channels if isinstance(c, ChannelSettings)]
        clash = sorted({n for n in own if own.count(n) > 1 or n in top})
        if clash:
            raise ValueError(f"units 中自带渠道名称重复（或与顶层 channels 重名）: {', '.join(clash)}")
        people: dict[str, Person] = {p.id: p for p in self.roster.people}
        for unit in self.units:
            if unit.parent is not None and unit.parent not in by_id:
                raise ValueError(f"单位 {unit.id} 的上级 {unit.parent} 未定义")
            missing = [c for c in unit.channels if isinstance(c, str) and c not in top]
            if missing:
                raise ValueError(f"单位 {unit.id} 引用了未定义的渠道: {', '.join(missing)}")
            for person in unit.roster.people:
                if person.id in people and people[person.id] != person:
                    raise ValueError(f"人员 {person.id} 在多个值班表中定义不一致（单位 {unit.id}）")
                people[person.id] = person
        for unit in self.units:  # no cycles, and a child lies inside its parent's region
            seen, node = {unit.id}, unit
            while node.parent is not None:
                if node.parent in seen:
                    raise ValueError(f"units 的上下级关系有环: {' → '.join([*seen, node.parent])}")
                seen.add(node.parent)
                node = by_id[node.parent]
            if unit.parent is not None:
                parent = by_id[unit.parent]
                if UNIT_LEVELS.index(unit.level) <= UNIT_LEVELS.index(parent.level) \
                        or not unit.region.startswith(parent.prefix) \
                        or ("/" in parent.region and not unit.region.startswith(parent.region + "/")):
                    raise ValueError(f"单位 {unit.id}（{unit.level} {unit.region}）不在上级 {parent.id}"
                                     f"（{parent.level} {parent.region}）的辖区之内")
        return self

    def all_channels(self) -> list[ChannelSettings]:
        """Top-level channels and every unit's own ones (names are unique across them)."""
        return [*self.channels, *(c for u in self.units for c in u.channels if isinstance(c, ChannelSettings))]

    def all_people(self) -> list[Person]:
        """Everyone of the top-level roster and of every unit's roster (one entry per id)."""
        people = {p.id: p for p in self.roster.people}
        for unit in self.units:
            for person in unit.roster.people:
                people.setdefault(person.id, person)
        return list(people.values())

    # -- derived paths ---------------------------------------------------
    @property
    def data_path(self) -> Path:
        path = Path(self.data_dir)
        return path if path.is_absolute() else ROOT / path

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_path / 'yuqing.db'}"

    def resolve(self, relative: str) -> Path:
        """A path from the settings: absolute as is, else relative to the repository root."""
        path = Path(relative)
        return path if path.is_absolute() else ROOT / path

    def data_file(self, relative: str) -> Path:
        path = Path(relative)
        return path if path.is_absolute() else self.data_path / path

    def scheme(self, name: str) -> KeywordScheme:
        for scheme in self.keyword_schemes:
            if scheme.name == name:
                return scheme
        raise KeyError(name)


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(根)"


def _expected(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "未知的配置项（请检查拼写，或删除它）"
    if kind == "missing":
        return "缺少必填项"
    return str(error.get("msg", ""))


def _apply_env_overrides(data: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    if environ.get("YUQING_DATABASE_URL"):
        data["database_url"] = environ["YUQING_DATABASE_URL"]
    if environ.get("YUQING_DATA_DIR"):
        data["data_dir"] = environ["YUQING_DATA_DIR"]
    # YUQING_SECTION__KEY=value for nested scalar overrides, e.g. YUQING_INDEX__BACKEND=elasticsearch
    for key, raw in environ.items():
        if not key.startswith("YUQING_") or "__" not in key:
            continue
        path = [p.lower() for p in key[len("YUQING_"):].split("__")]
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = yaml.safe_load(raw) if raw else raw
    return data


def config_path(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    if path is None:
        path = environ.get("YUQING_CONFIG") or DEFAULT_CONFIG
    path = Path(path)
    return path if path.is_absolute() else Path.cwd() / path


def load_settings(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load and validate the settings file; raises ConfigError naming file, key and expectation."""
    environ = dict(os.environ) if environ is None else environ
    file = config_path(path, environ)
    if not file.exists():
        raise ConfigError(f"配置文件不存在: {file}（可用 YUQING_CONFIG 指定其他文件）", file=str(file))
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        raise ConfigError(f"{file}: YAML 语法错误 {where}: {getattr(exc, 'problem', exc)}",
                          file=str(file)) from None
    except RecursionError:
        raise ConfigError(f"{file}: YAML 嵌套过深，无法读取", file=str(file)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: 文件不是 UTF-8 编码", file=str(file)) from None
    except (ValueError, TypeError) as exc:  # a value YAML itself cannot build, e.g. the date 2026-13-45
        raise ConfigError(f"{file}: YAML 中的值无效: {exc}", file=str(file)) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: 顶层必须是键值映射（mapping），实际是 {type(raw).__name__}", file=str(file))
    data = _apply_env_overrides(raw, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        lines = [f"{file}: 配置有误"]
        for err in exc.errors():
            lines.append(f"  - {_format_loc(err['loc'])}: {_expected(err)}"
                         + (f"（实际值: {err['input']!r}）" if err.get("type") not in ("missing", "extra_forbidden")
                            and not isinstance(err.get("input"), dict | list) else ""))
        raise ConfigError("\n".join(lines), file=str(file)) from None
    settings.source_path = file
    return settings


def secret(name: str | None, settings: Settings | None = None) -> str | None:
    """Read a secret by environment-variable name: the environment first, then config/secrets.env."""
    if not name:
        return None
    value = os.environ.get(name)
    if value:
        return value
    candidates = []
    if settings is not None and settings.source_path is not None:
        candidates.append(settings.source_path.parent / SECRETS_FILE_NAME)
    candidates.append(ROOT / "config" / SECRETS_FILE_NAME)
    for file in candidates:
        if file.exists():
            for line in file.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, val = line.partition("=")
                if key.strip() == name:
                    return val.strip().strip('"').strip("'")
    return None
