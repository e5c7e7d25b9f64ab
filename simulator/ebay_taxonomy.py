"""Simulated eBay Commerce Taxonomy API (ebay_commerce_taxonomy_v1_oas3.yaml):
``getDefaultCategoryTreeId`` and ``getItemAspectsForCategory``, with the aspect names localized
for the marketplace of the tree (``Marke`` on EBAY_DE's tree 77, ``Brand`` on EBAY_GB's tree 3).
Errors are the OAS's 62002-62008 (domain API_TAXONOMY).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from domain.marketplace_limits import EBAY_SITES
from domain.marketplaces import Marketplace
from simulator import ebay_categories
from simulator.ebay_access import TAXONOMY_SCOPES
from simulator.errors import ebay_error
from simulator.pipeline import MarketplaceSurface
from simulator.state import SimState

PREFIX = "/ebay/commerce/taxonomy/v1"
DOMAIN = "API_TAXONOMY"

router = APIRouter(prefix=PREFIX)


def _authenticate(request: Request, body: bytes, sim: SimState) -> Response | None:
    return sim.ebay_access.admit(request, TAXONOMY_SCOPES)


surface = MarketplaceSurface(Marketplace.EBAY, _authenticate)


@router.get("/get_default_category_tree_id")
@surface.operation("get_default_category_tree_id")
async def get_default_category_tree_id(request: Request) -> Response:
    marketplace_id = request.query_params.get("marketplace_id")
    if not marketplace_id:
        return ebay_error(400, 62002, "Missing marketplace ID.", domain=DOMAIN)
    if marketplace_id not in EBAY_SITES:
        return ebay_error(400, 62003, "The specified marketplace ID was not found.", domain=DOMAIN)
    return JSONResponse(
        {
            "categoryTreeId": ebay_categories.TREE_IDS[marketplace_id],
            "categoryTreeVersion": ebay_categories.CATEGORY_TREE_VERSION,
        }
    )


@router.get("/category_tree/{category_tree_id}/get_item_aspects_for_category")
@surface.operation("get_item_aspects_for_category")
async def get_item_aspects_for_category(request: Request, category_tree_id: str) -> Response:
    marketplace_id = ebay_categories.marketplace_of_tree(category_tree_id)
    if marketplace_id is None:
        return ebay_error(
            400, 62004, "The specified category tree ID was not found.", domain=DOMAIN
        )
    category_id = request.query_params.get("category_id")
    if not category_id:
        return ebay_error(400, 62006, "Missing category ID.", domain=DOMAIN)
    if category_id == "0":
        return ebay_error(
            400,
            62008,
            "The specified category ID is the root for the category tree.",
            domain=DOMAIN,
        )
    found = ebay_categories.category(marketplace_id, category_id)
    if found is None:
        return ebay_error(
            400,
            62005,
            "The specified category ID does not belong to specified category tree.",
            domain=DOMAIN,
        )
    return JSONResponse({"aspects": ebay_categories.item_aspects(marketplace_id, found)})
