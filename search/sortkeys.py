"""Sort keys shared by both backends, so hits come back in the same order everywhere.

Each is one signed 64-bit integer: the primary value in the high bits, a stable hash of the post
id in the low bits; ties on the whole key (hash collisions) are broken by ``id`` ascending.
Order: descending key, then ascending id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

TIME_KEY = "k_time"
ENGAGEMENT_KEY = "k_eng"
_TIME_BITS = 22  # ms since epoch < 2**41 until year 2039+; 41 + 22 = 63
_ENG_BITS = 30
_ENG_MAX = (1 << 32) - 1


def id_hash(post_id: str, bits: int) -> int:
    digest = hashlib.blake2b(post_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << bits) - 1)


def time_key(post_id: str, when: datetime) -> int:
    ms = max(0, int(when.timestamp() * 1000))
    return (ms << _TIME_BITS) | id_hash(post_id, _TIME_BITS)


def engagement_key(post_id: str, engagement: int) -> int:
    return (min(max(0, engagement), _ENG_MAX) << _ENG_BITS) | id_hash(post_id, _ENG_BITS)
