"""Canonical JSON, the MIP-004 input hash, signed content and signature verification."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from domain.canonical import canonical_json, input_hash
from domain.signatures import (
    sign_ed25519,
    sign_hmac,
    signed_content,
    verify_signature,
    webhook_signed_content,
)

SW_SECRET = base64.b64decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")


def test_rfc8785_sorts_keys_and_normalises_numbers():
    assert canonical_json({"b": 1, "a": [1.0, "x"]}) == b'{"a":[1,"x"],"b":1}'


def test_canonical_json_rejects_integers_beyond_2_53():
    with pytest.raises(ValueError):
        canonical_json({"n": 2**60})


def test_mip004_input_hash_is_sha256_of_identifier_and_jcs():
    data = {"full_name": "Alice Johnson", "design_style": "Modern"}
    # The MIP-004 test vector from reference/api_standards.md (identical under JCS here).
    assert input_hash("resume-job-123", data) == (
        "9c745bbe968e661649a7e91e1edf5c9abeeb1b4d9824e5fb2f96fdba36c652dd"
    )


def test_signed_content_is_job_id_dot_jcs():
    assert signed_content("job-1", {"b": 2, "a": 1}) == b'job-1.{"a":1,"b":2}'


def test_standard_webhooks_test_vector_verifies():
    body = (
        b'{"type":"payment.confirmed","timestamp":"2023-01-19T00:13:51Z",'
        b'"data":{"job_id":"18d66eed-6af5-4589-b53a-d2e78af657b6"}}'
    )
    content = webhook_signed_content("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "1674087231", body)
    assert sign_hmac(content, SW_SECRET) == "v1,P1Nj9Oj5Isp8+wu/OUYjm3jkujUtez0YR+IqKNWaw5U="


def test_hmac_signature_verifies_only_its_own_content():
    content = signed_content("job-1", {"paid": True})
    signature = sign_hmac(content, SW_SECRET)
    assert verify_signature(content, signature, hmac_keys=[SW_SECRET], public_keys=[])
    for other in (
        signed_content("job-2", {"paid": True}),
        signed_content("job-1", {"paid": False}),
        content + b" ",
    ):
        assert not verify_signature(other, signature, hmac_keys=[SW_SECRET], public_keys=[])


def test_any_changed_byte_of_the_signature_fails():
    content = signed_content("job-1", {"paid": True})
    raw = bytearray(base64.b64decode(sign_hmac(content, SW_SECRET)[3:]))
    for index in range(len(raw)):
        tampered = bytearray(raw)
        tampered[index] ^= 0x01
        header = "v1," + base64.b64encode(bytes(tampered)).decode()
        assert not verify_signature(content, header, hmac_keys=[SW_SECRET], public_keys=[])


def test_rotation_accepts_any_configured_key():
    old, new = os.urandom(32), os.urandom(32)
    content = b"job.{}"
    assert verify_signature(content, sign_hmac(content, old), hmac_keys=[new, old], public_keys=[])
    assert not verify_signature(content, sign_hmac(content, old), hmac_keys=[new], public_keys=[])


def test_ed25519_v1a_verifies_with_the_public_key_only():
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    content = signed_content("job-1", {"paid": True})
    signature = sign_ed25519(content, raw)
    assert signature.startswith("v1a,")
    assert verify_signature(content, signature, hmac_keys=[], public_keys=[public])
    assert not verify_signature(b"other", signature, hmac_keys=[], public_keys=[public])
    # A v1a signature is never checked as an HMAC, and vice versa.
    assert not verify_signature(
        content, signature.replace("v1a,", "v1,"), hmac_keys=[public], public_keys=[]
    )


@pytest.mark.parametrize("header", ["", "garbage", "v1,", "v1,!!!", "v1a,AAAA", ",", "v1" * 5000])
def test_malformed_headers_are_simply_invalid(header: str):
    assert not verify_signature(b"x", header, hmac_keys=[SW_SECRET], public_keys=[os.urandom(32)])
