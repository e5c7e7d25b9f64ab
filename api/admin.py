"""Admin authentication: ``Authorization: Bearer <ADMIN_TOKEN>``, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header

from api.dependencies import get_settings
from api.problems import ProblemError
from config.settings import Settings


def require_admin(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[
        str | None, Header(description="`Bearer <ADMIN_TOKEN>`; missing or wrong -> 403.")
    ] = None,
) -> None:
    """403 unless the bearer token equals ``ADMIN_TOKEN``; 403 for everyone when it is unset."""
    if settings.admin_token is None:
        raise ProblemError(403, "admin routes are disabled: ADMIN_TOKEN is not configured")
    scheme, _, token = (authorization or "").partition(" ")
    expected = settings.admin_token.get_secret_value().encode("utf-8")
    given = token.strip().encode("utf-8", "replace")
    # compare_digest on both parts, always: no early exit that would time the scheme check.
    valid = hmac.compare_digest(given, expected) & hmac.compare_digest(
        scheme.lower().encode(), b"bearer"
    )
    if not valid:
        raise ProblemError(403, "a valid admin bearer token is required")
