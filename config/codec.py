"""Payload encryption at rest (AES-256-GCM PayloadCodec) and the data converter that uses it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from config.settings import Settings

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16


class PayloadDecryptionError(ValueError):
    """An encrypted payload the configured keys cannot decrypt (unknown key id, wrong key)."""


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over the serialized payload, after temporalio/samples-python ``encryption``.

    An encrypted payload is ``{"encoding": "binary/encrypted", "encryption-key-id": <id>}`` with
    data ``nonce (12 bytes) + ciphertext + tag``; no associated data, as in the samples of the
    other SDKs, so their codecs can read it with the same key. The first key encrypts; every key
    decrypts, so a key is rotated by putting the new one first and keeping the old one until no
    open workflow's history needs it.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        super().__init__()
        if not keys:
            raise ValueError("EncryptionCodec needs at least one key")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}
        self._encrypting_key_id = keys[0][0]

    def __repr__(self) -> str:
        return f"EncryptionCodec(key_ids={list(self._ciphers)})"

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) if is_encrypted(p) else p for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        cipher = self._ciphers[self._encrypting_key_id]
        return Payload(
            metadata={
                "encoding": ENCRYPTED_ENCODING,
                KEY_ID_METADATA: self._encrypting_key_id.encode(),
            },
            data=nonce + cipher.encrypt(nonce, payload.SerializeToString(), None),
        )

    def decrypt(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload is encrypted with key id {key_id!r}, which is not in "
                f"PAYLOAD_ENCRYPTION_KEYS (configured key ids: {', '.join(self._ciphers)})"
            )
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadDecryptionError(f"encrypted payload (key id {key_id!r}) is truncated")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except InvalidTag:
            raise PayloadDecryptionError(
                f"payload does not decrypt with key id {key_id!r}: "
                "another key under the same id, or corrupted data"
            ) from None
        return Payload.FromString(plain)


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCRYPTED_ENCODING


def payload_codec(settings: Settings) -> EncryptionCodec | None:
    """The codec for ``PAYLOAD_ENCRYPTION_KEYS``; None when no key is configured."""
    keys = settings.encryption_keys()
    return EncryptionCodec(keys) if keys else None


def data_converter(settings: Settings) -> DataConverter:
    """The converter every client and worker uses: pydantic, plus encryption when keys are set.

    With keys, failure messages and stack traces move into the failure's encoded attributes so
    that they are encrypted too: a marketplace's error text can quote the listing.
    """
    codec = payload_codec(settings)
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
