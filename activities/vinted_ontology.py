"""Vinted's ontology (GetOntologies), cached per worker, and the ids a listing maps to.

An item needs ``catalog_id`` and ``package_size_id`` (and, where its catalog has sizes, a
``size_id``) from the ontology, ``brand`` as text, and its condition as an option of the
``condition`` item attribute. Sources (README "Vinted assumptions"):
tonyyang0504/platform-mcp ``vinted_pro.json`` ("CreateItems requires brand, catalog_id,
package_size_id, currency, photo_urls and the category's item attributes resolved from
GetOntologies"); anicolao/vintage ``VINTED_INTEGRATION.md`` (api.yml v0.355.1: brand is text,
"ontologies do not expose a brand list", condition is the ``condition`` item attribute,
``status_id`` deprecated; taxonomy is versioned); samicodesit/quick-vint-api
``ontology.ts``/``items.ts`` (``{version, enumerations: {catalogs, package_sizes}}``, ids
checked against it before sending).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from domain.listing import Condition, Listing
from domain.marketplaces import Marketplace
from domain.missing_fields import MissingField, listing_field, vinted_package_size

CONDITION_ATTRIBUTE = "condition"
"""ASSUMPTION: the id of the condition item attribute (anicolao/vintage names the attribute;
quick-vint-api types ``item_attributes`` as ``{id: string, option_ids: number[]}``)."""

CONDITION_TITLES: dict[Condition, str] = {
    Condition.NEW: "New with tags",
    Condition.LIKE_NEW: "New without tags",
    Condition.GOOD: "Good",
    Condition.FAIR: "Satisfactory",
}
"""ASSUMPTION: our condition -> the title of Vinted's condition option (the names Vinted's
site uses; the option id is looked up in the ontology, never hard-coded)."""


@dataclass(frozen=True)
class Catalog:
    catalog_id: int
    title: str
    size_ids: frozenset[int]
    """ASSUMPTION: a catalog lists the sizes that apply to it; with any, an item needs one."""


@dataclass(frozen=True)
class Ontology:
    """What of GetOntologies the publish activity uses. ASSUMPTION: the ``sizes`` and
    ``attributes`` enumerations and the ``title``/``size_ids``/``options`` keys (sources name
    only ``version`` and ``enumerations.catalogs/package_sizes[].id``)."""

    version: str
    catalogs: Mapping[int, Catalog]
    package_size_ids: frozenset[int]
    sizes: Mapping[int, str]
    conditions: Mapping[str, int]
    package_sizes: Mapping[int, str] = field(default_factory=dict)
    """Package size id -> title (the choices a job offers when it asks for one)."""

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> Ontology:
        enumerations = document.get("enumerations") or {}
        catalogs = {
            c["id"]: Catalog(c["id"], str(c.get("title", "")), frozenset(c.get("size_ids") or ()))
            for c in _entries(enumerations, "catalogs")
        }
        attributes = {a.get("id"): a for a in _entries(enumerations, "attributes")}
        options = (attributes.get(CONDITION_ATTRIBUTE) or {}).get("options") or []
        return cls(
            version=str(document.get("version", "")),
            catalogs=catalogs,
            package_size_ids=frozenset(p["id"] for p in _entries(enumerations, "package_sizes")),
            package_sizes={
                p["id"]: str(p.get("title", "")) for p in _entries(enumerations, "package_sizes")
            },
            sizes={s["id"]: str(s.get("title", "")) for s in _entries(enumerations, "sizes")},
            conditions={
                str(o.get("title", "")).casefold(): o["id"]
                for o in options
                if isinstance(o, dict) and "id" in o
            },
        )


def _entries(enumerations: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    return [e for e in enumerations.get(name) or [] if isinstance(e, dict) and "id" in e]


@dataclass(frozen=True)
class ItemIds:
    catalog_id: int
    package_size_id: int
    brand: str
    size_id: int | None
    condition_id: int


class UnresolvedItemIds(ValueError):
    """A required id the listing and the seller's settings do not determine."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        self.fields = list(problems)
        super().__init__("; ".join(f"{field}: {why}" for field, why in problems.items()))


def resolve_item_ids(
    listing: Listing,
    ontology: Ontology,
    settings: Settings,
    package_size_id: int | None = None,
) -> ItemIds:
    """The ids for ``listing``: its own ``category``/``size``/``brand`` when given (matched by
    title, case-insensitively), else the seller's VINTED_* defaults; ``package_size_id`` when
    the job was given one (issue 15), else VINTED_PACKAGE_SIZE_ID; every id checked against
    the ontology. Raises ``UnresolvedItemIds`` naming every field it cannot determine."""
    problems: dict[str, str] = {}
    catalog = _catalog(listing, ontology, settings, problems)
    if package_size_id is None:
        package_size_id = settings.vinted_package_size_id
    if package_size_id not in ontology.package_size_ids:
        problems["package_size_id"] = (
            f"VINTED_PACKAGE_SIZE_ID {package_size_id} is not a package size of ontology "
            f"{ontology.version}"
            if package_size_id
            else "VINTED_PACKAGE_SIZE_ID is not set"
        )
    brand = listing.brand or settings.vinted_default_brand
    if not brand:
        problems["brand"] = "the listing has none and VINTED_DEFAULT_BRAND is not set"
    size_id = _size(listing, ontology, settings, catalog, problems) if catalog else None
    title = CONDITION_TITLES[listing.condition]
    condition_id = ontology.conditions.get(title.casefold())
    if condition_id is None:
        problems["condition"] = f"no condition option {title!r} in ontology {ontology.version}"
    if problems or catalog is None or package_size_id is None or condition_id is None:
        raise UnresolvedItemIds(problems)
    return ItemIds(catalog.catalog_id, package_size_id, str(brand), size_id, condition_id)


def _catalog(
    listing: Listing, ontology: Ontology, settings: Settings, problems: dict[str, str]
) -> Catalog | None:
    if listing.category:
        wanted = listing.category.casefold()
        found = [c for c in ontology.catalogs.values() if c.title.casefold() == wanted]
        if not found:
            problems["category"] = f"{listing.category!r} is not a Vinted catalog"
        return found[0] if found else None
    catalog_id = settings.vinted_catalog_id
    if catalog_id is None:
        problems["catalog_id"] = "the listing has no category and VINTED_CATALOG_ID is not set"
        return None
    if catalog_id not in ontology.catalogs:
        problems["catalog_id"] = (
            f"VINTED_CATALOG_ID {catalog_id} is not a catalog of ontology {ontology.version}"
        )
        return None
    return ontology.catalogs[catalog_id]


def _size(
    listing: Listing,
    ontology: Ontology,
    settings: Settings,
    catalog: Catalog,
    problems: dict[str, str],
) -> int | None:
    if not catalog.size_ids:
        return None  # sizes do not apply to this catalog; a listing's size is not sent
    if listing.size:
        wanted = listing.size.casefold()
        found = [i for i in catalog.size_ids if ontology.sizes.get(i, "").casefold() == wanted]
        if not found:
            problems["size"] = f"{listing.size!r} is not a size of catalog {catalog.title!r}"
        return found[0] if found else None
    if settings.vinted_default_size_id in catalog.size_ids:
        return settings.vinted_default_size_id
    problems["size_id"] = f"catalog {catalog.title!r} needs a size; the listing has none and " + (
        f"VINTED_DEFAULT_SIZE_ID {settings.vinted_default_size_id} is not one of its sizes"
        if settings.vinted_default_size_id
        else "VINTED_DEFAULT_SIZE_ID is not set"
    )
    return None


def missing_fields(
    problems: Mapping[str, str], listing: Listing, ontology: Ontology, settings: Settings
) -> list[MissingField] | None:
    """The fields to ask for (``awaiting_input``, issue 15) so that every problem goes away,
    with the ontology's titles as choices; None when some problem is nothing a purchaser can
    supply (the ontology has no such condition, a title too long, …)."""
    fields: list[MissingField] = []
    for key, why in problems.items():
        if key == "package_size_id":
            fields.append(vinted_package_size(ontology.package_sizes, why))
        elif key in ("category", "catalog_id"):
            titles = [c.title for c in ontology.catalogs.values() if c.title]
            fields.append(listing_field(Marketplace.VINTED, "category", why, titles))
        elif key in ("size", "size_id"):
            catalog = _known_catalog(listing, ontology, settings)
            titles = [ontology.sizes[i] for i in sorted(catalog.size_ids) if ontology.sizes.get(i)]
            fields.append(listing_field(Marketplace.VINTED, "size", why, titles))
        elif key == "brand":
            fields.append(listing_field(Marketplace.VINTED, "brand", why))
        else:
            return None
    return fields


def _known_catalog(listing: Listing, ontology: Ontology, settings: Settings) -> Catalog:
    """The catalog a size problem was found in (there is one, or no size would be asked)."""
    wanted = (listing.category or "").casefold()
    for catalog in ontology.catalogs.values():
        if wanted and catalog.title.casefold() == wanted:
            return catalog
    return ontology.catalogs[settings.vinted_catalog_id or 0]


class OntologyCache:
    """GetOntologies at most once per ``ttl`` seconds per worker, whatever the concurrency."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = asyncio.Lock()
        self._ontology: Ontology | None = None
        self._fetched_at = 0.0

    async def get(self, fetch: Callable[[], Awaitable[Mapping[str, Any]]]) -> Ontology:
        async with self._lock:
            if self._ontology is None or self.clock() - self._fetched_at >= self.ttl:
                self._ontology = Ontology.parse(await fetch())
                self._fetched_at = self.clock()
            return self._ontology

    def invalidate(self) -> None:
        """Forget the ontology (Vinted failed an item: our ids may be out of date)."""
        self._ontology = None
