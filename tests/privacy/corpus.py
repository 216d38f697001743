"""The planted-PII corpus and its leak / survival checks, reusable by every exit's end-to-end test.

``load_corpus()`` returns the posts (dicts in the post schema plus ``planted`` and ``keep`` lists and a
``part`` of "tuning" or "heldout"). ``leaks(output, item)`` says whether a planted item can still be read
in an output text; ``survives(output, item)`` whether an ordinary item came through unchanged. Both work
on any rendered text (a Slack payload, an HTML page, a CSV file) as long as it is decoded to ``str`` and
HTML entities are unescaped by the caller.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("tuning", "heldout")

_FW = {ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")}
_FW.update({ord("Ｘ"): "X", ord("ｘ"): "x"})
_SEPARATORS = re.compile(r"[\s\-－–—‐]")


def load_corpus(part: str | None = None) -> list[dict]:
    """All posts of the corpus, or of one part ("tuning" or "heldout")."""
    parts = PARTS if part is None else (part,)
    posts: list[dict] = []
    for name in parts:
        if name not in PARTS:
            raise ValueError(f"unknown corpus part {name!r}; expected one of {PARTS}")
        path = HERE / f"{name}.jsonl"
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                post = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON: {exc}") from exc
            for field in ("id", "platform", "text", "planted", "keep"):
                if field not in post:
                    raise ValueError(f"{path}:{lineno}: missing field {field!r}")
            post["part"] = name
            posts.append(post)
    return posts


def normalise(text: str) -> str:
    """Full-width digits to ASCII, separators (spaces, dashes) removed: the form a reader could rebuild."""
    return _SEPARATORS.sub("", text.translate(_FW))


def leaks(output: str, item: dict) -> bool:
    """True if the planted item's value can still be read in ``output``.

    A value leaks if it appears verbatim, or if its normalised form (digits ASCII, no spaces or dashes)
    appears in the normalised output: ``138 1234 5678`` leaks as ``13812345678`` too.
    """
    value = item["value"]
    if value in output:
        return True
    norm = normalise(value)
    return len(norm) >= 5 and norm in normalise(output)


def survives(output: str, item: dict) -> bool:
    """True if the ordinary item came through unchanged."""
    return item["value"] in output
