"""Bilibili's wbi signing of query parameters (w_rid, wts), as documented publicly.

Implemented from the description in SocialSisterYi/bilibili-API-collect ``docs/misc/sign/wbi.md``:

1. ``img_key`` / ``sub_key`` are the file names (without extension) of
   ``data.wbi_img.img_url`` / ``sub_url`` in ``/x/web-interface/nav`` (they change daily);
2. ``mixin_key`` = the first 32 characters of ``img_key + sub_key`` permuted by a fixed
   64-entry table;
3. add ``wts`` (Unix seconds), drop the characters ``!'()*`` from every value, sort the
   parameters by name, percent-encode them (upper-case hex, space as ``%20``) and
   ``w_rid`` = md5(query + mixin_key).

Guarantees: :func:`sign` returns the parameters with ``wts`` and ``w_rid`` added, and
:func:`check` recomputes a signature from a received query (the local test site uses it to refuse
unsigned or wrongly signed calls). The documented example is a test vector
(tests/crawlers/test_bilibili.py).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from urllib.parse import quote

# the permutation table of step 2 (a public constant of the web client)
MIXIN_KEY_ENC_TAB = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49,
    33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40,
    61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11,
    36, 20, 34, 44, 52,
)
_FILTERED = str.maketrans("", "", "!'()*")


def key_from_url(url: str) -> str:
    """``https://i0.hdslb.com/bfs/wbi/7cd0…077c.png`` → ``7cd0…077c``."""
    name = str(url or "").rstrip("/").rsplit("/", 1)[-1]
    return name.split(".", 1)[0]


def keys_from_nav(payload: Mapping[str, object]) -> tuple[str, str] | None:
    """(img_key, sub_key) from a /x/web-interface/nav reply (logged in or not: code 0 or -101)."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    img = data.get("wbi_img") if isinstance(data, Mapping) else None
    if not isinstance(img, Mapping):
        return None
    img_key, sub_key = key_from_url(str(img.get("img_url") or "")), key_from_url(str(img.get("sub_url") or ""))
    if len(img_key + sub_key) < 64:
        return None
    return img_key, sub_key


def mixin_key(img_key: str, sub_key: str) -> str:
    raw = img_key + sub_key
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB)[:32]


def encode_query(params: Mapping[str, object]) -> str:
    """Sorted by name, ``!'()*`` dropped from values, percent-encoded like encodeURIComponent."""
    parts = []
    for name in sorted(params):
        value = str(params[name]).translate(_FILTERED)
        parts.append(f"{quote(str(name), safe='')}={quote(value, safe='')}")
    return "&".join(parts)


def signature(params: Mapping[str, object], img_key: str, sub_key: str) -> str:
    return hashlib.md5((encode_query(params) + mixin_key(img_key, sub_key)).encode("utf-8")).hexdigest()


def sign(params: Mapping[str, object], img_key: str, sub_key: str, now: float | None = None) -> dict[str, str]:
    """The parameters with ``wts`` (Unix seconds) and ``w_rid`` added (values as strings, filtered)."""
    signed = {k: str(v).translate(_FILTERED) for k, v in params.items()}
    signed["wts"] = str(int(round(time.time() if now is None else now)))
    signed["w_rid"] = signature(signed, img_key, sub_key)
    return signed


def check(query: Mapping[str, str], img_key: str, sub_key: str) -> bool:
    """Whether a received query (decoded values) carries a valid ``w_rid`` for its other parameters."""
    given = query.get("w_rid")
    if not given or "wts" not in query:
        return False
    rest = {k: v for k, v in query.items() if k != "w_rid"}
    return signature(rest, img_key, sub_key) == given
