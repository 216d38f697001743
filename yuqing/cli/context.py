"""Helpers shared by CLI modules: consoles and the lazily loaded runtime."""

from __future__ import annotations

from rich.console import Console

from yuqing.runtime import Runtime

console = Console(highlight=False)
console_err = Console(stderr=True, highlight=False)


def runtime() -> Runtime:
    """Load settings (YUQING_CONFIG / --config) and build the runtime; ConfigError exits 1."""
    return Runtime.load()
