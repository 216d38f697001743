"""Places named in Chinese text, resolved to the administrative hierarchy (行政区划代码).

Guarantees:

* ``extract(text)`` returns the places a text names, in text order, without repeats, each a
  ``Place(code, name, level, parents)``. Provinces, cities and counties come from the gazetteer of
  the PyPI package ``cpca`` (its ``resources/adcodes.csv``, 12-digit codes of the national
  statistics bureau; read directly, the package itself is never imported: it needs pandas and
  ``pkg_resources``). Full names (郸城县) and short names (郸城) both match; a short name that is
  also a common word (东方, 和平, 城区) is not taken as a place. A name that several units share
  (朝阳区) is resolved by another place in the same text (北京朝阳区); left ambiguous, the
  highest-level reading is kept if the others lie inside it, else the name is dropped.
* Towns (…镇/乡/街道) and villages (…村) are not in the gazetteer: they are found by their suffix,
  get a synthetic code ``town:NAME`` / ``village:NAME`` and, as parents, the nearest county (or
  city) named before them in the same text (and a village the nearest town).
* ``contains(a, b)``: ``b`` lies in ``a`` (or is ``a``). A county named alone is inside its city
  and province because its parents come from its code.
* ``conflicts(a, b)``: ``a`` and ``b`` are known to be different places, neither inside the other:
  two different counties, a county and a city it is not in, two different towns. A town whose
  county is unknown does not conflict with any county. A text naming no place yields ``[]``, and
  an empty list conflicts with nothing.
* Regions (what incidents and federation units store): ``code_of(place)`` is the 12-digit code
  of a province/city/county, or ``<county code>/<town>[/<village>]``; ``contains_code(unit, region)``
  compares them by level (6-digit codes read as 12), town codes through their county;
  ``display_name`` gives 河南省周口市郸城县汲冢镇; ``Region`` is (code, name, level, confidence).
* ``locate(text, title, ip_region=, author_location=)``: where one post's event is. Places named
  in title/text (the mention most others agree with, weighted by cue: a place after 老家/户籍 or
  before 人/网友 counts 0.1, after 在…打工/现居 0.3, a dateline 0.5, before 一女子/警方/通报 2) beat
  the author's location, which beats the IP属地 ("IP属地：X"/"发布于 X" lines are the poster's and
  are taken out of the text). A name several units share is settled by the post's other places,
  then by the IP属地/author location, else by a prior (municipality, capital) and marked ambiguous.
  Former names, 撤县设市 names newer than cpca's table and nicknames come from ``ALIASES``.

This module sits on the ground floor: it imports only the standard library and jieba.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEVELS = ("province", "city", "county", "town", "village")
RANK = {name: i for i, name in enumerate(LEVELS)}

_PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "直辖县级行政区划"}
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "新区", "矿区", "特区",
             "省", "市", "县", "区", "旗", "盟")
# short names that are ordinary words in running text (on top of the jieba-frequency rule)
_NOT_PLACES = {"城区", "新区", "郊区", "矿区", "市中", "开发", "高新", "和平", "东方", "大同", "合作", "吉利",
               "正定", "平安", "安全", "永年", "全州", "城西", "城东", "城南", "城北", "城中", "城关", "市北", "市南",
               "河东", "河西", "江北", "江南", "江东", "新城", "老城", "古城", "经开", "东区", "西区", "南区", "北区",
               "中区", "向阳", "光明", "红旗", "前进", "胜利", "东风", "长安", "新华", "解放", "青山", "白山", "宝山"}
_SHORT_OK = {"全州", "永年"}  # real counties whose short name the frequency rule would reject
_TOWN = re.compile(r"([\u4e00-\u9fa5]{2,4}?)(街道|镇|乡|村)")
_TOWN_LEAD = "在于从到是的了和与及去来往回向自据对把被将让给为由至经"
_TOWN_STOP_END = ("农村", "乡村", "邻村", "进村", "到村", "回村", "全村", "本村", "出村", "诉村", "下乡", "进乡", "古镇",
                  "小镇", "乡镇", "城镇", "时街道", "城乡", "隔壁村", "邻村")
_TOWN_FUNCTION = "个们这那哪么什啥吗呢吧啊呀也都就还很太更最再又着过得之其此每某些说讲问叫喊听看想"
_TOWN_STOP_PREFIX = ("该", "本", "全", "各", "这", "那", "某", "一", "每", "同", "邻", "隔壁", "附近", "我", "你",
                     "他", "她", "老", "新农", "美丽", "偏远", "周边", "所在", "当地", "城中", "城乡", "乡")
_TOWN_STOP = {"农村", "乡村", "城镇", "山村", "渔村", "古镇", "小镇", "重镇", "名镇", "家乡", "老乡", "城乡",
              "下乡", "返乡", "回乡", "故乡", "异乡", "他乡", "思乡", "同乡", "乡镇", "村镇", "街道",
              "小山村", "新农村", "养老村", "特色小镇", "旅游村", "文明村", "贫困村", "城中村"}


# Names the gazetteer lacks, each mapped to the unit of cpca 0.5.5's table that covers it today.
# Provenance: 国务院 approvals of the changes (dates in the comments), checked against the codes that
# cpca ships; nicknames are the usual 简称/别称 of media text (only unambiguous ones: 江城 is
# 武汉 and 吉林, 鹿城 several cities, so both are left out).
ALIASES: dict[str, str] = {
    # former names (地名更名)
    "襄樊市": "420600000000", "襄樊": "420600000000",  # 2010 襄樊市 → 襄阳市
    "思茅市": "530800000000",  # 2007 地级思茅市 → 普洱市 (思茅 alone is 思茅区 of 普洱市)
    "通什市": "469001000000", "通什": "469001000000",  # 2001 通什市 → 五指山市
    "大庸市": "430800000000", "大庸": "430800000000",  # 1994 大庸市 → 张家界市
    "荆沙市": "421000000000", "荆沙": "421000000000",  # 1996 荆沙市 → 荆州市
    "铜仁地区": "520600000000", "毕节地区": "520500000000",  # 2011 地区 → 地级市
    "海东地区": "630200000000", "日喀则地区": "540200000000", "昌都地区": "540300000000",
    "林芝地区": "540400000000", "山南地区": "540500000000", "哈密地区": "650500000000",
    "吐鲁番地区": "650400000000",
    "那曲市": "542400000000",  # 2017 那曲地区 → 那曲市 (cpca still lists 那曲地区)
    # merged or re-drawn districts (区划调整): the unit that holds the area now
    "崇文区": "110101000000", "崇文": "110101000000",  # 2010 → 东城区
    "宣武区": "110102000000", "宣武": "110102000000",  # 2010 → 西城区
    "闸北区": "310106000000", "闸北": "310106000000",  # 2015 → 静安区
    "卢湾区": "310101000000", "卢湾": "310101000000",  # 2011 → 黄浦区
    "南汇区": "310115000000", "南汇": "310115000000",  # 2009 → 浦东新区
    "塘沽区": "120116000000", "塘沽": "120116000000",  # 2009 → 滨海新区
    "汉沽区": "120116000000", "汉沽": "120116000000",
    "大港区": "120116000000", "大港": "120116000000",
    "莱芜区": "371202000000",  # 2019 莱芜市 → 济南市莱芜区; cpca 0.5.5 still has 莱芜市/莱城区
    "达县": "511703000000",  # 2013 达县 → 达川区
    "双城市": "230113000000",  # 2014 → 哈尔滨市双城区
    # 撤县设市 after cpca 0.5.5's table: the new name → the county it still lists
    "宁乡市": "430124000000", "监利市": "421023000000", "邹平市": "371626000000",  # 2017, 2020, 2018
    "滦州市": "130223000000", "平泉市": "130823000000", "长垣市": "410728000000",  # 2018, 2017, 2019
    "彬州市": "610427000000", "射洪市": "510922000000", "隆昌市": "511028000000",  # 2018, 2019, 2017
    "华亭市": "620824000000", "荔浦市": "450331000000", "水富市": "530630000000",  # 2018, 2018, 2018
    "滦州": "130223000000", "彬州": "610427000000",
    "郫都区": "510124000000", "郫都": "510124000000",  # 2016 郫县 → 郫都区
    "龙海区": "350681000000",  # 2021 龙海市 → 漳州市龙海区
    # nicknames (简称/别称) of media and social text
    "沪上": "310000000000", "魔都": "310000000000", "申城": "310000000000",
    "帝都": "110000000000", "京城": "110000000000",
    "内蒙古": "150000000000", "西藏": "540000000000",  # the nation-cut short form leaves one character
    "津门": "120000000000", "山城重庆": "500000000000", "蓉城": "510100000000",
    "羊城": "440100000000", "穗城": "440100000000", "鹏城": "440300000000",
    "泉城": "370100000000", "榕城": "350100000000", "冰城": "230100000000",
    "春城": "530100000000", "星城": "430100000000", "鹭岛": "350200000000",
    "杭城": "330100000000", "金陵": "320100000000", "筑城": "520100000000",
    "邕城": "450100000000", "甬城": "330200000000", "锡城": "320200000000",
}


@dataclass(frozen=True)
class Place:
    """One named place. ``parents``: codes of the units it lies in, outermost first."""

    code: str
    name: str
    level: str  # province | city | county | town | village
    parents: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "level": self.level, "parents": list(self.parents)}

    @classmethod
    def from_json(cls, data: dict) -> Place:
        return cls(str(data["code"]), str(data["name"]), str(data["level"]), tuple(data.get("parents") or ()))


class GazetteerUnavailable(RuntimeError):
    """The cpca package (a dependency in pyproject.toml) is not installed."""


def gazetteer_path() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise GazetteerUnavailable("未安装 cpca（pip install cpca），无法识别地名")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


def _level(code: str) -> str:
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    return "county"


def _parents(code: str) -> tuple[str, ...]:
    level = _level(code)
    province = code[:2] + "0" * 10
    city = code[:4] + "0" * 8
    if level == "province":
        return ()
    if level == "city":
        return (province,)
    return (province, city)


def _short(name: str, nations: list[str]) -> str | None:
    """郸城县 → 郸城, 广西壮族自治区 → 广西, 恩施土家族苗族自治州 → 恩施; None when nothing is left."""
    if "自治" in name:
        cut = min([i for n in nations for form in (n, n[:-1] if len(n) >= 3 else n)
                   if (i := name.find(form)) > 0] + [name.find("自治")])
        core = name[:cut]
    else:
        core = name
        for suffix in _SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix):
                core = core[: -len(suffix)]
                break
    return core if len(core) >= 2 and core != name else None


@lru_cache(maxsize=1)
def _jieba_freq() -> dict[str, tuple[int, str]]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    out: dict[str, tuple[int, str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and 2 <= len(parts[0]) <= 4:
                out[parts[0]] = (int(parts[1]), parts[2] if len(parts) > 2 else "")
    return out


def _is_word(short: str) -> bool:
    """A short name that running text uses as an ordinary word (东方, 和平) is no place."""
    if short in _SHORT_OK:
        return False
    if short in _NOT_PLACES:
        return True
    freq, tag = _jieba_freq().get(short, (0, ""))
    return tag != "ns" and freq >= 1000 or tag in ("a", "an", "v", "vn", "d", "ad", "c", "p") and freq >= 50


@lru_cache(maxsize=1)
def _jieba_ns() -> frozenset[str]:
    return frozenset(w for w, (_f, tag) in _jieba_freq().items() if tag == "ns")


def _is_common(word: str) -> bool:
    freq, tag = _jieba_freq().get(word, (0, ""))
    return freq >= 50 and tag != "ns"


@dataclass
class _Gazetteer:
    names: dict[str, str]  # code -> official name
    aliases: dict[str, tuple[str, ...]]  # text form -> codes
    longest: int
    full_names: dict[str, tuple[str, ...]]  # official name -> codes
    lengths: dict[str, tuple[int, ...]]  # first character -> alias lengths, longest first


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    path = gazetteer_path()
    nations_path = path.parent / "56_nations.csv"
    nations = [x.strip() for x in nations_path.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if nations_path.exists() else []
    names: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = (row.get("adcode") or "").strip(), (row.get("name") or "").strip()
            if len(code) == 12 and name and name not in _PLACEHOLDER_NAMES:
                names[code] = name
    aliases: dict[str, list[str]] = {}
    for code, name in names.items():
        aliases.setdefault(name, []).append(code)
        short = _short(name, nations)
        if short and not _is_word(short):
            aliases.setdefault(short, []).append(code)
        for side in ("左翼", "右翼"):  # the usual abbreviation of banners: 科尔沁左翼后旗 → 科左后旗
            if side in name and name.endswith("旗"):
                aliases.setdefault(name[0] + side[0] + name.split(side, 1)[1], []).append(code)
    for alias, code in ALIASES.items():  # former names, renamed units, nicknames (see ALIASES)
        if code in names and code not in aliases.get(alias, []):
            aliases.setdefault(alias, []).append(code)
    full: dict[str, list[str]] = {}
    for code, name in names.items():
        full.setdefault(name, []).append(code)
    lengths: dict[str, set[int]] = {}
    for alias in aliases:
        lengths.setdefault(alias[0], set()).add(len(alias))
    return _Gazetteer(names, {k: tuple(sorted(set(v))) for k, v in aliases.items()},
                      max(len(k) for k in aliases), {k: tuple(v) for k, v in full.items()},
                      {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()})


def lookup(code: str) -> Place | None:
    """The gazetteer place with this code (province, city or county), else None."""
    g = gazetteer()
    if code not in g.names:
        return None
    return Place(code, g.names[code], _level(code), _parents(code))


def _scan(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Longest gazetteer matches, left to right: (start, end, candidate codes)."""
    g = gazetteer()
    found = []
    i, n = 0, len(text)
    while i < n:
        hit = None
        for length in g.lengths.get(text[i], ()):
            if i + length > n:
                continue
            codes = g.aliases.get(text[i:i + length])
            if codes:
                hit = (i, i + length, codes)
                break
        if hit and hit[1] - hit[0] == 2 and text[i + 1] in "县区" and not _clean_left(text, i, found):
            hit = None  # 和县, 临县: in running text mostly 来临县城, 暖和县里
        if hit and i > 0 and hit[2][0] not in g.full_names.get(text[hit[0]:hit[1]], ()) \
                and _is_common(text[i - 1:i + 1]) and not _clean_left(text, i, found):
            hit = None  # a short name glued to the word before it: 希望都没事 is no 望都
        if hit:
            found.append(hit)
            i = hit[1]
        else:
            i += 1
    return found


def _clean_left(text: str, i: int, found: list[tuple[int, int, tuple[str, ...]]]) -> bool:
    """A two-character county name stands alone: text start, after a non-CJK char, or right after a place."""
    if i == 0 or not ("\u4e00" <= text[i - 1] <= "\u9fa5"):
        return True
    return bool(found) and found[-1][1] == i


def _resolve(candidates: list[tuple[str, ...]]) -> list[str | None]:
    """One code per match: the reading supported by another match's place, else the outermost."""
    plain = {codes[0] for codes in candidates if len(codes) == 1}
    out: list[str | None] = []
    for codes in candidates:
        if len(codes) == 1:
            out.append(codes[0])
            continue
        supported = [c for c in codes if any(p in plain for p in _parents(c))
                     or any(c in _parents(o) for o in plain)]
        if len(supported) == 1:
            out.append(supported[0])
            continue
        pool = supported or list(codes)
        outer = min(pool, key=lambda c: RANK[_level(c)])
        inside = all(c == outer or outer in _parents(c) for c in pool)
        out.append(outer if inside else None)
    return out


def _town_name(raw: str, suffix: str) -> str | None:
    core = raw
    while len(core) > 2 and core[0] in _TOWN_LEAD:
        core = core[1:]
    name = core + suffix
    if name.endswith(_TOWN_STOP_END):
        return None
    tail = core[-2:]
    if any(ch in _TOWN_LEAD or ch in _TOWN_FUNCTION for ch in tail) or _is_word(tail) and tail not in _jieba_ns():
        return None
    if len(core) < 2 or name in _TOWN_STOP or core in _TOWN_STOP or core.startswith(_TOWN_STOP_PREFIX):
        return None
    return name


def extract(text: str) -> list[Place]:
    """The places ``text`` names (simplified Chinese), in order, each once."""
    if not text:
        return []
    matches = _scan(text)
    codes = _resolve([m[2] for m in matches])
    g = gazetteer()
    spans: list[tuple[int, Place]] = []
    for (start, _end, _cands), code in zip(matches, codes, strict=True):
        if code is not None:
            spans.append((start, Place(code, g.names[code], _level(code), _parents(code))))
    # towns and villages in the text between gazetteer matches
    cuts = [0] + [x for m in matches for x in (m[0], m[1])] + [len(text)]
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        for m in _TOWN.finditer(text, a, b):
            name = _town_name(m.group(1), m.group(2))
            if name:
                level = "village" if m.group(2) == "村" else "town"
                # identity = the last two characters of the name before its suffix: a regex cannot
                # tell where a town's name starts (接到桥头河镇 / 桥头河镇), its end is certain
                spans.append((m.start() + (len(m.group(1)) + len(m.group(2)) - len(name)), Place(
                    f"{level}:{name[-len(m.group(2)) - 2:]}", name, level, ())))
    spans.sort(key=lambda s: s[0])
    out: list[Place] = []
    seen: set[str] = set()
    last_coded: Place | None = None
    last_town: Place | None = None
    for _start, place in spans:
        if place.level in ("town", "village"):
            parents: tuple[str, ...] = ()
            if last_coded is not None and RANK[last_coded.level] >= RANK["city"]:
                parents = (*last_coded.parents, last_coded.code)
            if place.level == "village" and last_town is not None:
                parents = (*last_town.parents, last_town.code)
            place = Place(place.code, place.name, place.level, parents)
            if place.level == "town":
                last_town = place
        else:
            last_coded = place
            last_town = None
        if place.code not in seen:
            seen.add(place.code)
            out.append(place)
    return out


def contains(a: Place, b: Place) -> bool:
    """``b`` lies inside ``a`` (or is ``a``)."""
    return a.code == b.code or a.code in b.parents


def _coded_parent(p: Place) -> str | None:
    coded = [c for c in p.parents if ":" not in c]
    return coded[-1] if coded else None


def conflicts(a: Place, b: Place) -> bool:
    """``a`` and ``b`` are known to be different places, neither inside the other."""
    if contains(a, b) or contains(b, a):
        return False
    a_synth, b_synth = ":" in a.code, ":" in b.code
    if not a_synth and not b_synth:
        return True
    if a_synth and b_synth:
        pa, pb = _coded_parent(a), _coded_parent(b)
        if pa and pb and pa != pb and pa not in lookup_parents(pb) and pb not in lookup_parents(pa):
            return True
        if a.level == b.level:
            return True  # two differently named towns (or villages)
        inner, outer = (a, b) if RANK[a.level] > RANK[b.level] else (b, a)
        town = next((c for c in inner.parents if c.startswith("town:")), None)
        return town is not None and town != outer.code
    synth, coded = (a, b) if a_synth else (b, a)
    parent = _coded_parent(synth)
    if parent is None:
        return False  # a town whose county is unknown: no known conflict
    return parent != coded.code and coded.code not in lookup_parents(parent) \
        and parent not in lookup_parents(coded.code)


def lookup_parents(code: str) -> tuple[str, ...]:
    return _parents(code) if ":" not in code and len(code) == 12 else ()


def most_specific(places: list[Place]) -> list[Place]:
    """The places no other listed place lies inside (郸城县 from [河南省, 周口市, 郸城县])."""
    return [p for p in places if not any(q is not p and q.code != p.code and contains(p, q) for q in places)]


# ---------------------------------------------------------------------------------------------
# Region codes and containment (what units and incidents store)
# ---------------------------------------------------------------------------------------------
# A region code is the 12-digit statistics-bureau code cpca gives for a province, city or county
# (a 6-digit code is read as the same unit: 411625 == 411625000000). A town or village, which the
# gazetteer lacks, is written as its county's (or city's) code and its name(s) after a slash:
# ``411625000000/汲冢镇``, ``411625000000/汲冢镇/王庄村``; one whose county is unknown is ``/汲冢镇``.

_SIGNIFICANT = ((2, 10), (4, 8), (6, 6), (9, 3))  # (prefix digits, trailing zeros) per level


CONFIDENT = 0.5  # a region at least this sure routes an incident; below it goes to triage


@dataclass(frozen=True)
class Region:
    """Where an incident is: a region code (see above), its full name, level and confidence 0–1."""

    code: str
    name: str
    level: str
    confidence: float

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "level": self.level,
                "confidence": round(self.confidence, 2)}


def normalize_code(code: str) -> str:
    """``411625`` → ``411625000000``; a town/village code keeps its names; other text is unchanged."""
    code = (code or "").strip()
    base, sep, rest = code.partition("/")
    if base.isdigit() and len(base) in (2, 4, 6, 9):
        base = base.ljust(12, "0")
    return base + sep + rest


def _prefix(digits: str) -> str:
    for keep, zeros in _SIGNIFICANT:
        if digits[keep:] == "0" * zeros:
            return digits[:keep]
    return digits


def contains_code(unit_code: str, region_code: str) -> bool:
    """A unit whose region is ``unit_code`` covers ``region_code`` (it lies inside or is the same).

    Digits compare by level (省 2, 市 4, 县 6, 镇 9 significant digits); a town/village code is
    covered by its parent's units and by a unit with the same town path. A town code whose county
    is unknown (``/汲冢镇``) is covered only by that same code; empty codes are covered by nothing.
    """
    unit, region = normalize_code(unit_code), normalize_code(region_code)
    if not unit or not region:
        return False
    u_base, _, u_names = unit.partition("/")
    r_base, _, r_names = region.partition("/")
    if not u_base or not r_base:
        return unit == region
    if not (u_base.isdigit() and r_base.isdigit() and len(u_base) == len(r_base) == 12):
        return unit == region
    if u_names:  # a town/village unit: same parent, and the region's names start with the unit's
        return u_base == r_base and (r_names == u_names or r_names.startswith(u_names + "/"))
    return r_base.startswith(_prefix(u_base))


def code_of(place: Place) -> str:
    """The region code of a place (see above)."""
    if ":" not in place.code:
        return place.code
    coded = _coded_parent(place) or ""
    names = [c.split(":", 1)[1] for c in place.parents if c.startswith("town:")]
    return "/".join([coded, *names, place.name])


def display_name(place: Place) -> str:
    """河南省周口市郸城县汲冢镇: the place with the names of the units it lies in."""
    g = gazetteer()
    parts = [g.names[c] for c in place.parents if c in g.names]
    if ":" in place.code:
        parts += [c.split(":", 1)[1] for c in place.parents if c.startswith("town:")]
    return "".join(parts) + place.name


def county_of(code: str) -> str | None:
    """The 12-digit county code a region code lies in (None above county level or unknown)."""
    base = normalize_code(code).partition("/")[0]
    if len(base) != 12 or not base.isdigit() or base[4:] == "0" * 8:
        return None
    return base[:6] + "0" * 6


def city_of(code: str) -> str | None:
    """The 12-digit city code (a municipality's 市辖区 ``110100…`` included) a region code lies in."""
    base = normalize_code(code).partition("/")[0]
    if len(base) != 12 or not base.isdigit() or base[2:] == "0" * 10:
        return None
    return base[:4] + "0" * 8


# ---------------------------------------------------------------------------------------------
# Where one post's event is
# ---------------------------------------------------------------------------------------------
# Lines such as "IP属地：广东" / "发布于 北京" name where the poster is, not the event.
_POSTER = re.compile(r"(?:IP\s*属地|ip\s*属地|IP归属地|IP地址|发布于|发布地[点址]?)\s*[:：]?\s*([\u4e00-\u9fa5]{2,12})")
# a place after these words is where someone comes from or lives, not where it happened
_ORIGIN_BEFORE = ("老家", "户籍", "籍贯", "祖籍", "原籍", "娘家", "出生于", "来自")
_ORIGIN_AFTER = ("人，", "人。", "人在", "籍", "老乡", "口音")
_ELSEWHERE_BEFORE = ("老家", "户籍", "籍贯", "祖籍", "原籍", "现居", "定居", "远在", "娘家", "出生于", "毕业于",
                     "来自", "记者", "工作在", "打工", "嫁到外地", "回到", "转学到", "搬到", "去了", "逃到", "跑到")
_ELSEWHERE_AFTER = ("人，", "人。", "人在", "籍", "网友", "老乡", "口音", "读者", "的网友", "的朋友", "的亲戚", "打工",
                    "上班", "上学", "读书", "工作", "回来", "定居", "生活", "出差", "务工")
_EVENT_BEFORE = ("发生在", "位于", "地处", "事发", "在", "于")
_EVENT_AFTER = ("一", "某", "警方", "公安", "派出所", "妇联", "教育局", "卫健", "通报", "法院", "检察院", "民政",
                "人社", "市场监管", "官方", "政府", "街道办", "村委", "居委", "回应", "发布", "多名", "两名", "几名",
                "女子", "男子", "小学", "中学", "幼儿园", "学校", "医院", "工厂", "公司", "景区")
_DATELINE = re.compile(r"(?:社|报|网|台|电视台)[\u4e00-\u9fa5]{0,2}?$")
KIND_WEIGHT = {"text": 1.0, "author": 0.6, "ip": 0.3}
AMBIGUOUS_FACTOR = 0.6
_MUNICIPALITIES = ("11", "12", "31", "50")


@dataclass(frozen=True)
class Located:
    """One post's reading: the event's place (None: names no place), how it is known, how sure.

    ``kind``: ``text`` (named in title/text), ``author`` (the author's stated location), ``ip``
    (the platform's IP属地), ``none``. ``share``: the post's own agreement, the weight of its
    mentions compatible with ``place`` over the weight of all of them (1.0 for author/ip).
    ``ambiguous``: a name several units share was settled by a prior, not by context."""

    place: Place | None
    kind: str
    share: float = 1.0
    ambiguous: bool = False
    poster: Place | None = None

    @property
    def weight(self) -> float:
        """The post's vote: kind weight × share, × AMBIGUOUS_FACTOR when guessed."""
        if self.place is None:
            return 0.0
        return KIND_WEIGHT.get(self.kind, 0.0) * self.share * (AMBIGUOUS_FACTOR if self.ambiguous else 1.0)


def _prior(code: str) -> tuple[int, str]:
    """Which of several same-named units a bare name most likely means: a municipality's, then a
    provincial capital's, then the lowest code."""
    if code[:2] in _MUNICIPALITIES:
        return (0, code)
    if code[4:6] == "01" or code[2:4] == "01":
        return (1, code)
    return (2, code)


def _related(c: str, others: set[str]) -> bool:
    return c in others or any(p in others for p in _parents(c)) or any(c in _parents(o) for o in others)


def _pick(codes: tuple[str, ...], context: set[str], hints: set[str]) -> tuple[str, bool]:
    """One code of several: the one the post's other places support, else the one the poster's
    IP属地/author location supports, else the outermost if the others lie in it, else a prior."""
    if len(codes) == 1:
        return codes[0], False
    for others in (context, hints):
        supported = [c for c in codes if _related(c, others)]
        if len(supported) == 1:
            return supported[0], False
        if supported:
            codes = tuple(supported)
    outer = min(codes, key=lambda c: RANK[_level(c)])
    if all(c == outer or outer in _parents(c) for c in codes):
        return outer, False
    return min(codes, key=_prior), True


def _cue(text: str, start: int, end: int) -> float:
    """How much a mention at text[start:end] reads as the event's place (the clause around it)."""
    left = text[max(0, start - 8):start]
    for stop in "，。！？；\n,!?;":
        left = left.rsplit(stop, 1)[-1]
    right = text[end:end + 4]
    if any(w in left for w in _ORIGIN_BEFORE) or right.startswith(_ORIGIN_AFTER):
        return 0.1  # where someone comes from (老家在X, X人): rarely where it happened
    if any(w in left for w in _ELSEWHERE_BEFORE) or right.startswith(_ELSEWHERE_AFTER):
        return 0.3  # where the writer lives or works now (在X打工): sometimes where they saw it
    if _DATELINE.search(left) and re.match(r"\d{1,2}月|讯|电", right):
        return 0.5  # a dateline: where the reporter files from
    if right.startswith(_EVENT_AFTER) or any(left.endswith(w) for w in _EVENT_BEFORE):
        return 2.0
    return 1.0


_BARE_COUNTY_LEFT = "在于到去往自从是说传赴经向"  # 在礼县, 听说蒲县: a two-character 县 name after these
_BARE_COUNTY_RIGHT = "城里委长官"  # …but 来临县城, 暖和县里, 县委, 县长 are words
_WEAK_RIGHT = ("这边", "那边", "一", "警方", "公安", "妇联", "县城", "市区", "当地", "本地", "发生")


@lru_cache(maxsize=1)
def _weak_aliases() -> dict[str, tuple[str, ...]]:
    """Short names the gazetteer drops as ordinary words (平遥, tagged an adjective), read only when
    a place cue follows them (平遥这边, 平遥一女子) or they follow their own city (滁州市定远)."""
    g = gazetteer()
    path = gazetteer_path().parent / "56_nations.csv"
    nations = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if path.exists() else []
    out: dict[str, list[str]] = {}
    for code, name in g.names.items():
        short = _short(name, nations)
        if short and short not in g.aliases and short not in _NOT_PLACES and _level(code) == "county":
            out.setdefault(short, []).append(code)
    return {k: tuple(v) for k, v in out.items()}


def _scan_more(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """``_scan`` plus what it leaves out on purpose but a post's context allows: a two-character
    县 after a preposition (在礼县), a weak short name before a place cue (平遥这边), and
    乐山市中区 read as 乐山 + 市中区 (not 乐山市 + 中区)."""
    g = gazetteer()
    found = _scan(text)
    out: list[tuple[int, int, tuple[str, ...]]] = []
    for start, end, codes in found:
        if text[end - 1] == "市" and text[end - 1:end + 2] == "市中区" and end - start > 2:
            out.append((start, end - 1, codes))
            out.append((end - 1, end + 2, g.aliases.get("市中区", ())))
            continue
        out.append((start, end, codes))
    out = [m for m in out if m[2]]
    covered = [(a, b) for a, b, _c in out]

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in covered)

    for m in re.finditer(r"(?=([\u4e00-\u9fa5]县))", text):
        a = m.start()
        name = text[a:a + 2]
        if name in g.aliases and a > 0 and text[a - 1] in _BARE_COUNTY_LEFT and free(a, a + 2) \
                and text[a + 2:a + 3] not in _BARE_COUNTY_RIGHT:
            out.append((a, a + 2, g.aliases[name]))
            covered.append((a, a + 2))
    weak = _weak_aliases()
    for length in (3, 2):
        for a in range(len(text) - length + 1):
            codes = weak.get(text[a:a + length])
            if not codes or not free(a, a + length):
                continue
            after_parent = [c for c in codes for m in out if m[1] == a and any(p in m[2] for p in _parents(c))]
            if after_parent:  # 滁州市定远: right after its own city
                codes = tuple(sorted(set(after_parent)))
            if after_parent or text[a + length:].startswith(_WEAK_RIGHT):
                out.append((a, a + length, codes))
                covered.append((a, a + length))
    return sorted(out)


def _clean_town(name: str, suffix: str) -> str:
    """网传龙坝街道 → 龙坝街道, 下午在花沟镇 → 花沟镇: cut what a regex glued before the name."""
    core = name[: -len(suffix)]
    for i in range(len(core) - 2, 0, -1):
        if core[i - 1] in _TOWN_LEAD:
            core = core[i:]
            break
    if len(core) > 2 and (_is_common(core[:2]) or core.startswith(_TOWN_GLUE)):
        core = core[2:]
    return core + suffix


_TOWN_GLUE = ("网传", "听说", "据悉", "据说", "位于", "前往", "关于", "昨天", "今天", "下午", "上午", "晚上", "凌晨")


def _mentions(text: str, hints: set[str], title_len: int) -> list[tuple[Place, float, bool]]:
    """The places of ``text`` with a weight (cue × title bonus) and whether a prior chose them."""
    matches = _scan_more(text)
    g = gazetteer()
    plain = {m[2][0] for m in matches if len(m[2]) == 1}
    spans: list[tuple[int, int, Place, bool]] = []
    for i, (start, end, cands) in enumerate(matches):
        # context: the other matches' codes (all their readings: 西安 + 长安区 settle each other)
        others = plain | {c for j, m in enumerate(matches) if j != i for c in m[2]}
        code, guessed = _pick(cands, others if len(cands) > 1 else plain, hints)
        spans.append((start, end, Place(code, g.names[code], _level(code), _parents(code)), guessed))
    cuts = [0] + [x for m in matches for x in (m[0], m[1])] + [len(text)]
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        for m in _TOWN.finditer(text, a, b):
            name = _town_name(m.group(1), m.group(2))
            if name:
                name = _clean_town(name, m.group(2))
                level = "village" if m.group(2) == "村" else "town"
                start = m.end() - len(name)
                spans.append((start, m.end(), Place(f"{level}:{name[-len(m.group(2)) - 2:]}", name, level, ()),
                              False))
    spans.sort(key=lambda s: s[0])
    cues = [_cue(text, start, end) for start, end, _p, _g in spans]
    coded = [(s, p) for (s, _e, p, _g), cue in zip(spans, cues, strict=True)
             if ":" not in p.code and RANK[p.level] >= RANK["city"] and cue >= 1.0]
    leaves = most_specific([p for _s, p in coded])
    sole = leaves[0] if len(leaves) == 1 else None  # the one county (or city) the post names
    out: list[tuple[Place, float, bool]] = []
    chains: list[list[int]] = []
    last_coded: Place | None = None
    last_town: Place | None = None
    last_end = -10
    for (start, end, place, guessed), cue in zip(spans, cues, strict=True):
        near = 0 <= start - last_end <= 2 and not text[last_end:start].strip()  # 郸城县汲冢镇, 周口 郸城
        if place.level in ("town", "village"):
            parents: tuple[str, ...] = ()
            host = last_coded if near and last_coded is not None else sole
            if host is not None and RANK[host.level] >= RANK["city"]:
                parents = (*host.parents, host.code)
            if place.level == "village" and last_town is not None and near:
                parents = (*last_town.parents, last_town.code)
            place = Place(place.code, place.name, place.level, parents)
            if place.level == "town":
                last_town = place
        else:
            last_coded = place
            last_town = None
        if not (near and chains):
            chains.append([])
        chains[-1].append(len(out))
        out.append((place, cue * (1.5 if start < title_len else 1.0), guessed))
        last_end = end
    for chain in chains:  # a chain (甘肃夏河人) shares one cue: the weakest-read link decides for all
        low = min(out[i][1] for i in chain)
        for i in chain:
            out[i] = (out[i][0], low, out[i][2])
    return out


def _resolve_hint(raw: str | None) -> Place | None:
    """The place a location field names (IP属地 "广东", author "湖南 长沙"), most specific."""
    if not raw:
        return None
    found = most_specific(extract(str(raw).replace("发布于", " ")))
    return found[-1] if found else None


def poster_lines(text: str) -> tuple[str, list[str]]:
    """The text with its "IP属地：X" / "发布于 X" lines blanked out, and the X's."""
    found: list[str] = []

    def blank(m: re.Match[str]) -> str:
        found.append(m.group(1))
        return " " * len(m.group(0))

    return _POSTER.sub(blank, text), found


def locate(text: str, title: str | None = None, *, ip_region: str | None = None,
           author_location: str | None = None) -> Located:
    """Where the event of one post is. Places named in the title and text beat the author's
    stated location, which beats the platform's IP属地 (and the "发布于/IP属地" lines in the text,
    which are the poster's). Among several named places the one most mentions agree with wins
    (a place after 老家/户籍/现居… counts little, one followed by 一女子/警方/通报… much)."""
    body = f"{title}\n{text or ''}" if title else (text or "")
    body, poster_raw = poster_lines(body)
    ip_place = _resolve_hint(ip_region) or next((p for p in map(_resolve_hint, poster_raw) if p), None)
    author_place = _resolve_hint(author_location)
    hints = {p.code for p in (ip_place, author_place) if p is not None and ":" not in p.code}
    mentions = _mentions(body, hints, len(title) + 1 if title else 0)
    if mentions:
        best: tuple[tuple[float, bool, int, int], Place, bool] | None = None
        leaves = {p.code for p in most_specific([p for p, _w, _g in mentions])}
        for i, (place, _w, guessed) in enumerate(mentions):
            if place.code not in leaves:
                continue
            support = sum(w for q, w, _g in mentions if contains(place, q) or contains(q, place))
            located = ":" not in place.code or _coded_parent(place) is not None  # a town we can place
            key = (round(support, 6), located, RANK[place.level], -i)
            if best is None or key > best[0]:
                best = (key, place, guessed)
        assert best is not None
        # share: the best place's support against the mentions it does not agree with (a weak
        # mention, where someone lives or files from, counts half against it)
        against = sum(w if w >= 1.0 else 0.5 * w for q, w, _g in mentions
                      if not (contains(best[1], q) or contains(q, best[1])))
        share = min(1.0, best[0][0] / (best[0][0] + against))
        if all(w < 1.0 for _p, w, _g in mentions):
            # every place reads as where the writer lives, works or files from (老家在X, 在X打工,
            # 本报X电): evidence of the author's location, not of the event's
            return Located(best[1], "author", share, best[2], ip_place)
        return Located(best[1], "text", share, best[2], ip_place)
    if author_place is not None:
        return Located(author_place, "author", 1.0, False, ip_place)
    if ip_place is not None:
        return Located(ip_place, "ip", 1.0, False, ip_place)
    return Located(None, "none", 0.0, False, None)
