"""What openapi-core 0.23 leaves out, added for the marketplaces' documents.

- multipart/form-data text parts read as their schema's type, as form-urlencoded fields are.
  OAS 3.0 sends a primitive property of a multipart body as a ``text/plain`` part, so ``rank=1``
  arrives as the text ``"1"``. openapi-core casts form-urlencoded fields to the schema type
  but validates multipart text parts as strings ("'1' is not of type 'integer'"). Such parts
  are cast first; a part that does not convert stays text and is still rejected.
- OAuth 2 security schemes (eBay's and Etsy's user tokens), which openapi-core only warns
  about: the token must be sent as ``Authorization: Bearer <token>`` (RFC 6750 section 2.1).
"""

from __future__ import annotations

from typing import Any

from jsonschema_path import SchemaPath
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.deserializing.media_types import MediaTypeDeserializersFactory
from openapi_core.deserializing.media_types.deserializers import MediaTypeDeserializer
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider

_CAST_TYPES = frozenset({"integer", "number", "boolean"})


class _MultipartCastingDeserializer(MediaTypeDeserializer):
    def decode_property_content_type(
        self,
        prop_name: str,
        prop_schema: SchemaPath,
        location: Any,
        prop_encoding: SchemaPath | None = None,
    ) -> Any:
        value = super().decode_property_content_type(
            prop_name, prop_schema, location, prop_encoding
        )
        prop_type = (prop_schema / "type").read_str("")
        if (
            not self.mimetype.startswith("multipart")
            or prop_type not in _CAST_TYPES
            or not isinstance(value, str)
            or self.schema_caster is None
        ):
            return value
        try:
            return self.schema_caster.evolve(prop_schema).cast(value)
        except CastError:
            return value


class _MultipartCastingDeserializersFactory(MediaTypeDeserializersFactory):
    def create(self, *args: Any, **kwargs: Any) -> MediaTypeDeserializer:
        base = super().create(*args, **kwargs)
        return _MultipartCastingDeserializer(
            base.spec,
            base.style_deserializers_factory,
            base.media_types_deserializer,
            base.mimetype,
            schema=base.schema,
            schema_validator=base.schema_validator,
            schema_caster=base.schema_caster,
            encoding=base.encoding,
            **base.parameters,
        )


def multipart_casting_deserializers() -> MediaTypeDeserializersFactory:
    """The media type deserializers factory for ``openapi_core.Config``."""
    return _MultipartCastingDeserializersFactory.from_schema_casters_factory(
        oas30_write_schema_casters_factory
    )


class _BearerTokenProvider(BaseProvider):
    def __call__(self, parameters: Any) -> Any:
        scheme, _, token = str(parameters.header.get("Authorization", "")).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SecurityProviderError("OAuth 2 needs 'Authorization: Bearer <token>'")
        return token


class _SecurityProviders(SecurityProviderFactory):
    PROVIDERS = {**SecurityProviderFactory.PROVIDERS, "oauth2": _BearerTokenProvider}


def security_providers() -> SecurityProviderFactory:
    """The security provider factory for ``openapi_core.Config``: OAuth 2 checked as bearer."""
    return _SecurityProviders()
