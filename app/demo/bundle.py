"""The bundled demo day (data/day.yaml): posts, repost storms and the duty officers' actions.

Times in the file are local clock times on the demo day ("HH:MM", "+1 HH:MM" for the next
day); :func:`load_day` turns them into aware datetimes from a given day start. Every post
also knows the id the crawler will give it (same rules as the spiders), so the demo can
look up its label and the tests can follow it.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from yuqing.errors import InputError
from yuqing.timeutil import SHANGHAI

DAY_FILE = Path(__file__).resolve().parent / "data" / "day.yaml"
SOURCES = ("weibo", "news", "wechat", "rss", "hot", "tieba", "douyin")
WEIBO_MID_BASE = 5_100_000_000_000_000
STORM_MID_BASE = 5_200_000_000_000_000
TIEBA_TID_BASE = 9_100_000_000
DOUYIN_ID_BASE = 7_400_000_000_000_000_000
RSS_FEED_PATH = "/rss/women.xml"


def sha20(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


@dataclass
class DemoPost:
    key: str  # the short id in day.yaml
    src: str  # weibo | news | wechat | rss | hot | tieba | douyin
    at: datetime  # publish time (aware)
    text: str
    category: str
    severity: int
    title: str = ""
    author: str = ""
    verified: str | None = None  # 蓝V / 黄V / 金V …
    followers: int = 0
    eng: tuple[int, int, int] = (0, 0, 0)  # final reposts, comments, likes
    ramp_hours: float = 4.0
    event: str | None = None
    core: bool = False
    mid: int = 0  # weibo
    repost_of: str | None = None  # key of the original (weibo)
    until: datetime | None = None  # hot search: off the list from then
    num: int = 0  # hot search heat
    forum: str = ""  # tieba: the 吧
    region: str = ""  # douyin: IP属地
    index: int = 0  # position in day.yaml (tieba thread id, douyin aweme id)

    @property
    def tid(self) -> int:
        return TIEBA_TID_BASE + self.index

    @property
    def aweme_id(self) -> str:
        return str(DOUYIN_ID_BASE + self.index)

    @property
    def url(self) -> str:
        if self.src == "news":
            return f"https://news.example.cn/{self.at:%Y%m%d}/{self.key}.html"
        if self.src == "rss":
            return f"https://www.example-women.cn/xw/{self.at:%Y%m}/{self.key}.html"
        if self.src == "wechat":
            return f"/link?url=demo_{self.key}&type=2"
        if self.src == "tieba":
            return f"https://tieba.baidu.com/p/{self.tid}"
        if self.src == "douyin":
            return f"https://www.douyin.com/video/{self.aweme_id}"
        return f"https://m.weibo.cn/detail/{self.mid}"

    @property
    def post_id(self) -> str:
        """The id the spiders give this post (see crawlers/spiders/*)."""
        if self.src == "weibo":
            return f"weibo:{self.mid}"
        if self.src == "news":
            return f"news:{sha20(self.url)}"
        if self.src == "wechat":
            return "wechat:" + sha20(self.author + "\n" + self.title)
        if self.src == "rss":
            return f"rss:{sha20(self.url)}"
        if self.src == "tieba":
            return f"tieba:{self.tid}"
        if self.src == "douyin":
            return f"douyin:{self.aweme_id}"
        return f"weibo_hot:{self.title}"

    def engagement(self, now: datetime) -> tuple[int, int, int]:
        """Counts grow after publication and reach ``eng`` after ``ramp_hours``."""
        hours = max(0.0, (now - self.at).total_seconds() / 3600)
        share = min(1.0, max(0.1, hours / self.ramp_hours)) if self.ramp_hours > 0 else 1.0
        return tuple(int(round(v * share)) for v in self.eng)  # type: ignore[return-value]


@dataclass
class DemoAction:
    at: datetime
    post: str  # key of a post of the incident
    action: str  # ack | respond | dismiss | close | advance
    by: str = "值班员"
    url: str | None = None
    text: str = ""
    reason: str = ""


@dataclass
class DemoDay:
    start: datetime  # the day's 00:00 (aware, Asia/Shanghai)
    events: dict[str, str]
    posts: list[DemoPost]
    actions: list[DemoAction]
    by_key: dict[str, DemoPost] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_key = {p.key: p for p in self.posts}

    @property
    def first(self) -> datetime:
        return min(p.at for p in self.posts)

    @property
    def last(self) -> datetime:
        return max(p.at for p in self.posts)

    def released(self, now: datetime, src: str | None = None) -> list[DemoPost]:
        """Posts already published at ``now`` (newest first), of one source when given."""
        out = [p for p in self.posts if p.at <= now and (src is None or p.src == src)
               and (p.until is None or now < p.until)]
        return sorted(out, key=lambda p: (p.at, p.key), reverse=True)

    def labels(self) -> dict[str, tuple[str, int]]:
        return {p.post_id: (p.category, p.severity) for p in self.posts}


def _when(day0: datetime, text: Any, where: str) -> datetime:
    raw = str(text).strip()
    plus = 0
    if raw.startswith("+"):
        head, _, raw = raw.partition(" ")
        plus = int(head[1:] or 1)
    try:
        hh, mm = (int(x) for x in raw.split(":"))
        return day0 + timedelta(days=plus, hours=hh, minutes=mm)
    except ValueError:
        raise InputError(f"{DAY_FILE.name}: {where} 的时间无效: {text!r}（应为 HH:MM 或 +1 HH:MM）") from None


def _post(day0: datetime, obj: dict[str, Any], index: int) -> DemoPost:
    key = str(obj.get("id") or "")
    where = f"posts[{index}]（{key or '无 id'}）"
    src = obj.get("src")
    if not key or src not in SOURCES:
        raise InputError(f"{DAY_FILE.name}: {where} 需要 id，src 必须是 {'/'.join(SOURCES)} 之一")
    eng = tuple(int(x) for x in (obj.get("eng") or (0, 0, 0)))
    post = DemoPost(key=key, src=src, at=_when(day0, obj.get("at"), where), text=str(obj.get("text") or ""),
                    category=str(obj.get("cat") or "none"), severity=int(obj.get("sev") or 0),
                    title=str(obj.get("title") or obj.get("word") or ""), author=str(obj.get("author") or ""),
                    verified=obj.get("v"), followers=int(obj.get("fol") or 0), eng=eng,  # type: ignore[arg-type]
                    ramp_hours=float(obj.get("ramp") or 4), event=obj.get("ev"), core=bool(obj.get("core")),
                    mid=WEIBO_MID_BASE + index, num=int(obj.get("num") or 0), forum=str(obj.get("forum") or ""),
                    region=str(obj.get("region") or ""), index=index)
    if src == "hot":
        post.text = post.title
        post.until = _when(day0, obj["until"], where) if obj.get("until") else None
    return post


def _storm(day0: datetime, obj: dict[str, Any], index: int, originals: dict[str, DemoPost],
           fast: bool) -> list[DemoPost]:
    original = originals.get(str(obj.get("of")))
    where = f"storms[{index}]"
    if original is None or original.src != "weibo":
        raise InputError(f"{DAY_FILE.name}: {where} 的 of 必须是一条微博帖子的 id")
    n = int(obj.get("core_n" if fast else "n") or 0)
    start, end = _when(day0, obj["from"], where), _when(day0, obj["to"], where)
    texts = list(obj.get("texts") or ["转发微博"])
    rng = random.Random(f"{original.key}:{index}")  # the same storm every run
    posts = []
    for i in range(n):
        at = start + (end - start) * (i / max(1, n - 1))
        at = at.replace(second=0, microsecond=0)
        posts.append(DemoPost(
            key=f"{original.key}-rt{i + 1:02d}", src="weibo", at=at,
            text=f"{rng.choice(texts)}//@{original.author}", category=str(obj.get("cat") or original.category),
            severity=int(obj.get("sev") or 1), author=f"网友{rng.randint(10000, 99999)}",
            followers=rng.choice([35, 120, 480, 1500, 6200]), eng=(rng.randint(0, 30), rng.randint(0, 20),
                                                                   rng.randint(0, 90)),
            event=obj.get("ev") or original.event, core=fast, mid=STORM_MID_BASE + index * 1000 + i,
            repost_of=original.key))
    return posts


def load_day(day: date, fast: bool = False, path: Path = DAY_FILE) -> DemoDay:
    """The bundled day on ``day`` (local date); ``fast`` keeps the core posts and short storms."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"无法读取演示数据 {path}: {exc}") from None
    day0 = datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)
    posts = [_post(day0, obj, i) for i, obj in enumerate(raw.get("posts") or [])]
    originals = {p.key: p for p in posts}
    for i, obj in enumerate(raw.get("storms") or []):
        posts += _storm(day0, obj, i, originals, fast)
    if fast:
        posts = [p for p in posts if p.core]
    keys = {p.key for p in posts}
    actions = []
    for i, obj in enumerate(raw.get("actions") or []):
        if obj.get("post") not in keys:
            continue  # its post is not part of this (shortened) day
        actions.append(DemoAction(at=_when(day0, obj.get("at"), f"actions[{i}]"), post=str(obj["post"]),
                                  action=str(obj.get("action")), by=str(obj.get("by") or "值班员"),
                                  url=obj.get("url"), text=str(obj.get("text") or ""),
                                  reason=str(obj.get("reason") or "")))
    actions.sort(key=lambda a: a.at)
    return DemoDay(start=day0, events=dict(raw.get("events") or {}), posts=posts, actions=actions)
