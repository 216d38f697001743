"""The wiring every command shares: settings, database engine, sessions, clock, and the id by
which one process names itself in claims and leases."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yuqing.db.engine import make_engine, session_factory, session_scope
from yuqing.settings import Settings, load_settings
from yuqing.timeutil import Clock, SystemClock


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    seed: Settings | None = None  # the YAML file's settings, before the database's versions (config_store)
    config_version: int | None = None  # the config_versions row in force (None: the file alone)

    @classmethod
    def load(cls, config: str | None = None, clock: Clock | None = None) -> Runtime:
        """The effective settings: the file with the latest configuration version laid over it."""
        from yuqing.config_store import effective_settings

        seed = load_settings(config)
        settings, version = effective_settings(seed)
        return cls(settings, clock or SystemClock(), seed=seed, config_version=version)

    @cached_property
    def engine(self) -> Engine:
        self.settings.data_path.mkdir(parents=True, exist_ok=True)
        return make_engine(self.settings.db_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as s:
            yield s

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def worker_id() -> str:
    """A name unique to this process (host:pid:random), for claims (outbox, posts) and leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
