"""The marketplaces' official OpenAPI documents (``specs/``), each loaded once, defects fixed.

Each fix below is a function whose docstring names the defect and its source. They only make
a document say what its own text (and the live API) says; none makes it more lenient.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI

from domain.marketplaces import Marketplace
from simulator.spec.openapi_extensions import multipart_casting_deserializers, security_providers

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"
"""Where the vendored documents live (``specs/README.md`` names the source of each)."""

Node = dict[str, Any]
Fix = Callable[[Node], None]


@dataclass(frozen=True)
class SpecSource:
    """One official document and where its API lives: ``origin`` + ``base_path`` + path."""

    marketplace: Marketplace
    file: str
    title: str
    origin: str
    base_path: str


SOURCES: tuple[SpecSource, ...] = (
    SpecSource(
        Marketplace.EBAY,
        "sell_inventory_v1_oas3_1.17.2.yaml",
        "eBay Sell Inventory API 1.17.2",
        "https://api.ebay.com",
        "/sell/inventory/v1",
    ),
    SpecSource(
        Marketplace.EBAY,
        "ebay_sell_fulfillment_v1_oas3.yaml",
        "eBay Sell Fulfillment API v1.19.17",
        "https://api.ebay.com",
        "/sell/fulfillment/v1",
    ),
    SpecSource(
        Marketplace.EBAY,
        "ebay_commerce_taxonomy_v1_oas3.yaml",
        "eBay Commerce Taxonomy API v1.0.0",
        "https://api.ebay.com",
        "/commerce/taxonomy/v1",
    ),
    SpecSource(
        Marketplace.EBAY,
        "ebay_sell_metadata_v1_oas3.yaml",
        "eBay Sell Metadata API v1.5.0",
        "https://api.ebay.com",
        "/sell/metadata/v1",
    ),
    SpecSource(
        Marketplace.EBAY,
        "ebay_commerce_notification_v1_oas3.yaml",
        "eBay Commerce Notification API v1.2.0",
        "https://api.ebay.com",
        "/commerce/notification/v1",
    ),
    SpecSource(
        Marketplace.ETSY,
        "etsy_openapi_v3_2025-02.json",
        "Etsy Open API v3 (2025-02)",
        "https://api.etsy.com",
        "/v3/application",
    ),
)


@dataclass(frozen=True)
class Document:
    """A loaded document: the openapi-core app and every operationId it defines."""

    source: SpecSource
    openapi: OpenAPI
    operation_ids: frozenset[str]


def strip_null_defaults(node: Any) -> None:
    """Etsy (2025-02) writes ``"default": null`` on schemas that are not ``nullable``.

    OAS 3.0 says a default MUST conform to the schema, so openapi-spec-validator rejects the
    document ("None for not nullable") and a validator would fill ``null`` into requests.
    Source: the document itself; reference/real_api_fidelity.md ("strip before loading").
    """
    if isinstance(node, dict):
        if "default" in node and node["default"] is None and not node.get("nullable"):
            del node["default"]
        for value in node.values():
            strip_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            strip_null_defaults(value)


def aspects_as_string_arrays(document: Node) -> None:
    """eBay Inventory types ``Product.aspects`` as a string, while the property's own text
    shows ``"aspects": {"Brand": ["GoPro"]}`` and the live API takes exactly that.

    Made an object whose values are arrays of strings; "Max Length for Aspect Value: 50" (same
    text) becomes ``maxLength`` of each value. Source: the ``aspects`` description;
    reference/real_api_fidelity.md.
    """
    product = document.get("components", {}).get("schemas", {}).get("Product")
    if product is None:
        return
    aspects = product["properties"]["aspects"]
    product["properties"]["aspects"] = {
        "type": "object",
        "description": aspects.get("description", ""),
        "additionalProperties": {"type": "array", "items": {"type": "string", "maxLength": 50}},
    }


_MAX_LENGTH = re.compile(r"Max Length</strong>\s*/?:\s*(\d+)", re.IGNORECASE)


def max_lengths_from_text(document: Node) -> None:
    """eBay never uses ``maxLength``: its limits are prose, ``<strong>Max Length</strong>: N``
    in the description of the field or parameter (``product.description``: 4000, ``title``:
    80, ``sku``: 50). Each becomes ``maxLength`` on that string schema.
    Source: the descriptions themselves (eBay's documented field limits).
    """
    for holder in _walk(document):
        text = holder.get("description")
        match = _MAX_LENGTH.search(text) if isinstance(text, str) else None
        if match is None:
            continue
        schema = holder.get("schema", holder)  # a parameter carries its schema inside
        if isinstance(schema, dict) and schema.get("type") == "string":
            schema.setdefault("maxLength", int(match.group(1)))
            schema["x-max-length-from-text"] = True


_REQUIRES = re.compile(r"Requires '(\w+)' and '(\w+)'")


def requirements_from_text(document: Node) -> None:
    """Etsy's ``who_made``, ``when_made`` and ``is_supply`` each say "Requires 'x' and 'y'"
    (createDraftListing, updateListing), but no schema says so: a draft without ``is_supply``
    passes the schema and is rejected by Etsy (400).

    Each such property of a request body adds the rule "if sent, the other two are sent"
    (``anyOf: [not required [p], required [x, y]]``, with ``x-rule`` naming it for the error).
    Responses (``ShopListing``) carry the same text but are what Etsy sends, not inputs.
    Source: the property descriptions; Etsy staff in etsy/open-api#511 (fidelity fault 1).
    """
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue  # a path item's "parameters"
            for media_type in operation.get("requestBody", {}).get("content", {}).values():
                _add_requirements(media_type.get("schema", {}))


def _add_requirements(schema: Node) -> None:
    for name, prop in schema.get("properties", {}).items():
        text = prop.get("description") if isinstance(prop, dict) else None
        match = _REQUIRES.search(text) if isinstance(text, str) else None
        if match is None:
            continue
        needed = [match.group(1), match.group(2)]
        schema.setdefault("allOf", []).append(
            {
                "anyOf": [{"not": {"required": [name]}}, {"required": needed}],
                "x-rule": f"'{name}' requires {' and '.join(repr(n) for n in needed)}",
            }
        )


def string_keys(node: Any) -> Any:
    """Some eBay documents write response codes unquoted (``200:``), which YAML reads as
    integers; OAS 3.0 says they "MUST be enclosed in quotation marks" so that the YAML and JSON
    forms agree. Every key becomes the string JSON would have. Source: OAS 3.0.3 Responses."""
    if isinstance(node, dict):
        return {str(key): string_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [string_keys(value) for value in node]
    return node


def expand_server_variables(document: Node) -> None:
    """eBay's servers are ``https://api.ebay.com{basePath}``; openapi-core 0.23 does not let a
    server variable span several path segments, so each is expanded to its default
    (``/sell/inventory/v1``). Not a defect of the document: a limit of the library."""
    for server in document.get("servers", []):
        for name, variable in (server.get("variables") or {}).items():
            server["url"] = server["url"].replace("{" + name + "}", variable["default"])
        server.pop("variables", None)


FIXES: Mapping[Marketplace, tuple[Fix, ...]] = {
    Marketplace.EBAY: (aspects_as_string_arrays, max_lengths_from_text, expand_server_variables),
    Marketplace.ETSY: (strip_null_defaults, requirements_from_text),
}


def _walk(node: Any) -> Iterator[Node]:
    """Every mapping in the document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def read_document(source: SpecSource, specs_dir: Path = SPECS_DIR) -> Node:
    """The document as published, parsed, with its marketplace's fixes applied."""
    path = specs_dir / source.file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the vendored OpenAPI document is missing (specs/)")
    text = path.read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if path.suffix == ".json":
        document: Node = json.loads(text)
    else:
        document = string_keys(yaml.load(text, loader))
    for fix in FIXES.get(source.marketplace, ()):
        fix(document)
    return document


@functools.cache
def load(source: SpecSource) -> Document:
    """The loaded document (once per process); openapi-core checks it is valid OAS 3.0."""
    document = read_document(source)
    config = Config(
        media_type_deserializers_factory=multipart_casting_deserializers(),
        security_provider_factory=security_providers(),
    )
    operation_ids = frozenset(
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    )
    return Document(source, OpenAPI.from_dict(document, config=config), operation_ids)


def operation_ids(marketplace: Marketplace) -> frozenset[str]:
    """Every operationId in the marketplace's official documents (empty: no spec)."""
    return frozenset().union(
        *(load(s).operation_ids for s in SOURCES if s.marketplace is marketplace)
    )
