"""Exit codes, and the errors commands raise; ``cli.app`` turns them into messages and codes."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
"""The job or batch ended failed or cancelled."""
EXIT_INVALID = 2
"""A bad file, flag or request body (the API's 422), or no signing secret."""
EXIT_API = 3
"""The API answered with another error, or could not be reached."""
EXIT_INTERRUPTED = 130
"""Ctrl-C, as shells report SIGINT."""


class CliError(Exception):
    """A failure to report on stderr as ``error: <message>``; never a traceback."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputFileError(CliError):
    """The listings file cannot be read as JSON or CSV, or misses a column."""


class ApiUnreachableError(CliError):
    """No answer from the API: connection refused, DNS, timeout."""

    exit_code = EXIT_API


class ApiError(CliError):
    """The API answered with an error status (problem+json, RFC 9457)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(f"{status} {detail}")
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.exit_code = EXIT_INVALID if status in (400, 422) else EXIT_API
