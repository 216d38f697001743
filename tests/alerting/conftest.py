"""Fixtures of the alerting tests (each helper owns one imported module)."""

from tests.alerting.conftest_notify import *  # noqa: F401,F403
