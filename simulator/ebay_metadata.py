"""Simulated eBay Sell Metadata API: ``getItemConditionPolicies`` (ebay_sell_metadata_v1_oas3.yaml).

``GET /sell/metadata/v1/marketplace/{marketplace_id}/get_item_condition_policies`` with an
optional ``filter=categoryIds:{id1|id2}`` (at most 50), answering ``ItemConditionPolicyResponse``.
As the OAS lists them, a bad filter (46002), an unknown category (46003) and too many IDs
(46004) are warnings of a 200 answer; an unknown marketplace is 400 46001.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplace_limits import EBAY_SITES
from domain.marketplaces import Marketplace
from simulator import ebay_categories
from simulator.ebay_access import METADATA_SCOPES
from simulator.errors import ebay_error
from simulator.pipeline import MarketplaceSurface
from simulator.state import SimState

PREFIX = "/ebay/sell/metadata/v1"
DOMAIN = "API_METADATA"
MAX_FILTER_IDS = 50
_FILTER = re.compile(r"categoryIds:\{([^{}]*)\}")

router = APIRouter(prefix=PREFIX)


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    return sim.ebay_access.admit(request, METADATA_SCOPES)


surface = MarketplaceSurface(Marketplace.EBAY, _authenticate)


def _warning(error_id: int, message: str) -> dict[str, Any]:
    return {"errorId": error_id, "domain": DOMAIN, "category": "REQUEST", "message": message}


@router.get("/marketplace/{marketplace_id}/get_item_condition_policies")
@surface.operation("get_item_condition_policies")
async def get_item_condition_policies(request: Request, marketplace_id: str) -> Response:
    if marketplace_id not in EBAY_SITES:
        return ebay_error(400, 46001, "The specified marketplace ID was not found.", domain=DOMAIN)
    warnings: list[dict[str, Any]] = []
    raw = request.query_params.get("filter")
    wanted: list[str] | None = None
    if raw is not None:
        match = _FILTER.fullmatch(raw.strip())
        if match is None:
            warnings.append(
                _warning(
                    46002,
                    "The filter value is invalid. Sample supported values: "
                    "filter=categoryIds:{catId1|catId2|catId3}.",
                )
            )
        else:
            wanted = [i.strip() for i in match.group(1).split("|") if i.strip()]
            if len(wanted) > MAX_FILTER_IDS:
                warnings.append(
                    _warning(46004, "Only 50 Category IDs specified in the filter are used.")
                )
                wanted = wanted[:MAX_FILTER_IDS]
    ids = wanted if wanted is not None else list(ebay_categories.CATEGORIES)
    policies = []
    for category_id in ids:
        found = ebay_categories.category(marketplace_id, category_id)
        if found is None:
            warnings.append(
                _warning(46003, "The specified categoryId was not found for the marketplace.")
            )
            continue
        policies.append(ebay_categories.condition_policy(marketplace_id, found))
    body: dict[str, Any] = {"itemConditionPolicies": policies}
    if warnings:
        body["warnings"] = warnings
    return JSONResponse(body)
