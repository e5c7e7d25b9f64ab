"""Verify and make signatures: ``v1,<base64 HMAC-SHA256>`` and ``v1a,<base64 Ed25519>``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from config.settings import Settings

MAX_SIGNATURE_ENTRIES = 8
"""More entries than any key rotation needs; bounds the work one request can cause."""


def sign_hmac(content: bytes, key: bytes) -> str:
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_ed25519(content: bytes, private_key: bytes) -> str:
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(content)
    return "v1a," + base64.b64encode(signature).decode("ascii")


def _entries(header: str) -> list[tuple[str, bytes]]:
    entries: list[tuple[str, bytes]] = []
    for token in header.split()[:MAX_SIGNATURE_ENTRIES]:
        version, _, encoded = token.partition(",")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        # Only the canonical text: the decoder ignores the unused low bits of the last
        # character, which would let several texts stand for one signature.
        if base64.b64encode(signature).decode("ascii") == encoded:
            entries.append((version, signature))
    return entries


def verify_signature(
    content: bytes,
    header: str,
    *,
    hmac_keys: Sequence[bytes],
    public_keys: Sequence[bytes],
) -> bool:
    """True when any entry of ``header`` verifies ``content`` with any configured key.

    Every HMAC candidate is compared in constant time; several keys allow rotation.
    """
    valid = False
    for version, signature in _entries(header):
        if version == "v1":
            for key in hmac_keys:
                expected = hmac.new(key, content, hashlib.sha256).digest()
                # No early exit: the time taken does not depend on which key matched.
                valid |= hmac.compare_digest(expected, signature)
        elif version == "v1a" and len(signature) == 64:
            for public_key in public_keys:
                try:
                    Ed25519PublicKey.from_public_bytes(public_key).verify(signature, content)
                    valid = True
                except (InvalidSignature, ValueError):
                    pass
    return valid


@dataclass(frozen=True)
class SignatureVerifier:
    """The configured keys, decoded once at start-up."""

    hmac_keys: tuple[bytes, ...]
    public_keys: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> SignatureVerifier:
        return cls(tuple(settings.signing_keys()), tuple(settings.public_keys()))

    def verify(self, content: bytes, header: str) -> bool:
        return verify_signature(
            content, header, hmac_keys=self.hmac_keys, public_keys=self.public_keys
        )
