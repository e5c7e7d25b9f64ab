"""The search attributes that make jobs and listings findable in Temporal visibility (issue 16).

One table of keys (:data:`SEARCH_ATTRIBUTES`, registered on every server: ``make run``, the test
fixtures, docker-compose) and one rule per entity that maps its state to their values
(:func:`job_search_attributes`, :func:`listing_search_attributes`). The gateway sets them when
it starts a workflow; the workflow upserts what a status transition changed
(workflows/search_attributes.py). Search attributes are not encrypted by the payload codec, so
they never hold a title, a description or a purchaser identifier: only statuses, the SKU,
marketplace names and the creation time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from domain.marketplaces import Marketplace
from domain.status import JobStatus, MarketplaceStatus

JOB_STATUS = SearchAttributeKey.for_keyword("JobStatus")
"""The job's status (``awaiting_payment`` … ``cancelled``)."""
JOB_SKU = SearchAttributeKey.for_keyword("JobSku")
JOB_MARKETPLACES = SearchAttributeKey.for_keyword_list("JobMarketplaces")
"""The job's marketplaces by name (``etsy``), and ``<name>:failed`` for each one that failed,
once the job is failed or cancelled: one attribute, so one upsert per transition."""
JOB_CREATED_AT = SearchAttributeKey.for_datetime("JobCreatedAt")
"""``JobInput.created_at`` (UTC): the order of ``GET /jobs`` (newest first)."""

LISTING_STATUS = SearchAttributeKey.for_keyword("ListingStatus")
"""``pending``, ``live``, ``partial``, ``ended`` (domain/listing_entity.py)."""
LISTING_PLACEMENTS = SearchAttributeKey.for_keyword_list("ListingPlacements")
"""``<marketplace>:<state>`` per marketplace, e.g. ``etsy:live``, ``ebay:failed``."""
LISTING_SOLD_OUT = SearchAttributeKey.for_bool("ListingSoldOut")
"""True once sales brought the quantity to 0."""

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey[Any], ...] = (
    JOB_STATUS,
    JOB_SKU,
    JOB_MARKETPLACES,
    JOB_CREATED_AT,
    LISTING_STATUS,
    LISTING_PLACEMENTS,
    LISTING_SOLD_OUT,
)
"""Every custom search attribute; a server must have them registered before a job starts."""

_CLI_TYPE = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "DATETIME": "Datetime",
    "BOOL": "Bool",
}


def cli_type(key: SearchAttributeKey[Any]) -> str:
    """The type's name as ``temporal`` CLI flags spell it (``Keyword``, ``KeywordList``…)."""
    return _CLI_TYPE[key.indexed_value_type.name]


_UNREGISTERED = re.compile(
    r"(?:no mapping defined for search attribute|invalid search attribute:) (\w+)"
)


def unregistered_search_attribute(message: str) -> str | None:
    """The name of one of :data:`SEARCH_ATTRIBUTES` that a Temporal error message says the
    namespace does not have, else None. The messages, seen on the dev server (1.32): a start,
    "Namespace default has no mapping defined for search attribute JobStatus"; a list or count,
    "invalid query: invalid search attribute: JobCreatedAt". Our queries name only our own
    attributes, so such an error is the server's setup, never the caller's filter."""
    match = _UNREGISTERED.search(message)
    if match and match[1] in {key.name for key in SEARCH_ATTRIBUTES}:
        return match[1]
    return None


def dev_server_args() -> list[str]:
    """``temporal server start-dev`` flags that register every search attribute at start."""
    args: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}={cli_type(key)}"]
    return args


def compose_spec() -> str:
    """``NAME=Type`` pairs, space-separated: what deploy/create-namespace.sh registers."""
    return " ".join(f"{key.name}={cli_type(key)}" for key in SEARCH_ATTRIBUTES)


# -- the rules -------------------------------------------------------------------------------


def failed_marker(marketplace: Marketplace | str) -> str:
    """``etsy:failed``: the value of ``JobMarketplaces`` that ``marketplace=etsy&status=failed``
    (and ``status=cancelled``) finds."""
    return f"{Marketplace(marketplace).value}:failed"


def job_search_attributes(
    *,
    status: JobStatus,
    sku: str,
    created_at: datetime,
    marketplaces: Mapping[Marketplace, MarketplaceStatus],
) -> TypedSearchAttributes:
    """The one rule from a job's state to its search attributes.

    Failed marketplaces are marked only once the job itself is failed or cancelled, so the
    value changes with the job's status and never between two status transitions: a job's
    history gets one upsert per status transition, none per marketplace.
    """
    names = [m.value for m in marketplaces]
    if status in (JobStatus.FAILED, JobStatus.CANCELLED):
        names += [
            failed_marker(m) for m, s in marketplaces.items() if s is MarketplaceStatus.FAILED
        ]
    return TypedSearchAttributes(
        [
            SearchAttributePair(JOB_STATUS, status.value),
            SearchAttributePair(JOB_SKU, sku),
            SearchAttributePair(JOB_MARKETPLACES, names),
            SearchAttributePair(JOB_CREATED_AT, created_at),
        ]
    )


def listing_search_attributes(
    *, status: str, placements: Mapping[Marketplace, str], sold_out: bool
) -> TypedSearchAttributes:
    """The one rule from a listing entity's state to its search attributes."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(LISTING_STATUS, status),
            SearchAttributePair(
                LISTING_PLACEMENTS,
                [f"{m.value}:{state}" for m, state in sorted(placements.items())],
            ),
            SearchAttributePair(LISTING_SOLD_OUT, sold_out),
        ]
    )


def changed(
    current: TypedSearchAttributes, wanted: TypedSearchAttributes
) -> list[SearchAttributeUpdate[Any]]:
    """The updates that bring ``current`` to ``wanted`` (empty: nothing to upsert). Keys
    missing from ``current`` (a workflow started before the attributes existed) are set."""
    updates: list[SearchAttributeUpdate[Any]] = []
    for pair in wanted:
        value = pair.value
        have = current.get(pair.key)
        if isinstance(value, Sequence) and not isinstance(value, str):
            same = have is not None and list(have) == list(value)
        elif isinstance(value, datetime) and isinstance(have, datetime):
            # Read back from the server at whatever precision it keeps: compare instants.
            same = abs((have - value).total_seconds()) < 0.001
        else:
            same = have == value
        if not same:
            updates.append(pair.key.value_set(value))
    return updates
