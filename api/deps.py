"""Every FastAPI dependency in one place: settings, the Temporal client and the services built
in the app's lifespan, admin auth, the payload codec, and the headers several routes parse."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Header, Request
from temporalio.client import Client

from api.problems import ProblemError
from api.services.batches import BatchService
from api.services.jobs import JobService
from api.services.listings import ListingService
from api.services.operations import OperationService
from api.services.payments import Payments
from api.services.vinted_sales import VintedSales
from config.codec import EncryptionCodec
from config.settings import Settings

MAX_PREFER_WAIT = 300.0
_PREFER_WAIT = re.compile(r"(?:^|[;,\s])wait\s*=\s*([0-9]{1,6}(?:\.[0-9]{1,3})?)(?:$|[;,\s])")


@dataclass(frozen=True)
class Services:
    """What the lifespan builds once per process, around the one Temporal client."""

    client: Client
    jobs: JobService
    batches: BatchService
    payments: Payments
    listings: ListingService
    vinted_sales: VintedSales
    operations: OperationService


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_services(request: Request) -> Services:
    services = getattr(request.app.state, "services", None)
    if services is None:
        raise ProblemError(503, "not connected to Temporal yet")
    return cast(Services, services)


def get_jobs(services: Annotated[Services, Depends(get_services)]) -> JobService:
    return services.jobs


def get_batches(services: Annotated[Services, Depends(get_services)]) -> BatchService:
    return services.batches


def get_listings(services: Annotated[Services, Depends(get_services)]) -> ListingService:
    return services.listings


def get_operations(services: Annotated[Services, Depends(get_services)]) -> OperationService:
    return services.operations


def get_payments(services: Annotated[Services, Depends(get_services)]) -> Payments:
    return services.payments


def get_vinted_sales(services: Annotated[Services, Depends(get_services)]) -> VintedSales:
    return services.vinted_sales


def get_client(services: Annotated[Services, Depends(get_services)]) -> Client:
    return services.client


def get_optional_client(request: Request) -> Client | None:
    """The client, or None before the lifespan made it (``/ready`` answers 503 then)."""
    services = getattr(request.app.state, "services", None)
    return services.client if services else None


def get_codec(request: Request) -> EncryptionCodec | None:
    """The payload codec (None when PAYLOAD_ENCRYPTION_KEYS is empty)."""
    return cast(EncryptionCodec | None, request.app.state.payload_codec)


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
        scheme.lower().encode("utf-8", "replace"), b"bearer"
    )
    if not valid:
        raise ProblemError(403, "a valid admin bearer token is required")


def idempotency_key(
    header: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Same key + same body = same job (200)."),
    ] = None,
) -> str | None:
    """The draft's structured-string form (``"abc"``) or a bare token (``abc``): 1-255
    printable ASCII characters, else 400."""
    if header is None:
        return None
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= 255:
        raise ProblemError(400, "Idempotency-Key must be 1-255 characters")
    if not (key.isascii() and key.isprintable()):
        raise ProblemError(400, "Idempotency-Key must be printable ASCII characters")
    return key


def prefer_wait(
    prefer: Annotated[
        str | None, Header(description="RFC 7240, e.g. `wait=5`: how long to wait for the outcome.")
    ] = None,
) -> float | None:
    """Seconds from ``Prefer: wait=N`` (ASCII digits, capped at 300), or None."""
    if not prefer:
        return None
    match = _PREFER_WAIT.search(prefer)
    return min(float(match.group(1)), MAX_PREFER_WAIT) if match else None


SettingsDep = Annotated[Settings, Depends(get_settings)]
Jobs = Annotated[JobService, Depends(get_jobs)]
Batches = Annotated[BatchService, Depends(get_batches)]
Listings = Annotated[ListingService, Depends(get_listings)]
Operations = Annotated[OperationService, Depends(get_operations)]
PaymentsDep = Annotated[Payments, Depends(get_payments)]
VintedSalesDep = Annotated[VintedSales, Depends(get_vinted_sales)]
TemporalClient = Annotated[Client, Depends(get_client)]
OptionalClient = Annotated[Client | None, Depends(get_optional_client)]
Codec = Annotated[EncryptionCodec | None, Depends(get_codec)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]
PreferWait = Annotated[float | None, Depends(prefer_wait)]
AdminOnly = Depends(require_admin)
