"""Assemble the planted-PII corpus: hand-written marked-up posts (``*_src.txt``) -> JSON Lines.

The texts are written by hand in ``tuning_src.txt`` and ``heldout_src.txt``; this script only strips the
markup, assigns ids and timestamps, and validates every item. Markup inside a post's title or text:

    {P:kind:value}   a planted personal item (must be masked)      kinds: see PLANTED_KINDS
    {K:kind:value}   an ordinary item that must survive unchanged  kinds: see KEEP_KINDS
    value ``FW:...`` the digits of the value are written full-width (１３８…)

Run: ``.venv/bin/python tests/privacy/build_corpus.py`` (rewrites tuning.jsonl and heldout.jsonl).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLANTED_KINDS = {"id", "mobile", "landline", "card", "email", "wechat", "qq", "address", "school", "name"}
KEEP_KINDS = {"date", "time", "amount", "count", "case", "hotline", "official", "age", "place", "url", "postid",
              "pseudonym",
              "percent"}
_MARK = re.compile(r"\{([PK]):([a-z]+):([^{}]+)\}")
_FW = str.maketrans("0123456789", "０１２３４５６７８９")
_BJ = timezone(timedelta(hours=8))


def _strip(segment: str, where: str, planted: list[dict], keep: list[dict]) -> str:
    def repl(m: re.Match[str]) -> str:
        sort, kind, value = m.groups()
        if value.startswith("FW:"):
            value = value[3:].translate(_FW)
        kinds = PLANTED_KINDS if sort == "P" else KEEP_KINDS
        if kind not in kinds:
            sys.exit(f"{where}: unknown {sort} kind {kind!r}")
        (planted if sort == "P" else keep).append({"kind": kind, "value": value})
        return value

    out = _MARK.sub(repl, segment)
    if "{P:" in out or "{K:" in out:
        sys.exit(f"{where}: malformed markup in {segment!r}")
    return out


def build(name: str, id_prefix: str, start: datetime) -> list[dict]:
    src = HERE / f"{name}_src.txt"
    posts: list[dict] = []
    for lineno, line in enumerate(src.read_text("utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ", 2)]
        if len(parts) != 3:
            sys.exit(f"{src.name}:{lineno}: expected 'platform | title | text'")
        platform, title, text = parts
        where = f"{src.name}:{lineno}"
        planted: list[dict] = []
        keep: list[dict] = []
        title = _strip(title, where, planted, keep)
        text = _strip(text, where, planted, keep)
        n = len(posts) + 1
        post = {"id": f"{platform}:{id_prefix}{n:04d}", "platform": platform, "text": text,
                "published_at": (start + timedelta(minutes=97 * n)).isoformat(timespec="seconds")}
        if title:
            post["title"] = title
        post["planted"] = planted
        post["keep"] = keep
        for item in planted + keep:
            if item["value"] not in f"{title}\n{text}":
                sys.exit(f"{where}: value {item['value']!r} not in the post")
        posts.append(post)
    with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
        for post in posts:
            fh.write(json.dumps(post, ensure_ascii=False) + "\n")
    return posts


def main() -> None:
    for name, prefix, start in (("tuning", "pii-t", datetime(2024, 3, 1, 8, 0, tzinfo=_BJ)),
                                ("heldout", "pii-h", datetime(2024, 9, 1, 8, 0, tzinfo=_BJ))):
        posts = build(name, prefix, start)
        planted = Counter(i["kind"] for p in posts for i in p["planted"])
        keep = Counter(i["kind"] for p in posts for i in p["keep"])
        straddle = sum(1 for p in posts for i in p["planted"]
                       if (k := p["text"].find(i["value"])) != -1 and k < 80 and k + len(i["value"]) > 60)
        print(f"{name}: {len(posts)} posts, {sum(planted.values())} planted {dict(sorted(planted.items()))}, "
              f"{sum(keep.values())} keep {dict(sorted(keep.items()))}, {straddle} planted items straddle chars 60-80")


if __name__ == "__main__":
    main()
