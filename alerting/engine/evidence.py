"""Evidence that a crisis post and an incident report the same event (no I/O, no database).

A post's evidence (``PostEvidence``): its salient terms (jieba words weighted tf·idf with the
news IDF of ``alerting.engine.idf``, top ``TOP_TERMS``, L2-normalised), the places it names
(``yuqing.places``), descriptors of victims and actors (ages such as ``4岁``, occupations, named
schools, kindergartens and hospitals), its category and time.

An incident's state (``IncidentState``, kept in ``IncidentRow.features["g"]``) is small whatever
the number of members: the summed term vector (top ``CENTROID_TERMS``), a few recent members'
term vectors (``EXEMPLARS``), place and descriptor counts (top ``MAX_PLACES``/``MAX_DESC``), the
member count and the categories seen.

``pair_features(post, state, ...)`` turns one (post, incident) pair into the feature vector of
``FEATURES``, the inputs of the fitted model in ``alerting.engine.group_model``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerting.engine import idf as idf_table
from alerting.engine.features import clean
from yuqing import places as gaz
from yuqing.places import Place

TOP_TERMS = 20
CENTROID_TERMS = 60
EXEMPLARS = 6
EXEMPLAR_TERMS = 12
MAX_PLACES = 24
MAX_DESC = 24
# words too general to tell one event from another in this domain, whatever the news IDF says
_DOMAIN_STOP = {"妇联", "妇女", "儿童", "女童", "男童", "孩子", "网友", "记者", "当地", "事件", "情况", "相关", "目前",
                "已经", "今天", "昨天", "今日", "昨日", "我们", "你们", "他们", "这个", "那个", "什么", "怎么", "真的",
                "就是", "还是", "一个", "没有", "不是", "这样", "大家", "希望", "知道", "现在", "时候", "可以", "自己",
                "转发", "微博", "视频", "全文", "展开", "网页", "链接", "回复", "评论"}
_AGE = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,3})(?:岁|周岁)(?:半)?的?([\u4e00-\u9fa5]{0,2}?)"
                  r"(女童|男童|女孩|男孩|女生|男生|孩子|幼童|女婴|男婴|宝宝|儿子|女儿|老人|女子|男子|妇女|孕妇)?")
_JOBS = ("教师", "老师", "班主任", "校长", "园长", "保育员", "医生", "护士", "司机", "校车司机", "保安", "外卖员",
         "快递员", "村干部", "村支书", "村主任", "民警", "辅警", "主播", "网红", "厨师", "保姆", "月嫂", "工人",
         "环卫工", "店主", "房东", "教练", "律师", "法官", "公务员", "干部", "主任", "书记", "局长", "副县长")
_INSTITUTION = re.compile(r"([\u4e00-\u9fa5]{2,10}?)(幼儿园|小学|中学|学校|学院|大学|医院|卫生院|托育中心|托育机构|"
                          r"托儿所|敬老院|福利院|养老院|派出所|法院|公司|工厂)")
_INST_STOP_PREFIX = ("一所", "一家", "一个", "该", "这所", "这家", "那所", "那家", "某", "本", "当地", "民办", "公办",
                     "附近", "县城", "乡镇", "镇上", "村里", "市里", "所在", "涉事", "我们", "孩子", "送往", "送到", "在",
                     "到", "去", "的")
_INST_CUT = re.compile(r"[在于的了是到从向给被把和与及岁、，。\s]")
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

FEATURES = ("cos_centroid", "cos_exemplar", "shared_idf", "rare_shared", "coverage", "char_cos", "char_coverage", "place_agree", "place_fine",
            "place_city",
            "place_province", "post_no_place", "incident_no_place", "both_no_place", "desc_shared", "age_conflict", "hours_log",
            "fresh", "same_category", "members_log")
TOP_CHARS = 40
CENTROID_CHARS = 120


def _cn_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_NUM.get(text[1:], 0)
    if "十" in text:
        a, _, b = text.partition("十")
        return _CN_NUM.get(a, 0) * 10 + (_CN_NUM.get(b, 0) if b else 0)
    return _CN_NUM.get(text)


def descriptors(text: str) -> set[str]:
    """``age:4``, ``job:校车司机``, ``org:才湾镇中心小学`` found in ``text``."""
    out: set[str] = set()
    for m in _AGE.finditer(text):
        age = _cn_int(m.group(1))
        if age is not None and 0 < age < 100:
            out.add(f"age:{age}")
    for job in _JOBS:
        if job in text:
            out.add(f"job:{job}")
    for m in _INSTITUTION.finditer(text):
        name = _INST_CUT.split(m.group(1))[-1]  # 岁女童在才湾镇中心 → 才湾镇中心
        while name and name.startswith(_INST_STOP_PREFIX):
            for p in _INST_STOP_PREFIX:
                if name.startswith(p):
                    name = name[len(p):]
                    break
        if len(name) >= 2:
            out.add(f"org:{name}{m.group(2)}")
    return out


def _normalise(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {k: v / norm for k, v in vec.items()}


def _top(vec: dict[str, float], k: int) -> dict[str, float]:
    if len(vec) <= k:
        return vec
    return dict(sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


def terms(text: str) -> dict[str, float]:
    """Salient words of ``text``: tf·idf, top TOP_TERMS, L2-normalised."""
    counts: dict[str, int] = {}
    for word in idf_table.words(text):
        if word not in _DOMAIN_STOP and not word.isdigit():
            counts[word] = counts.get(word, 0) + 1
    vec = {w: (1.0 + math.log(c)) * idf_table.idf(w) for w, c in counts.items()}
    return _normalise(_top(vec, TOP_TERMS))


def char_vector(text: str) -> dict[str, float]:
    """CJK characters and bigrams of ``text``: tf·idf (news IDF), top TOP_CHARS, L2-normalised."""
    counts: dict[str, int] = {}
    for gram in idf_table.char_grams(text):
        counts[gram] = counts.get(gram, 0) + 1
    vec = {g: (1.0 + math.log(c)) * idf_table.char_idf(g) ** 2 for g, c in counts.items()}
    return _normalise(_top(vec, TOP_CHARS))


# a first-person account (victim, family, eyewitness): 我/咱/俺 or a kin word of the writer's;
# not a commentary that asks a question in its title (为什么…？)
FIRST_PERSON = re.compile(r"我|咱|俺|儿子|女儿|闺女|孙子|侄|老公|老婆|表妹|娃")
COMMENTARY = re.compile(r"为什么|？\n")


def first_person(text: str) -> bool:
    return bool(FIRST_PERSON.search(text)) and not COMMENTARY.search(text)


@dataclass
class PostEvidence:
    terms: dict[str, float]
    places: list[Place]
    desc: set[str]
    category: str
    at: datetime | None = None
    chars: dict[str, float] = field(default_factory=dict)
    first_person: bool = False  # see ``first_person``: a place-less one joins at a lower threshold

    @classmethod
    def of(cls, text: str, category: str = "", at: datetime | None = None) -> PostEvidence:
        cleaned = clean(text)
        return cls(terms(cleaned), gaz.extract(cleaned), descriptors(cleaned), category or "", at,
                   char_vector(cleaned), first_person(text))


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    return dot  # both sides are unit vectors (the centroid is normalised when read)


@dataclass
class IncidentState:
    centroid: dict[str, float] = field(default_factory=dict)  # summed unit vectors (not normalised)
    exemplars: list[dict[str, float]] = field(default_factory=list)
    places: dict[str, int] = field(default_factory=dict)  # code -> count
    place_objs: dict[str, Place] = field(default_factory=dict)
    desc: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    n: int = 0
    chars: dict[str, float] = field(default_factory=dict)  # summed unit char vectors
    _unit: dict[str, float] | None = None
    _char_unit: dict[str, float] | None = None

    def unit(self) -> dict[str, float]:
        if self._unit is None:
            self._unit = _normalise(self.centroid)
        return self._unit

    def char_unit(self) -> dict[str, float]:
        if self._char_unit is None:
            self._char_unit = _normalise(self.chars)
        return self._char_unit

    def add(self, post: PostEvidence) -> None:
        for k, v in post.terms.items():
            self.centroid[k] = self.centroid.get(k, 0.0) + v
        self.centroid = _top(self.centroid, CENTROID_TERMS)
        for k, v in post.chars.items():
            self.chars[k] = self.chars.get(k, 0.0) + v
        self.chars = _top(self.chars, CENTROID_CHARS)
        self._unit = self._char_unit = None
        self.exemplars = (self.exemplars + [_top(post.terms, EXEMPLAR_TERMS)])[-EXEMPLARS:]
        for p in post.places:
            self.places[p.code] = self.places.get(p.code, 0) + 1
            self.place_objs[p.code] = p
        if len(self.places) > MAX_PLACES:
            keep = sorted(self.places, key=lambda c: (-self.places[c], c))[:MAX_PLACES]
            self.places = {c: self.places[c] for c in keep}
            self.place_objs = {c: self.place_objs[c] for c in keep}
        for d in post.desc:
            self.desc[d] = self.desc.get(d, 0) + 1
        if len(self.desc) > MAX_DESC:
            self.desc = dict(sorted(self.desc.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_DESC])
        if post.category:
            self.categories[post.category] = self.categories.get(post.category, 0) + 1
        self.n += 1

    def keys(self) -> set[str]:
        """Index keys: the centroid's terms and the place codes."""
        return {f"t:{k}" for k in self.centroid} | {f"p:{c}" for c in self.places}

    def to_json(self) -> dict[str, Any]:
        return {"c": {k: round(v, 4) for k, v in self.centroid.items()},
                "x": [{k: round(v, 4) for k, v in e.items()} for e in self.exemplars],
                "p": [{**self.place_objs[c].to_json(), "n": self.places[c]} for c in self.places],
                "d": self.desc, "k": self.categories, "n": self.n,
                "ch": {k: round(v, 4) for k, v in self.chars.items()}}

    @classmethod
    def from_json(cls, data: dict | None) -> IncidentState:
        data = data or {}
        objs = {str(p["code"]): Place.from_json(p) for p in data.get("p") or []}
        return cls(centroid=dict(data.get("c") or {}), exemplars=[dict(e) for e in data.get("x") or []],
                   places={str(p["code"]): int(p.get("n") or 1) for p in data.get("p") or []}, place_objs=objs,
                   desc=dict(data.get("d") or {}), categories=dict(data.get("k") or {}), n=int(data.get("n") or 0),
                   chars=dict(data.get("ch") or {}))


def primary_place(places: list[Place]) -> Place | None:
    """The place a post is about: the first one named at the finest level it reaches (county or finer
    counts as one level), so 新邵…隆回才出事 is about 新邵."""
    if not places:
        return None
    finest = max(min(gaz.RANK[p.level], gaz.RANK["county"]) for p in places)
    return next(p for p in places if min(gaz.RANK[p.level], gaz.RANK["county"]) == finest)


def dominant_places(state: IncidentState) -> list[Place]:
    """The incident's own places: those named by at least half as many members as the most named one."""
    if not state.places:
        return []
    top = max(state.places.values())
    return [state.place_objs[c] for c, n in state.places.items() if n * 2 >= top]


def place_agree(post: list[Place], state: IncidentState) -> bool:
    """The post's primary place and one of the incident's dominant places agree as far as both go
    (down to the city at least): 南昌 and 南昌, 郸城县 and 汲冢镇 in 郸城县."""
    main = primary_place(post)
    dom = dominant_places(state)
    if main is None or not dom:
        return False
    finest_inc = max(min(gaz.RANK[p.level], gaz.RANK["county"]) for p in dom)
    need = min(min(gaz.RANK[main.level], gaz.RANK["county"]), finest_inc)
    if need < gaz.RANK["city"]:
        return False
    return any((gaz.contains(main, b) or gaz.contains(b, main))
               and min(gaz.RANK[main.level], gaz.RANK[b.level], gaz.RANK["county"]) >= need for b in dom)


def place_relation(post: list[Place], incident: list[Place], dominant: list[Place] | None = None
                   ) -> tuple[int, bool]:
    """(depth of the finest compatible pair: 0 none, 1 province, 2 city, 3 county or finer; conflict).

    Conflict: the post's primary place is compatible with (inside, around or equal to) none of the
    incident's dominant places and known to differ from at least one of them.
    """
    if not post or not incident:
        return 0, False
    depth = 0
    for a in post:
        for b in incident:
            if gaz.contains(a, b) or gaz.contains(b, a):
                coarse = min(gaz.RANK[a.level], gaz.RANK[b.level])
                depth = max(depth, min(3, coarse + 1))
    main = primary_place(post)
    dom = dominant if dominant is not None else incident
    if main is not None and gaz.RANK[main.level] >= gaz.RANK["county"]:
        # a county (or finer) is compared with the incident's own counties, not with the city around both
        fine = [b for b in dom if gaz.RANK[b.level] >= gaz.RANK["county"]]
        dom = fine or dom
    conflict = False
    if main is not None and dom:
        compatible = any(gaz.contains(main, b) or gaz.contains(b, main) for b in dom)
        conflict = not compatible and any(gaz.conflicts(main, b) for b in dom)
    return depth, conflict


def pair_features(post: PostEvidence, state: IncidentState, category: str,
                  last_post_at: datetime | None) -> list[float]:
    unit = state.unit()
    cos_c = cosine(post.terms, unit)
    cos_x = max((cosine(post.terms, e) / (math.sqrt(sum(v * v for v in e.values())) or 1.0)
                 for e in state.exemplars), default=0.0)
    shared = [k for k in post.terms if k in state.centroid]
    weights = sorted((idf_table.idf(k) for k in shared), reverse=True)
    top = idf_table.max_idf()
    shared_idf = min(1.0, sum(weights[:5]) / (3 * top))
    rare = weights[0] / top if weights else 0.0
    depth, _conflict = place_relation(post.places, list(state.place_objs.values()))
    ages_post = {d for d in post.desc if d.startswith("age:")}
    ages_inc = {d for d in state.desc if d.startswith("age:")}
    age_conflict = bool(ages_post and ages_inc and not ages_post & ages_inc)
    desc_shared = min(2, len([d for d in post.desc if d in state.desc])) / 2
    hours = 0.0
    if post.at is not None and last_post_at is not None:
        hours = max(0.0, (post.at - last_post_at).total_seconds() / 3600)
    same_cat = 1.0 if post.category and (post.category == category or post.category in state.categories) else 0.0
    char_cos = cosine(post.chars, state.char_unit())
    coverage = sum(v * v for k, v in post.terms.items() if k in state.centroid)
    char_coverage = sum(v * v for k, v in post.chars.items() if k in state.chars)
    return [cos_c, cos_x, shared_idf, rare, coverage, char_cos, char_coverage, float(place_agree(post.places, state)), float(depth == 3), float(depth == 2), float(depth == 1),
            float(not post.places), float(not state.places), float(not post.places and not state.places), desc_shared, float(age_conflict),
            math.log1p(hours) / math.log1p(72), math.exp(-hours / 3), same_cat,
            math.log1p(state.n) / math.log1p(50)]
