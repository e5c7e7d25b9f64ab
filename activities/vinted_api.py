"""Signed calls to Vinted Pro Integrations: the request signature and one method per endpoint.

Vinted publishes no OpenAPI document; README "Vinted assumptions" lists each assumption
with its source. Paths are relative to ``VINTED_BASE_URL`` (production
``https://pro.svc.vinted.com/api/v1``, sandbox ``https://pro-public-sandbox.svc.vinted.com
/api/v1``: rfair404/claude-ebay-prompts-etc ``lib/vinted_client.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from activities.http_errors import error_for_response, parse_retry_after, send
from config.settings import Settings
from domain.marketplaces import Marketplace

MARKETPLACE = Marketplace.VINTED

RATE_LIMIT_WAITS = 3
"""A 429 means the request was not processed: each call waits out ``Retry-After`` (at most
``RATE_LIMIT_MAX_WAIT`` seconds) and sends again up to this many times before it raises
RateLimited for the retry policy. Vinted documents no rate (README "Vinted assumptions")."""
RATE_LIMIT_MAX_WAIT = 5.0

ITEMS_PAGE_SIZE = 250
"""GetItems page size: samicodesit/quick-vint-api ``findByReference`` pages with
``limit=250`` and takes a shorter page as the last (ASSUMPTION: 250 is allowed)."""


def signature_header(
    signing_key: str, access_key: str, method: str, target: str, body: bytes, now: float
) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(key, "<t>.<METHOD>.<path?query>.<access_key>.<body>")>``.

    Vinted's quick start (pro-docs.svc.vinted.com v0.173.2, "Steps for making requests");
    the exact string as in claude-ebay-prompts-etc ``sign`` and quick-vint-api
    ``signVintedRequest``. A retry signs again: the timestamp is part of the signature.
    """
    t = str(int(now))
    message = f"{t}.{method.upper()}.{target}.{access_key}.".encode() + body
    v1 = hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


class VintedApi:
    """The endpoints the activities use, each signed; errors mapped by ``send``."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.base_url = settings.base_url(MARKETPLACE)

    async def get_ontologies(self) -> dict[str, Any]:
        """GetOntologies ``GET /ontologies`` (pro-docs names it; path from quick-vint-api
        ``fetchOntology`` and claude-ebay-prompts-etc ``get_ontologies``)."""
        return json_object(await self._call("get_ontologies", "GET", "/ontologies"))

    async def list_items(self, after_item_id: str | None) -> list[dict[str, Any]]:
        """One page of GetItems ``GET /items?limit=&after_item_id=``: the items created
        through the API with their ``item_id``, ``item_reference`` and status
        (anicolao/vintage ``VINTED_INTEGRATION.md``; paging as quick-vint-api)."""
        params = {"limit": str(ITEMS_PAGE_SIZE)}
        if after_item_id:
            params["after_item_id"] = after_item_id
        body = json_object(await self._call("list_items", "GET", "/items", params=params))
        return [i for i in body.get("items") or [] if isinstance(i, dict)]

    async def create_item(self, item: dict[str, Any]) -> httpx.Response:
        """CreateItems ``POST /items {"items": [item]}``; 202 means accepted, not live."""
        return await self._call("create_items", "POST", "/items", body={"items": [item]})

    async def item_status(self, item_id: str) -> dict[str, Any]:
        """GetItemStatus ``GET /items/{item_id}/status`` by Vinted's UUID (quick-vint-api
        ``getItemStatus``; claude-ebay-prompts-etc ``item_status``)."""
        return json_object(await self._call("item_status", "GET", f"/items/{item_id}/status"))

    async def item_status_if_any(self, item_id: str) -> dict[str, Any] | None:
        """GetItemStatus, or None when Vinted does not know the item (404: deleted)."""
        response = await self._call(
            "item_status", "GET", f"/items/{item_id}/status", expected=(404,)
        )
        return None if response.status_code == 404 else json_object(response)

    async def update_item(self, item: dict[str, Any]) -> httpx.Response:
        """UpdateItems ``PUT /items {"items": [item]}`` (anicolao/vintage, claude-ebay-prompts-
        etc ``update_items``): each entry the whole item with its ``item_id``; 202 accepted,
        processed later (GetItemStatus, ``UPDATE_ITEM_*`` webhooks). A 404 is returned, not
        raised (the caller reads it as the item being gone)."""
        return await self._call(
            "update_items", "PUT", "/items", body={"items": [item]}, expected=(404,)
        )

    async def delete_item(self, item_id: str) -> httpx.Response:
        """DeleteItems ``DELETE /items {"item_ids": [id]}`` (claude-ebay-prompts-etc
        ``delete_items``; platform-mcp ``vinted_pro.json``): 202, one entry per id with
        ``accepted`` (false with a reason while the item is still IN_PROGRESS)."""
        return await self._call("delete_items", "DELETE", "/items", body={"item_ids": [item_id]})

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        expected: tuple[int, ...] = (),
    ) -> httpx.Response:
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        for _ in range(RATE_LIMIT_WAITS):
            response = await self._send(operation, method, path, content, params, expected)
            if response.status_code != 429:
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            wait = retry_after.total_seconds() if retry_after else 1.0
            if wait > RATE_LIMIT_MAX_WAIT:
                break
            await asyncio.sleep(wait)
        raise error_for_response(MARKETPLACE, operation, response)

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        content: bytes,
        params: dict[str, str] | None,
        expected: tuple[int, ...],
    ) -> httpx.Response:
        """One signed request (signed again each time: the timestamp is in the signature)."""
        headers = {"Accept": "application/json"}
        if content:
            headers["Content-Type"] = "application/json"
        request = self.http.build_request(
            method, f"{self.base_url}{path}", content=content, params=params, headers=headers
        )
        access_key = self.settings.vinted_access_key.get_secret_value()
        request.headers["X-Vpi-Access-Key"] = access_key
        request.headers["X-Vpi-Hmac-Sha256"] = signature_header(
            self.settings.vinted_signing_key.get_secret_value(),
            access_key,
            method,
            request.url.raw_path.decode("ascii"),
            content,
            time.time(),
        )
        return await send(
            self.http,
            request,
            marketplace=MARKETPLACE,
            operation=operation,
            expected=(429, *expected),
        )


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object a response carries, or {} (a body that is not one is no answer)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
