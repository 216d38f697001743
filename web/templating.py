"""Jinja2 environment shared by the pages: Chinese labels, Beijing time, masking.

Every time a page shows goes through ``local`` (:func:`yuqing.timeutil.fmt_local`: Beijing time,
an ISO string read first, the offset written where it is not +08:00); every platform through
``platform_zh`` (:func:`yuqing.platforms.platform_zh`: 微博, 微信公众号 …).

Filters of the exits (``yuqing.exits``): ``mask``; ``preview(n)`` masks, then cuts to n characters
(never the reverse); ``safe_url`` gives the URL only if it is http(s), else ``None`` — a page links a
post only through it. Autoescape renders last.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from web import charts
from yuqing.domain import Category, Severity, Stage, category_zh, severity_zh, stage_zh
from yuqing.exits import preview, safe_url
from yuqing.platforms import PLATFORM_ZH, platform_zh
from yuqing.privacy import mask
from yuqing.timeutil import fmt_duration, fmt_local, iso_shanghai

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
env = templates.env
env.filters.update(
    local=fmt_local,
    iso=iso_shanghai,
    mask=mask,
    preview=preview,
    safe_url=safe_url,
    duration=fmt_duration,
    category_zh=category_zh,
    severity_zh=lambda s: severity_zh(s) if s is not None else "—",
    severity_colour=lambda s: Severity(int(s or 0)).colour,
    stage_zh=stage_zh,
    platform_zh=platform_zh,
)
env.globals.update(charts=charts, Category=Category, Severity=Severity, Stage=Stage, PLATFORM_ZH=PLATFORM_ZH)
