"""Fixtures of the composition tests: the alerting ones (local endpoints, incident factories)."""

from tests.alerting.conftest_notify import *  # noqa: F401,F403
