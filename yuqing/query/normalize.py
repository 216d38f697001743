"""Text folding for matching: NFKC (full/half width), traditional → simplified, lower case."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from opencc import OpenCC

_T2S = OpenCC("t2s")


@lru_cache(maxsize=65536)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _T2S.convert(text)
    return text.lower()


def normalize(text: str | None) -> str:
    """Fold a string so that 家暴 / 家暴 / 家暴 (full-width) and 傢暴-style variants compare equal."""
    if not text:
        return ""
    return _fold_short(text) if len(text) <= 64 else _fold(text)
