"""The ontology the simulated Vinted serves (GetOntologies) and the checks items must pass.

Sources (README "Vinted assumptions"): ``GET /api/v1/ontologies`` and its
``{version, enumerations: {catalogs: [{id}], package_sizes: [{id}]}}`` shape are read by
samicodesit/quick-vint-api ``utils/ops/integrations/vinted/ontology.ts`` and ``items.ts``
(written against Vinted's api.yml v0.360.0), which also refuses ids not in the ontology;
rfair404/claude-ebay-prompts-etc ``lib/vinted_client.py`` says the ontologies hold
"catalogs, colours, attributes, sizes, statuses (condition), package sizes";
anicolao/vintage ``VINTED_INTEGRATION.md`` (checked against api.yml v0.355.1) says the
condition is written as the ``condition`` item attribute (``status_id`` is deprecated), that
the ontologies expose no brand list (``brand`` is text) and that "additional requirements
depend on taxonomy". The ids and titles below are the
simulator's own: a real seller reads theirs from GetOntologies.
"""

from __future__ import annotations

from typing import Any

ONTOLOGY_VERSION = "sim-2026-11-01"

CONDITION_ATTRIBUTE = "condition"
"""ASSUMPTION: the id of the condition item attribute (anicolao/vintage VINTED_INTEGRATION.md names
the attribute ``condition``; quick-vint-api types ``item_attributes`` as ``{id: string,
option_ids: number[]}``)."""

SIZES: tuple[dict[str, Any], ...] = (
    {"id": 206, "title": "XS"},
    {"id": 207, "title": "S"},
    {"id": 208, "title": "M"},
    {"id": 209, "title": "L"},
    {"id": 210, "title": "XL"},
    {"id": 211, "title": "XXL"},
    {"id": 1000, "title": "Other"},
)
CLOTHING_SIZE_IDS = [size["id"] for size in SIZES]

CATALOGS: tuple[dict[str, Any], ...] = (
    # ASSUMPTION: a catalog lists the size ids that apply to it; where it lists any, an item
    # needs one of them ("additional requirements depend on taxonomy", anicolao/vintage).
    {"id": 1206, "title": "Jackets", "size_ids": CLOTHING_SIZE_IDS},
    {"id": 1207, "title": "Jeans", "size_ids": CLOTHING_SIZE_IDS},
    {"id": 1920, "title": "Bags", "size_ids": []},
)

PACKAGE_SIZES: tuple[dict[str, Any], ...] = (
    {"id": 1, "title": "Small"},
    {"id": 2, "title": "Medium"},
    {"id": 3, "title": "Large"},
)

CONDITIONS: tuple[dict[str, Any], ...] = (
    {"id": 6, "title": "New with tags"},
    {"id": 1, "title": "New without tags"},
    {"id": 2, "title": "Very good"},
    {"id": 3, "title": "Good"},
    {"id": 4, "title": "Satisfactory"},
)


def ontology_document() -> dict[str, Any]:
    """The body of ``GET /api/v1/ontologies``."""
    return {
        "version": ONTOLOGY_VERSION,
        "enumerations": {
            "catalogs": [dict(c) for c in CATALOGS],
            "package_sizes": [dict(p) for p in PACKAGE_SIZES],
            "sizes": [dict(s) for s in SIZES],
            "attributes": [
                {
                    "id": CONDITION_ATTRIBUTE,
                    "title": "Condition",
                    "required": True,
                    "options": [dict(c) for c in CONDITIONS],
                }
            ],
        },
    }


def ontology_failure(item: dict[str, Any]) -> str | None:
    """Why Vinted would fail this accepted item against its ontology, or None.

    ASSUMPTION: ids that pass the request schema but are not in the ontology fail the item
    asynchronously (status FAILED, CREATE_ITEM_FAILURE), like every other item check that
    happens after the 202 (real_api_fidelity.md #4: "items rejected or failed
    asynchronously")."""
    catalog = next((c for c in CATALOGS if c["id"] == item.get("catalog_id")), None)
    if catalog is None:
        return f"catalog_id {item.get('catalog_id')} is not in the ontology"
    if item.get("package_size_id") not in {p["id"] for p in PACKAGE_SIZES}:
        return f"package_size_id {item.get('package_size_id')} is not in the ontology"
    size_id = item.get("size_id")
    if catalog["size_ids"] and size_id is None:
        return f"size_id is required for catalog {catalog['id']}"
    if size_id is not None and size_id not in catalog["size_ids"]:
        return f"size_id {size_id} does not apply to catalog {catalog['id']}"
    options = _attribute_options(item, CONDITION_ATTRIBUTE)
    if len(options) != 1 or options[0] not in {c["id"] for c in CONDITIONS}:
        return "item attribute condition needs exactly one option of the ontology"
    return None


def _attribute_options(item: dict[str, Any], attribute: str) -> list[Any]:
    for entry in item.get("item_attributes") or []:
        if isinstance(entry, dict) and entry.get("id") == attribute:
            options = entry.get("option_ids")
            return list(options) if isinstance(options, list) else []
    return []
