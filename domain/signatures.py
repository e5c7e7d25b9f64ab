"""The payment signature scheme: what is signed, the key formats, signing and verifying.

The one home of every rule of CONTRACT.md "POST /provide_input", "POST /webhooks/payments" and
Configuration ``SIGNING_SECRETS`` / ``SIGNING_PUBLIC_KEYS``; the key and header formats are
those of the Standard Webhooks specification (https://www.standardwebhooks.com/). Pure: no
settings, no HTTP; the gateway, the settings, the CLI and the local stack all call this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from domain.canonical import canonical_json

# --- what is signed --------------------------------------------------------------------------


def signed_content(subject_id: str, data: Any) -> bytes:
    """Bytes signed for ``/provide_input``: ``subject_id + "." + JCS(data)`` in UTF-8.

    ``subject_id`` is a job ID, or a batch ID for ``/batches/{id}/provide_input``; JCS is RFC
    8785 canonical JSON, so key order and whitespace do not matter (CONTRACT.md).
    """
    return subject_id.encode("utf-8") + b"." + canonical_json(data)


def webhook_signed_content(webhook_id: str, timestamp: str, raw_body: bytes) -> bytes:
    """Standard Webhooks: ``{webhook-id}.{webhook-timestamp}.{raw body}`` (body bytes untouched)."""
    return webhook_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + raw_body


# --- key formats -----------------------------------------------------------------------------

SECRET_PREFIX = "whsec_"
PUBLIC_KEY_PREFIX = "whpk_"
PRIVATE_KEY_PREFIX = "whsk_"
SECRET_SIZES = range(24, 65)
"""Standard Webhooks: a symmetric secret is 24 to 64 random bytes (CONTRACT.md: 24-64)."""
NEW_SECRET_BYTES = 32
ED25519_KEY_BYTES = 32


def _decode_prefixed(value: str, prefix: str, sizes: Sequence[int], what: str) -> bytes:
    # The messages never quote the value: it is a secret, and they end up in logs.
    if not value.startswith(prefix):
        raise ValueError(f"{what} must start with {prefix!r}")
    try:
        raw = base64.b64decode(value[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"{what} is not valid base64 after {prefix!r}") from err
    if len(raw) not in sizes:
        expected = (
            f"{sizes[0]}-{sizes[-1]}"
            if isinstance(sizes, range)
            else " or ".join(str(n) for n in sizes)
        )
        raise ValueError(f"{what} must decode to {expected} bytes, got {len(raw)}")
    return raw


def decode_signing_secret(value: str) -> bytes:
    """``whsec_<base64 of 24-64 bytes>`` -> the HMAC-SHA256 key (Standard Webhooks, CONTRACT.md).

    Raises ``ValueError`` naming the problem (prefix, base64, length), never the value.
    """
    return _decode_prefixed(value, SECRET_PREFIX, SECRET_SIZES, "an HMAC secret")


def decode_public_key(value: str) -> bytes:
    """``whpk_<base64 of 32 bytes>`` -> a raw Ed25519 public key (``SIGNING_PUBLIC_KEYS``).

    Raises ``ValueError`` naming the problem (prefix, base64, length).
    """
    return _decode_prefixed(value, PUBLIC_KEY_PREFIX, (ED25519_KEY_BYTES,), "an Ed25519 public key")


def decode_private_key(value: str) -> bytes:
    """``whsk_<base64 of 32 or 64 bytes>`` -> the 32-byte Ed25519 private key (the seed).

    64 bytes is the libsodium form (seed then public key) that Standard Webhooks libraries
    write; its first 32 bytes are the seed. Raises ``ValueError`` naming the problem.
    """
    raw = _decode_prefixed(
        value,
        PRIVATE_KEY_PREFIX,
        (ED25519_KEY_BYTES, 2 * ED25519_KEY_BYTES),
        "an Ed25519 private key",
    )
    return raw[:ED25519_KEY_BYTES]


def new_signing_secret() -> str:
    """A fresh ``whsec_`` secret of 32 random bytes, valid for ``SIGNING_SECRETS``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(NEW_SECRET_BYTES)).decode("ascii")


def new_ed25519_keypair() -> tuple[str, str]:
    """A fresh ``(whsk_…, whpk_…)`` pair: the private key signs ``v1a``, the public key goes in
    ``SIGNING_PUBLIC_KEYS``."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        PRIVATE_KEY_PREFIX + base64.b64encode(seed).decode("ascii"),
        PUBLIC_KEY_PREFIX + base64.b64encode(public).decode("ascii"),
    )


# --- signing and verifying -------------------------------------------------------------------

MAX_SIGNATURE_ENTRIES = 8
"""More entries than any key rotation needs; bounds the work one request can cause."""


def sign_hmac(content: bytes, key: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, content)>`` (Standard Webhooks symmetric signature)."""
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign_ed25519(content: bytes, private_key: bytes) -> str:
    """``v1a,<base64 Ed25519 signature>`` with a 32-byte private key (Standard Webhooks)."""
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(content)
    return "v1a," + base64.b64encode(signature).decode("ascii")


def join_signature_headers(values: Iterable[str]) -> str:
    """Several ``webhook-signature`` header lines as the one space-separated list they are
    (CONTRACT.md "POST /webhooks/payments"); ``MAX_SIGNATURE_ENTRIES`` applies to the whole."""
    return " ".join(values)


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

    ``header`` is a space-separated list of ``v1,<base64>`` and ``v1a,<base64>`` entries, of
    which the first ``MAX_SIGNATURE_ENTRIES`` are read; an entry whose base64 is not canonical
    is ignored. Every HMAC candidate is compared in constant time; several keys allow rotation
    (CONTRACT.md "POST /provide_input"). Malformed input is simply not valid: never raises.
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
    """The configured keys, decoded once at start-up (raw HMAC keys, raw Ed25519 public keys)."""

    hmac_keys: tuple[bytes, ...]
    public_keys: tuple[bytes, ...]

    @classmethod
    def from_keys(
        cls, hmac_keys: Iterable[bytes], public_keys: Iterable[bytes]
    ) -> SignatureVerifier:
        """From decoded keys, e.g. ``settings.signing_keys()`` and ``settings.public_keys()``."""
        return cls(tuple(hmac_keys), tuple(public_keys))

    def verify(self, content: bytes, header: str) -> bool:
        """``verify_signature`` with these keys."""
        return verify_signature(
            content, header, hmac_keys=self.hmac_keys, public_keys=self.public_keys
        )
