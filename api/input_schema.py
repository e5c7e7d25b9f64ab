"""MIP-003 ``GET /input_schema``, derived from the Listing model (never written twice)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

TEXTAREA_FROM_LENGTH = 200


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _field(field_id: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    optional = not required
    variants = schema.get("anyOf")
    if variants:
        schema = {**schema, **next(v for v in variants if v.get("type") != "null")}
        optional = True
    kind = schema.get("type")
    validations: list[dict[str, str]] = []
    data: dict[str, Any] = {}
    if schema.get("description"):
        data["description"] = schema["description"]
    if schema.get("examples"):
        example = schema["examples"][0]
        data["placeholder"] = example[0] if isinstance(example, list) else example
    if "enum" in schema:
        field_type = "option"
        data["values"] = list(schema["enum"])
    elif kind == "integer" or kind == "number":
        field_type = "number"
        for key, name in (("minimum", "min"), ("maximum", "max")):
            if key in schema:
                validations.append({"validation": name, "value": str(schema[key])})
    elif kind == "array":
        field_type = "url"  # the only list in a listing: image URLs
        data["multiple"] = True
        data["description"] = (data.get("description", "") + " https image URLs").strip()
        for key, name in (("minItems", "min"), ("maxItems", "max")):
            if key in schema:
                validations.append({"validation": name, "value": str(schema[key])})
    else:
        long_text = schema.get("maxLength", 0) > TEXTAREA_FROM_LENGTH
        field_type = "textarea" if long_text else "text"
        for key, name in (("minLength", "min"), ("maxLength", "max")):
            if key in schema:
                validations.append({"validation": name, "value": str(schema[key])})
        if "pattern" in schema:
            validations.append({"validation": "format", "value": schema["pattern"]})
    if optional:
        validations.append({"validation": "optional", "value": "true"})
    field: dict[str, Any] = {
        "id": field_id,
        "type": field_type,
        "name": field_id.replace(".", " ").replace("_", " ").capitalize(),
    }
    if data:
        field["data"] = data
    if validations:
        field["validations"] = validations
    return field


def mip003_input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """MIP-003 fields (Attachment 01 types and validations). A nested object (price) becomes
    dotted ids (``price.amount``) that stand for ``{"price": {"amount": …}}`` in input_data."""
    root = model.model_json_schema()
    defs = root.get("$defs", {})
    fields: list[dict[str, Any]] = []

    def walk(schema: dict[str, Any], prefix: str) -> None:
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = _resolve(prop, defs)
            field_id = f"{prefix}{name}"
            if prop.get("type") == "object" and "properties" in prop:
                walk(prop, f"{field_id}.")
            else:
                fields.append(_field(field_id, prop, name in required))

    walk(root, "")
    return {"input_data": fields}
