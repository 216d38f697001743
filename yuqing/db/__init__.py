"""Database access: engine and sessions (SQLite WAL + foreign keys; any SQLAlchemy URL)."""

from yuqing.db.engine import make_engine, session_factory, session_scope

__all__ = ["make_engine", "session_factory", "session_scope"]
