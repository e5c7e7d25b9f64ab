"""One authorised call to an eBay REST API (Inventory, Metadata, Taxonomy, Fulfillment), and
eBay's error ids.

Every call carries the worker's user token; a 401 errorId 1001 renews the token once and sends
the call once more. ``Content-Language`` goes on the calls whose body is listing content
(``createOrReplaceInventoryItem``, ``createOffer``, where the OAS requires it), always the
marketplace's own locale: an item written as ``en-US`` is not found when published on EBAY_DE
(errorId 25604, real_api_fidelity.md #5).
"""

from __future__ import annotations

from typing import Any

import httpx

from activities.ebay_oauth import EbayUserToken
from activities.http_errors import error_for_response, send
from config.settings import Settings
from domain.marketplaces import Marketplace

MARKETPLACE = Marketplace.EBAY
INVENTORY_API = "/sell/inventory/v1"
METADATA_API = "/sell/metadata/v1"
TAXONOMY_API = "/commerce/taxonomy/v1"
FULFILLMENT_API = "/sell/fulfillment/v1"
INVALID_TOKEN = 1001
OFFER_NOT_AVAILABLE = 25713


def error_ids(response: httpx.Response) -> list[tuple[int | None, dict[str, str]]]:
    """(errorId, parameters by name) of each entry of eBay's ``{"errors": [...]}`` body."""
    try:
        errors = response.json().get("errors", [])
    except (ValueError, AttributeError):
        return []
    found = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            params = {
                str(p.get("name")): str(p.get("value"))
                for p in error.get("parameters", []) or []
                if isinstance(p, dict)
            }
            found.append((error.get("errorId"), params))
    return found


def offer_gone(response: httpx.Response) -> bool:
    """eBay no longer has the offer: 404, or 400 errorId 25713 ("This Offer is not
    available"), the answers the OAS lists for getOffer, withdrawOffer and deleteOffer."""
    if response.status_code == 404:
        return True
    return response.status_code == 400 and any(
        error_id == OFFER_NOT_AVAILABLE for error_id, _ in error_ids(response)
    )


class EbayClient:
    """The eBay APIs of one worker, over its pooled HTTP client and its user token."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, token: EbayUserToken) -> None:
        self.settings = settings
        self.http = http
        self.token = token
        self.content_language = settings.ebay_content_locale()

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        api: str = INVENTORY_API,
        json: Any = None,
        params: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one call; return 2xx answers and those in ``expected``, raise the mapped
        ``ApplicationError`` for the rest (401 only after the token was renewed once)."""
        url = self.settings.ebay_api_url(api) + path
        headers = {"Accept": "application/json"}
        if json is not None:
            headers["Content-Language"] = self.content_language
        for renewed in (False, True):
            token = await self.token.current()
            request = self.http.build_request(
                method,
                url,
                json=json,
                params=params,
                headers={**headers, "Authorization": f"Bearer {token}"},
            )
            response = await send(
                self.http,
                request,
                marketplace=MARKETPLACE,
                operation=operation,
                expected=(*expected, 401),
            )
            expired = response.status_code == 401 and any(
                error_id == INVALID_TOKEN for error_id, _ in error_ids(response)
            )
            if not expired or renewed or not await self.token.rejected(token):
                break
        if response.status_code == 401 and 401 not in expected:
            raise error_for_response(MARKETPLACE, operation, response)
        return response
