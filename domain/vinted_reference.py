"""The seller's ``item_reference`` of a Vinted item, ``<sku>-<12 hex>``: how the adapter makes it
and how a sale event's reference leads back to the SKU (the listing entity)."""

from __future__ import annotations

import hashlib
import re

from domain.listing import SKU_PATTERN

REFERENCE_MAX = 64
"""``item_reference`` length limit (quick-vint-api ``validateItemInput``)."""
_DIGEST_HEX = 12
_REFERENCE = re.compile(rf"(?P<sku>[A-Za-z0-9]{{1,50}})-[0-9a-f]{{{_DIGEST_HEX}}}", re.ASCII)
_SKU = re.compile(SKU_PATTERN, re.ASCII)


def item_reference(sku: str, idempotency_key: str) -> str:
    """``<sku>-<12 hex of sha256(key)>``: at most 64 characters (50 + 1 + 12).

    Derived from the idempotency key (one item per job and marketplace, across retries),
    with the SKU in front so people, tests and the sale webhook can tell which product it is.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:_DIGEST_HEX]
    return f"{re.sub(r'[^A-Za-z0-9]', '', sku)}-{digest}"[-REFERENCE_MAX:]


def sku_of_reference(reference: str) -> str | None:
    """The SKU an ``item_reference`` we made names, or None for one we did not make (an item
    listed by hand or imported: no listing entity of ours)."""
    match = _REFERENCE.fullmatch(reference)
    if match is None or not _SKU.fullmatch(match.group("sku")):
        return None
    return match.group("sku")
