"""Text fingerprints of posts for incident grouping (no I/O).

A fingerprint is: the set of character bigrams of the normalised text (robust to word
segmentation and paraphrase), and the places / person names jieba's part-of-speech tagger finds
(``ns``/``nr``), completed by a suffix rule for administrative places (…省/市/县/区/镇/村) that the
tagger misses. Both are stored as plain lists so they can live in ``incidents.features`` (JSON).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from yuqing.query.normalize import normalize

_NOISE = re.compile(r"https?://\S+|@[^\s:：，,。]+|\[[^\]]{1,8}\]|转发微博|网页链接|展开全文|//")
_KEEP = re.compile(r"[\u4e00-\u9fa5a-z0-9]+")
_PLACE = re.compile(r"[\u4e00-\u9fa5]{1,6}?(?:省|自治区|市|自治州|州|县|区|镇|乡|街道|村)")
# words that the tagger calls names/places but that say nothing about which event it is
_GENERIC = {"妇联", "妇女", "儿童", "女童", "男童", "幼儿园", "学校", "小学", "中学", "医院", "派出所", "公安",
            "警方", "当地", "网友", "记者", "家属", "中国", "全国", "社区", "某某", "某地", "市区", "城区",
            "地区", "市县", "县区", "小区", "园区", "辖区", "郊区", "该市", "该县", "该区", "本市", "全市", "全县"}
BIGRAM_LIMIT = 400
ENTITY_FLAGS = ("ns", "nr", "nrt", "nrfg", "nt")


@lru_cache(maxsize=1)
def _posseg():  # type: ignore[no-untyped-def]
    import jieba
    import jieba.posseg as pseg

    jieba.setLogLevel(logging.WARNING)
    return pseg


def clean(text: str) -> str:
    """Normalised text (simplified, half-width, lower case) without links, mentions and boilerplate."""
    return _NOISE.sub(" ", normalize(text or ""))


def bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for chunk in _KEEP.findall(clean(text)):
        if len(chunk) == 1:
            continue
        grams.update(chunk[i:i + 2] for i in range(len(chunk) - 1))
    return grams


def entities(text: str) -> set[str]:
    """Places and person names (len >= 2), generic words removed."""
    cleaned = clean(text)
    found: set[str] = set()
    for pair in _posseg().cut(cleaned):
        if pair.flag in ENTITY_FLAGS and len(pair.word) >= 2:
            found.add(pair.word)
    found.update(m.group(0) for m in _PLACE.finditer(cleaned) if len(m.group(0)) >= 2)
    return {e for e in found if e not in _GENERIC and not e.startswith(("一", "某", "该", "本", "这", "那"))}


@dataclass
class Fingerprint:
    grams: set[str] = field(default_factory=set)
    ents: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> Fingerprint:
        return cls(bigrams(text), entities(text))

    def to_json(self) -> dict[str, list[str]]:
        return {"grams": sorted(self.grams)[:BIGRAM_LIMIT], "ents": sorted(self.ents)}

    @classmethod
    def from_json(cls, data: dict | None) -> Fingerprint:
        data = data or {}
        return cls(set(data.get("grams") or []), set(data.get("ents") or []))
