"""The eBay adapter fits each listing to its category before writing: conditions from the
Metadata API, item specifics from the Taxonomy API, both fetched once per worker
(real_api_fidelity.md #6 and #7). Every exchange is judged by eBay's documents."""

from __future__ import annotations

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.ebay import EbayActivities
from activities.ebay_catalog import Aspect, CategoryRules
from api.schemas import EXAMPLE_START_JOB
from config.settings import Settings
from domain.listing import Listing
from domain.marketplace_errors import MISSING_LISTING_FIELDS, missing_fields_of
from domain.marketplaces import Marketplace
from domain.missing_fields import FieldTarget
from tests.activities.ebay_support import Wire
from tests.activities.harness import Attempts, publish_request
from tests.support.simulator import SimulatorControl

pytestmark = pytest.mark.asyncio(loop_scope="session")

EBAY = Marketplace.EBAY


def _attempts(settings: Settings, http: httpx.AsyncClient) -> Attempts:
    return Attempts(EbayActivities(settings, http).publish_to_ebay, EBAY)


def _item(wire: Wire, sku: str) -> dict[str, object]:
    [body] = wire.sent_json("PUT", f"/inventory_item/{sku}")
    return body


@pytest.mark.parametrize(
    ("condition", "ebay_condition"),
    [
        ("new", "NEW"),
        ("like_new", "PRE_OWNED_EXCELLENT"),
        ("good", "USED_EXCELLENT"),
        ("fair", "PRE_OWNED_FAIR"),
    ],
)
async def test_each_condition_maps_to_one_the_clothing_category_allows(
    settings: Settings,
    ebay_http: httpx.AsyncClient,
    sim: SimulatorControl,
    wire: Wire,
    condition: str,
    ebay_condition: str,
) -> None:
    """Fault #6: category 57988 allows NEW, NEW_OTHER, NEW_WITH_DEFECTS, PRE_OWNED_EXCELLENT,
    USED_EXCELLENT, PRE_OWNED_FAIR; the old fixed mapping sent USED_GOOD, LIKE_NEW and
    USED_ACCEPTABLE, which eBay refuses there."""
    request = publish_request(EBAY, condition=condition)
    await _attempts(settings, ebay_http).run(request)
    assert _item(wire, request.listing.sku)["condition"] == ebay_condition
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1


async def test_category_rules_are_fetched_once_per_worker(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Three publishes, one read each of the condition policy, the tree and the aspects: a
    publish costs the four Inventory calls only."""
    attempts = _attempts(settings, ebay_http)
    for _ in range(3):
        await attempts.run(publish_request(EBAY))
    for operation in (
        "getItemConditionPolicies",
        "getDefaultCategoryTreeId",
        "getItemAspectsForCategory",
    ):
        assert len(await sim.calls("ebay", operation)) == 1, operation
    assert len(await sim.calls("ebay", "createOrReplaceInventoryItem")) == 3


async def test_a_condition_the_category_cannot_take_fails_before_any_write(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Fault #6: category 900001 (a new-only fixture) has nothing for a used item: the
    listing fails, not retryable, naming the condition and the category; nothing written."""
    new_only = settings.model_copy(update={"ebay_category_id": "900001"})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(new_only, ebay_http).run(publish_request(EBAY, condition="good"))
    assert failure.value.type == "MarketplaceValidationError" and failure.value.non_retryable
    assert "'good'" in failure.value.message and "900001" in failure.value.message
    assert await sim.calls("ebay", "createOrReplaceInventoryItem") == []


async def test_brand_and_size_go_under_the_categorys_own_aspect_names(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Fault #7: EBAY_DE's tree calls them "Marke" and "Größe"."""
    request = publish_request(EBAY, brand="Levi's", size="M")
    await _attempts(settings, ebay_http).run(request)
    product = _item(wire, request.listing.sku)["product"]
    assert product["aspects"] == {"Marke": ["Levi's"], "Größe": ["M"]}  # type: ignore[index]
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1


async def test_the_contract_example_is_published_as_markenlos(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Fault #7: the contract's example (no brand, no size, condition good) completes: the
    required brand is eBay.de's "Markenlos", the size is not required in 57988."""
    listing = Listing.model_validate(EXAMPLE_START_JOB["input_data"])
    request = publish_request(EBAY, **listing.model_dump(mode="json", exclude_none=True))
    await _attempts(settings, ebay_http).run(request)
    item = _item(wire, listing.sku)
    assert item["product"]["aspects"] == {"Marke": ["Markenlos"]}  # type: ignore[index]
    assert item["condition"] == "USED_EXCELLENT"
    assert len(await sim.live_listings("ebay", listing.sku)) == 1


async def test_a_required_size_the_listing_lacks_fails_before_any_write(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """Fault #7: category 11483 requires "Größe": the listing fails, not retryable, naming the
    aspect and the listing's field; nothing written. Issue 15: the failure carries the field
    the job asks for (``awaiting_input``): the listing's ``size``."""
    jeans = settings.model_copy(update={"ebay_category_id": "11483"})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(jeans, ebay_http).run(publish_request(EBAY))
    assert failure.value.type == MISSING_LISTING_FIELDS and failure.value.non_retryable
    assert "Größe (the listing's size)" in failure.value.message
    assert "11483" in failure.value.message
    [missing] = missing_fields_of(failure.value)
    assert (missing.id, missing.target, missing.key) == ("size", FieldTarget.LISTING, "size")
    assert "Größe" in missing.description and missing.marketplace is EBAY
    assert await sim.calls("ebay", "createOrReplaceInventoryItem") == []


async def test_the_size_supplied_later_publishes_under_the_category_s_aspect_name(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """Issue 15: the answer to the question above (the listing's size) makes the same
    category accept the listing; the simulator checks the required aspect (25029)."""
    jeans = settings.model_copy(update={"ebay_category_id": "11483"})
    request = publish_request(EBAY, size="W32 L34")
    await _attempts(jeans, ebay_http).run(request)
    aspects = _item(wire, request.listing.sku)["product"]["aspects"]  # type: ignore[index]
    assert aspects["Größe"] == ["W32 L34"]
    assert len(await sim.live_listings("ebay", request.listing.sku)) == 1


async def test_a_required_aspect_no_listing_field_holds_is_asked_for_and_then_sent() -> None:
    """Issue 15: an item specific with no listing field ("Abteilung") is asked for by its own
    form id and, once given (ListingExtras.ebay_aspects), written under its name."""
    rules = CategoryRules(
        "EBAY_DE", "1", False, (), (Aspect("Abteilung", True), Aspect("Farbe", False))
    )
    listing = Listing.model_validate(EXAMPLE_START_JOB["input_data"])
    with pytest.raises(ApplicationError) as failure:
        rules.item_aspects(listing, "Markenlos")
    [missing] = missing_fields_of(failure.value)
    assert (missing.id, missing.target, missing.key) == (
        "ebay_abteilung",
        FieldTarget.EBAY_ASPECT,
        "Abteilung",
    )
    aspects = rules.item_aspects(listing, "Markenlos", {"Abteilung": "Herren"})
    assert aspects == {"Abteilung": ["Herren"]}


async def test_without_a_brand_default_a_required_brand_fails_naming_it(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    """EBAY_DEFAULT_BRAND empty: no listing is labelled "Markenlos" behind the seller's back."""
    strict = settings.model_copy(update={"ebay_default_brand": ""})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(strict, ebay_http).run(publish_request(EBAY))
    assert failure.value.non_retryable
    assert "Marke (the listing's brand)" in failure.value.message
    assert await sim.calls("ebay", "createOrReplaceInventoryItem") == []


async def test_a_category_unknown_to_the_marketplace_fails_naming_it(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl
) -> None:
    unknown = settings.model_copy(update={"ebay_category_id": "123"})
    with pytest.raises(ApplicationError) as failure:
        await _attempts(unknown, ebay_http).run(publish_request(EBAY))
    assert failure.value.type == "MarketplaceValidationError" and failure.value.non_retryable
    assert "category 123" in failure.value.message and "EBAY_DE" in failure.value.message
    assert await sim.calls("ebay", "createOrReplaceInventoryItem") == []


async def test_the_category_calls_carry_the_documents_parameters(
    settings: Settings, ebay_http: httpx.AsyncClient, sim: SimulatorControl, wire: Wire
) -> None:
    """The filter syntax the Metadata API documents (categoryIds:{id}) and the tree of the
    marketplace; the judge has validated both requests against their documents."""
    await _attempts(settings, ebay_http).run(publish_request(EBAY))
    [policy] = wire.sent("GET", "/marketplace/EBAY_DE/get_item_condition_policies")
    assert policy.url.params["filter"] == "categoryIds:{57988}"
    [aspects] = wire.sent("GET", "/category_tree/77/get_item_aspects_for_category")
    assert aspects.url.params["category_id"] == "57988"
