"""The one door every exit goes through: mask, then cut, then render.

Every place where crawled text leaves the system (chat robots, Slack, e-mail, the digest, web pages,
the JSON API, CSV, reports, the CLI, logs) builds its text with these helpers, in this order:

1. **mask** the whole plain text (:func:`yuqing.privacy.mask`; several fields of one post together with
   :func:`masked_post`, so a name found next to its cue in the body is masked in the title too);
2. **cut** the masked text (:func:`preview`, which never cuts inside a masked token or a number);
3. **render** it for the target: :func:`md_text` (企业微信 / 钉钉 / 飞书 markdown), :func:`slack_text`
   (Slack mrkdwn), HTML (Jinja autoescape or ``html.escape``), CSV, plain text.

Guarantees:

- ``preview(t, n)`` is ``mask_then_cut``: no cut before masking, so no partial ID/phone number survives
  a preview (``…530102198804125…`` cannot happen).
- ``md_text`` leaves no markdown control character of the robot dialects: ``[ ] < > ` | \\ * _ ~`` and a
  ``#`` at the start of a line are replaced by their full-width forms, which every robot shows as the
  same glyph and none parses — a crawled ``[官方通报](https://evil)`` stays visible text, never a live
  link (``(``/``)``/``!`` are harmless once ``[``/``]`` are); ``<@all>``/``<at id=all>`` never mention,
  ``<font>`` never colours.
- ``slack_text`` escapes ``&``, ``<``, ``>`` as Slack requires, so ``<!channel>`` or ``<https://x|y>``
  in a post is shown as text and mentions no one.
- ``safe_url(url)`` returns the URL only if it is an absolute http(s) URL with a host and no control
  characters or whitespace (else ``None``), with the characters that could end a markdown/Slack/HTML link
  (``( ) [ ] < > " ' | `` and spaces) percent-encoded; only such URLs are ever linked by any exit.
- :func:`install_log_masking` makes every log record's message masked (idempotent).
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from yuqing.privacy import mask, mask_post, mask_then_cut

__all__ = ["mask", "masked_post", "preview", "md_text", "slack_text", "safe_url", "md_link", "slack_link",
           "install_log_masking", "MaskingFilter"]


def preview(text: str | None, limit: int) -> str:
    """The masked text cut to at most ``limit`` characters (ellipsis included), newlines as spaces."""
    return mask_then_cut((text or "").replace("\r", " ").replace("\n", " "), limit)


def masked_post(post: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a post-like mapping with ``title``/``text`` masked together and ``author`` masked."""
    out = dict(mask_post({**post, "title": post.get("title") or "", "text": post.get("text") or ""}))
    if "author" in post:
        out["author"] = mask(str(post.get("author") or ""))
    return out


# --------------------------------------------------------------------------------- robot markdown
_MD_FULLWIDTH = str.maketrans({
    "[": "［", "]": "］", "<": "＜", ">": "＞", "`": "｀", "|": "｜", "\\": "＼",
    "*": "＊", "_": "＿", "~": "～",
})
_LINE_START_MARK = re.compile(r"(?m)^(\s*)#")


def md_text(text: str | None) -> str:
    """Plain (already masked) text made inert for the robots' markdown: shown as is, never parsed.

    The robots (企业微信 markdown, 钉钉 markdown, 飞书 lark_md) do not all honour backslash escapes, so
    markup characters become their full-width forms. Newlines are kept (they are the robots' lines).
    """
    return _LINE_START_MARK.sub(r"\1＃", (text or "").translate(_MD_FULLWIDTH))


def slack_text(text: str | None) -> str:
    """Text for Slack mrkdwn/plain_text: only ``&``, ``<``, ``>`` are escaped (Slack's rule)."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------------------- URLs
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL_SAFE = ":/?#@$&+,;=%-._~"


def safe_url(url: str | None) -> str | None:
    """The URL if it may be linked (absolute http/https with a host), percent-encoded; else ``None``."""
    if not url or not isinstance(url, str) or len(url) > 4096:
        return None
    url = url.strip()
    if _CONTROL.search(url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urllib.parse.quote(url, safe=_URL_SAFE)


def md_link(url: str | None, label: str) -> str:
    """``[label](url)`` for a safe URL, else the empty string (a bad URL is never linked)."""
    safe = safe_url(url)
    return f"[{md_text(label)}]({safe})" if safe else ""


def slack_link(url: str | None, label: str) -> str:
    """``<url|label>`` for a safe URL (escaped per Slack), else the empty string."""
    safe = safe_url(url)
    if not safe:
        return ""
    return f"<{slack_text(safe)}|{slack_text(label).replace('|', '｜')}>"


# ------------------------------------------------------------------------------------------ logs
class MaskingFilter(logging.Filter):
    """Masks a record's formatted message (and drops its args) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_yuqing_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: keep the raw template
            message = str(record.msg)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        record._yuqing_masked = True  # type: ignore[attr-defined]
        return True


_FACTORY_INSTALLED = False


def install_log_masking() -> None:
    """Mask every log record of the process from now on (idempotent).

    A record factory is used rather than a filter on some handlers: it covers every logger and every
    handler, including ones configured later (uvicorn, APScheduler, Scrapy).
    """
    global _FACTORY_INSTALLED
    if _FACTORY_INSTALLED:
        return
    previous = logging.getLogRecordFactory()
    masker = MaskingFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        masker.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _FACTORY_INSTALLED = True
