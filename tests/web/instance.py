"""One real instance shared by the hardening and fuzz suites (built once per test session): config, a
migrated SQLite database, users of every role plus spare ones a test may disable or re-password,
and the first event made by the real pipeline. Building it once keeps those suites fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.web.conftest import FIRST_EVENT, PASSWORD, ROLES, make_posts
from web.auth import add_user
from yuqing.db.migrate import upgrade
from yuqing.runtime import Runtime
from yuqing.settings import load_settings

SPARE = {"owner1": "duty", "pw1": "duty", "gone1": "analyst", "dis1": "duty", "xff1": "duty", "rot1": "duty",
         "out1": "duty"}


@pytest.fixture(scope="session")
def shared_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    tmp: Path = tmp_path_factory.mktemp("web-instance")
    rt = Runtime(load_settings(write_config(tmp)))
    upgrade(rt.engine)
    with rt.session() as s:
        for username, role in {**ROLES, **SPARE}.items():
            add_user(s, username, PASSWORD, role, rt.clock.now())
    make_posts(rt, FIRST_EVENT + [
        {"id": "n:1", "platform": "news", "title": "三八节表彰大会召开", "text": "市妇联召开表彰大会，表彰最美家庭",
         "category": "none", "severity": 0},
        {"id": "=evil", "platform": "-2+3", "author": "@攻击者", "title": "+标题", "category": "rights", "severity": 2,
         "text": '=HYPERLINK("http://evil.example/x","妇联家暴通报")', "url": "-2+3"},
        {"id": "w:neg", "text": "-12", "category": "none", "severity": 0, "title": "妇联家暴"},
        {"id": "w:esc", "category": "rights", "severity": 1,
         "text": "网友称 a > b & <b>粗体</b> 家暴 \"引号\" 'x' 事件"},
    ])
    yield rt
    rt.close()
