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
_TOWN_FUNCTION = "个们这那哪么什啥吗呢吧啊呀也都就还很太更最再又着过得之其此每某些"
_TOWN_STOP_PREFIX = ("该", "本", "全", "各", "这", "那", "某", "一", "每", "同", "邻", "隔壁", "附近", "我", "你",
                     "他", "她", "老", "新农", "美丽", "偏远", "周边", "所在", "当地", "城中", "城乡", "乡")
_TOWN_STOP = {"农村", "乡村", "城镇", "山村", "渔村", "古镇", "小镇", "重镇", "名镇", "家乡", "老乡", "城乡",
              "下乡", "返乡", "回乡", "故乡", "异乡", "他乡", "思乡", "同乡", "乡镇", "村镇", "街道",
              "小山村", "新农村", "养老村", "特色小镇", "旅游村", "文明村", "贫困村", "城中村"}


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
