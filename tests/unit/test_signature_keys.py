"""Issue 11: the key formats of domain.signatures (whsec_, whpk_, whsk_), new keys, the header
list, and the module's purity. CONTRACT.md Configuration SIGNING_SECRETS / SIGNING_PUBLIC_KEYS."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable

import pytest

from domain.signatures import (
    MAX_SIGNATURE_ENTRIES,
    SignatureVerifier,
    decode_private_key,
    decode_public_key,
    decode_signing_secret,
    join_signature_headers,
    new_ed25519_keypair,
    new_signing_secret,
    sign_ed25519,
    sign_hmac,
    signed_content,
    verify_signature,
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("size", [24, 32, 64])
def test_signing_secret_of_24_to_64_bytes_decodes_to_its_bytes(size: int) -> None:
    """CONTRACT.md SIGNING_SECRETS: `whsec_<base64 of 24-64 bytes>`, the key is the bytes."""
    raw = bytes(range(size))
    assert decode_signing_secret("whsec_" + _b64(raw)) == raw


def test_public_key_of_32_bytes_decodes_to_its_bytes() -> None:
    """CONTRACT.md SIGNING_PUBLIC_KEYS: `whpk_<base64 of 32 bytes>`."""
    assert decode_public_key("whpk_" + _b64(b"p" * 32)) == b"p" * 32


@pytest.mark.parametrize("size", [32, 64])
def test_private_key_of_32_or_64_bytes_decodes_to_the_32_byte_seed(size: int) -> None:
    """Standard Webhooks libraries write whsk_ as libsodium's 64 bytes (seed, public key)."""
    raw = bytes(range(size))
    assert decode_private_key("whsk_" + _b64(raw)) == raw[:32]


Decoder = Callable[[str], bytes]
BAD_KEYS: list[tuple[Decoder, str, str]] = [
    (decode_signing_secret, "wh_sec" + _b64(b"k" * 32), "must start with 'whsec_'"),
    (decode_signing_secret, "whpk_" + _b64(b"k" * 32), "must start with 'whsec_'"),
    (decode_signing_secret, "whsec_not*base64*at*all", "not valid base64"),
    (decode_signing_secret, "whsec_" + _b64(b"k" * 32)[:-1], "not valid base64"),
    (decode_signing_secret, "whsec_" + _b64(b"k" * 23), "24-64 bytes, got 23"),
    (decode_signing_secret, "whsec_" + _b64(b"k" * 65), "24-64 bytes, got 65"),
    (decode_signing_secret, "whsec_", "24-64 bytes, got 0"),
    (decode_public_key, "whsec_" + _b64(b"p" * 32), "must start with 'whpk_'"),
    (decode_public_key, "whpk_p!" + _b64(b"p" * 30), "not valid base64"),
    (decode_public_key, "whpk_" + _b64(b"p" * 31), "32 bytes, got 31"),
    (decode_public_key, "whpk_" + _b64(b"p" * 33), "32 bytes, got 33"),
    (decode_private_key, "whpk_" + _b64(b"s" * 32), "must start with 'whsk_'"),
    (decode_private_key, "whsk_ " + _b64(b"s" * 32), "not valid base64"),
    (decode_private_key, "whsk_" + _b64(b"s" * 48), "32 or 64 bytes, got 48"),
]


@pytest.mark.parametrize(("decode", "value", "problem"), BAD_KEYS)
def test_a_malformed_key_is_a_value_error_naming_the_problem_not_the_key(
    decode: Decoder, value: str, problem: str
) -> None:
    """The message says what is wrong (prefix, base64, length) and never quotes the key: it
    ends up in a configuration error on stderr and in logs."""
    with pytest.raises(ValueError, match=problem) as caught:
        decode(value)
    message = str(caught.value)
    body = value.split("_", 1)[-1]
    assert len(body) < 6 or body not in message


def test_new_signing_secret_is_a_fresh_32_byte_whsec_secret() -> None:
    """stack/secrets.py writes it to .data/signing_secret for `make run`."""
    first, second = new_signing_secret(), new_signing_secret()
    assert first.startswith("whsec_")
    assert len(decode_signing_secret(first)) == 32
    assert first != second


def test_new_ed25519_keypair_signs_v1a_that_its_public_key_verifies() -> None:
    private, public = new_ed25519_keypair()
    content = signed_content("job-1", {"paid": True})
    signature = sign_ed25519(content, decode_private_key(private))
    assert signature.startswith("v1a,")
    assert verify_signature(
        content, signature, hmac_keys=[], public_keys=[decode_public_key(public)]
    )


def test_several_signature_header_lines_are_one_list() -> None:
    """CONTRACT.md POST /webhooks/payments: several `webhook-signature` lines are one list."""
    key = b"k" * 32
    content = b"msg_1.1674087231.{}"
    lines = ["v1,d3Jvbmc=", sign_hmac(content, key)]
    header = join_signature_headers(lines)
    assert header == f"v1,d3Jvbmc= {lines[1]}"
    assert SignatureVerifier.from_keys([key], []).verify(content, header)


def test_joined_headers_still_read_at_most_max_signature_entries() -> None:
    """The entry bound applies to the joined list, not to each header line."""
    key = b"k" * 32
    content = b"x"
    junk = ["v1,d3Jvbmc="] * MAX_SIGNATURE_ENTRIES
    assert not verify_signature(
        content,
        join_signature_headers([*junk, sign_hmac(content, key)]),
        hmac_keys=[key],
        public_keys=[],
    )


def test_verifier_from_keys_holds_tuples_of_the_given_keys() -> None:
    verifier = SignatureVerifier.from_keys([b"a" * 32, b"b" * 24], iter([b"p" * 32]))
    assert verifier == SignatureVerifier((b"a" * 32, b"b" * 24), (b"p" * 32,))


def test_the_signature_module_imports_neither_settings_nor_fastapi() -> None:
    """domain/ is pure: the CLI signs without loading the settings or the web framework."""
    probe = (
        "import sys, domain.signatures; "
        "print(sorted(m for m in ('config.settings', 'fastapi', 'api') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
