"""Errors the CLI turns into a Chinese message and exit status 1 (never a traceback)."""

from __future__ import annotations


class YuqingError(Exception):
    """An error with a message meant for the user (Chinese)."""

    exit_code = 1


class ConfigError(YuqingError):
    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class InputError(YuqingError):
    """Bad input named by file, line or field."""
