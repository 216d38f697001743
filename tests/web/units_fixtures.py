"""A web instance with federation units (厦门市妇联 and two districts), a user of each, and one
incident in each district made by the real engine from posts naming the place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.units_config import UNITS
from tests.conftest import write_config
from tests.web.conftest import PASSWORD, make_posts
from web.auth import add_user
from web.scope import set_user_unit
from yuqing.db.migrate import upgrade
from yuqing.runtime import Runtime
from yuqing.settings import load_settings

USERS = {"siming1": "siming", "huli1": "huli", "city1": "xm", "root1": None}
POSTS = [
    {"id": "w:sm", "category": "rights", "severity": 2, "hours_ago": 2,
     "text": "厦门思明区一女子遭丈夫家暴多年，邻居多次报警，社区至今没有处理"},
    {"id": "w:hl", "category": "rights", "severity": 2, "hours_ago": 2,
     "text": "厦门湖里区一小学女生在校遭多名同学欺凌，视频在网上流传，家长称学校推诿"},
]


@pytest.fixture(name="units_rt")
def units_rt_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    config = write_config(tmp_path, {"units": UNITS})
    monkeypatch.setenv("YUQING_CONFIG", str(config))
    rt = Runtime(load_settings(config))
    upgrade(rt.engine)
    with rt.session() as s:
        for username, unit in USERS.items():
            add_user(s, username, PASSWORD, "responder", rt.clock.now())
            set_user_unit(s, rt.settings, username, unit, rt.clock.now(), actor="test")
    make_posts(rt, POSTS)
    yield rt
    rt.close()
