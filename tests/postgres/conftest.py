"""PostgreSQL-only tests: run by `make test-postgres` (tests/postgres/run.sh), skipped otherwise.

The server URL comes from YUQING_DATABASE_URL (postgresql+psycopg://…); each test gets a fresh
database on that server, so nothing is shared between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import write_config
from yuqing.db.migrate import upgrade
from yuqing.runtime import Runtime
from yuqing.settings import load_settings

SERVER_URL = os.environ.get("YUQING_DATABASE_URL", "")
if not SERVER_URL.startswith("postgresql"):
    SERVER_URL = ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SERVER_URL:
        return
    skip = pytest.mark.skip(reason="需要 PostgreSQL：运行 make test-postgres（设置 YUQING_DATABASE_URL=postgresql+psycopg://…）")
    for item in items:
        if "tests/postgres" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the test server."""
    name = f"yuqing_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(SERVER_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_config(tmp_path: Path, pg_url: str) -> Path:
    return write_config(tmp_path, {"database_url": pg_url})


@pytest.fixture
def pg_runtime(pg_config: Path) -> Iterator[Runtime]:
    rt = Runtime(load_settings(pg_config, environ={}))
    upgrade(rt.engine)
    yield rt
    rt.close()
