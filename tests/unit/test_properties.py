"""Issue 6, item 6 (hostile input): Hypothesis properties of the domain's canonical JSON, input
hash and payment signatures. Pure functions only: no server, a few seconds in all.

- canonical JSON (RFC 8785), ``input_hash`` and ``fingerprint`` do not depend on the order of
  keys at any nesting level, nor on the whitespace or escapes of an equivalent JSON text;
- canonical JSON is injective: it decodes back to the same JSON value, and a changed value
  (one leaf, one key) gives another canonical form and another hash;
- a ``v1`` (HMAC-SHA256) or ``v1a`` (Ed25519) signature verifies for its own content, and a
  change of any single byte of the content, of the decoded signature or of the signature text
  makes it fail; a signature for one job_id never verifies for another job_id.
"""

from __future__ import annotations

import base64
import json
import math
import random
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.canonical import canonical_json, fingerprint, input_hash
from domain.signatures import SignatureVerifier, sign_ed25519, sign_hmac, signed_content

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies ------------------------------------------------------------------------------

# st.text() never draws lone surrogates, which cannot be encoded as UTF-8 (the gateway rejects
# them; tests/api/test_hostile_bodies.py sends them).
texts = st.text(max_size=12)
# JCS (I-JSON) numbers: integers within ±(2**53 - 1), finite doubles.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(texts, children, max_size=5),
    max_leaves=25,
)
# Payment confirmations: small objects, one level of nesting at most.
json_objects = st.dictionaries(
    texts, json_scalars | st.dictionaries(texts, json_scalars, max_size=3), max_size=5
)
job_ids = st.text(min_size=1, max_size=40)
hmac_keys = st.binary(min_size=16, max_size=64)
ed25519_seeds = st.binary(min_size=32, max_size=32)


# --- helpers ---------------------------------------------------------------------------------


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same JSON value with the keys of every object, at every level, in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {key: shuffled(value[key], rnd) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, rnd) for item in value]
    return value


def spaced_json(value: Any, rnd: random.Random) -> str:
    """An equivalent JSON text: random whitespace between tokens, random \\u escapes."""

    def ws() -> str:
        return "".join(rnd.choice(" \t\n\r") for _ in range(rnd.randrange(3)))

    def string(text: str) -> str:
        return json.dumps(text, ensure_ascii=rnd.random() < 0.5)

    def encode(item: Any) -> str:
        if isinstance(item, dict):
            members = [ws() + string(k) + ws() + ":" + ws() + encode(v) for k, v in item.items()]
            return "{" + ws() + ",".join(m + ws() for m in members) + "}"
        if isinstance(item, list):
            return "[" + ws() + ",".join(ws() + encode(v) + ws() for v in item) + "]"
        if isinstance(item, str):
            return string(item)
        return json.dumps(item)

    return ws() + encode(value) + ws()


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: booleans are not numbers, 1 == 1.0, -0.0 == 0, order of keys
    does not matter, order of array items does."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON value that can be replaced: the value itself and each child."""
    paths = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += leaf_paths(item, (*path, index))
    return paths


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(value[head], rest, new)
    return copy


def flip_byte(data: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(data)
    changed[position % len(changed)] ^= mask
    return bytes(changed)


def verifier_and_signatures(
    content: bytes, hmac_key: bytes, seed: bytes
) -> tuple[SignatureVerifier, list[str]]:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    verifier = SignatureVerifier(hmac_keys=(hmac_key,), public_keys=(public,))
    return verifier, [sign_hmac(content, hmac_key), sign_ed25519(content, seed)]


# --- canonical JSON and hashes ---------------------------------------------------------------


@PROPERTY
@given(value=json_values, identifier=st.text(min_size=1, max_size=20), rnd=st.randoms())
def test_canonical_form_and_hashes_ignore_key_order_at_every_level(
    value: Any, identifier: str, rnd: random.Random
) -> None:
    """Issue 6: canonical JSON, fingerprint and input_hash are stable under key order."""
    other = shuffled(value, rnd)
    assert canonical_json(other) == canonical_json(value)
    assert fingerprint(other) == fingerprint(value)
    assert input_hash(identifier, other) == input_hash(identifier, value)


@PROPERTY
@given(value=json_values, identifier=st.text(min_size=1, max_size=20), rnd=st.randoms())
def test_equivalent_json_texts_have_one_canonical_form(
    value: Any, identifier: str, rnd: random.Random
) -> None:
    """Issue 6: whitespace, key order and escapes of the submitted text do not change the
    canonical form or the hashes."""
    text = spaced_json(shuffled(value, rnd), rnd)
    parsed = json.loads(text)
    assert canonical_json(parsed) == canonical_json(value)
    assert input_hash(identifier, parsed) == input_hash(identifier, value)
    assert fingerprint(parsed) == fingerprint(value)


@PROPERTY
@given(value=json_values)
def test_canonical_form_decodes_to_the_same_value(value: Any) -> None:
    """Issue 6: the canonical form loses nothing (so distinct values never share it): it is
    UTF-8 JSON that decodes back to an equal value. Decoded as I-JSON, where every number is
    a double: JCS writes the float 6.4e16 as ``64000000000000000``, which Python would read
    as an integer beyond 2**53 (that canonical_json refuses, as the gateway does)."""
    encoded = canonical_json(value)
    decoded = json.loads(encoded.decode("utf-8"), parse_int=float)
    assert json_equal(decoded, value), (value, encoded)
    assert canonical_json(decoded) == encoded


@PROPERTY
@given(value=json_values, data=st.data())
def test_a_changed_value_changes_the_canonical_form_and_the_hashes(
    value: Any, data: st.DataObject
) -> None:
    """Issue 6: distinct data gives distinct canonical forms: replace any one position of a
    value with another JSON value (or rename a key) and the canonical form and both hashes
    change."""
    path = data.draw(st.sampled_from(leaf_paths(value)), label="path")
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if path and isinstance(parent, dict) and data.draw(st.booleans(), label="rename a key"):
        new_key = data.draw(texts.filter(lambda k: k not in parent), label="new key")
        renamed = {new_key if k == path[-1] else k: v for k, v in parent.items()}
        changed = replaced(value, path[:-1], renamed)
    else:
        current = parent[path[-1]] if path else value
        new = data.draw(json_values.filter(lambda v: not json_equal(v, current)), label="new")
        changed = replaced(value, path, new)
    assume(not json_equal(changed, value))
    assert canonical_json(changed) != canonical_json(value)
    assert fingerprint(changed) != fingerprint(value)
    assert input_hash("order-1", changed) != input_hash("order-1", value)


@PROPERTY
@given(value=json_values, first=st.text(max_size=20), second=st.text(max_size=20))
def test_input_hash_depends_on_the_identifier(value: Any, first: str, second: str) -> None:
    """Issue 6: the same data for two purchasers never shares an input hash."""
    assume(first != second)
    assert input_hash(first, value) != input_hash(second, value)


@settings(max_examples=50, deadline=None, database=None)
@given(
    number=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(
            lambda f: math.isnan(f) or math.isinf(f)
        ),
        st.integers(min_value=2**53).map(lambda n: n * (1 if n % 2 else -1)),
    )
)
def test_numbers_jcs_cannot_encode_are_refused_not_rounded(number: float) -> None:
    """Issue 6: NaN, ±Infinity and integers beyond ±2**53 raise ValueError (the gateway
    answers 4xx) rather than hashing some rounded value."""
    for value in (number, {"n": number}, [1, number]):
        try:
            canonical_json(value)
        except ValueError:
            continue
        raise AssertionError(f"{value!r} was canonicalised")


# --- signatures ------------------------------------------------------------------------------


@PROPERTY
@given(job_id=job_ids, data=json_objects, hmac_key=hmac_keys, seed=ed25519_seeds)
def test_a_signature_verifies_for_its_own_content(
    job_id: str, data: dict[str, Any], hmac_key: bytes, seed: bytes
) -> None:
    """Issue 6: v1 (HMAC) and v1a (Ed25519) signatures verify for the content they signed,
    also with the keys of the data in another order."""
    content = signed_content(job_id, data)
    verifier, signatures = verifier_and_signatures(content, hmac_key, seed)
    reordered = signed_content(job_id, shuffled(data, random.Random(len(content))))
    for signature in signatures:
        assert verifier.verify(content, signature)
        assert verifier.verify(reordered, signature)
    assert verifier.verify(content, " ".join(signatures))


@PROPERTY
@given(
    job_id=job_ids,
    data=json_objects,
    hmac_key=hmac_keys,
    seed=ed25519_seeds,
    position=st.integers(min_value=0),
    mask=st.integers(min_value=1, max_value=255),
)
def test_changing_any_byte_of_the_signed_content_fails(
    job_id: str,
    data: dict[str, Any],
    hmac_key: bytes,
    seed: bytes,
    position: int,
    mask: int,
) -> None:
    """Issue 6: change one byte (any position, any bit pattern) of the signed content and
    neither signature verifies."""
    content = signed_content(job_id, data)
    verifier, signatures = verifier_and_signatures(content, hmac_key, seed)
    tampered = flip_byte(content, position, mask)
    for signature in signatures:
        assert not verifier.verify(tampered, signature), (position % len(content), mask)


@PROPERTY
@given(
    job_id=job_ids,
    data=json_objects,
    hmac_key=hmac_keys,
    seed=ed25519_seeds,
    position=st.integers(min_value=0),
    mask=st.integers(min_value=1, max_value=255),
)
def test_changing_any_byte_of_the_decoded_signature_fails(
    job_id: str,
    data: dict[str, Any],
    hmac_key: bytes,
    seed: bytes,
    position: int,
    mask: int,
) -> None:
    """Issue 6: change one byte of the raw HMAC or Ed25519 signature and it no longer
    verifies."""
    content = signed_content(job_id, data)
    verifier, signatures = verifier_and_signatures(content, hmac_key, seed)
    for signature in signatures:
        version, _, encoded = signature.partition(",")
        raw = flip_byte(base64.b64decode(encoded), position, mask)
        header = f"{version},{base64.b64encode(raw).decode('ascii')}"
        assert not verifier.verify(content, header), (signature, header)


BASE64_AND_SEPARATORS = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=, -_\t\x00\xff"
)


def changed_texts(signature: str, positions: list[int], replacements: bytes) -> list[str]:
    """``signature`` with one byte replaced, for every position and replacement given."""
    original = signature.encode("ascii")
    changed = []
    for index in positions:
        for byte in replacements:
            if original[index] != byte:
                text = bytearray(original)
                text[index] = byte
                changed.append(text.decode("latin-1"))
    return changed


@settings(PROPERTY, max_examples=100)
@given(
    job_id=job_ids,
    data=json_objects,
    hmac_key=hmac_keys,
    seed=ed25519_seeds,
    position=st.integers(min_value=0),
)
def test_changing_any_byte_of_the_signature_text_fails(
    job_id: str, data: dict[str, Any], hmac_key: bytes, seed: bytes, position: int
) -> None:
    """Issue 6: replace one byte of the transmitted ``v1,…``/``v1a,…`` text (version, comma,
    base64, padding) with any of the 256 byte values and it fails."""
    content = signed_content(job_id, data)
    verifier, signatures = verifier_and_signatures(content, hmac_key, seed)
    for signature in signatures:
        index = position % len(signature)
        for header in changed_texts(signature, [index], bytes(range(256))):
            assert not verifier.verify(content, header), (signature, header)


def test_only_the_canonical_base64_text_of_a_signature_verifies() -> None:
    """Issue 6, regression: base64 decoding ignored the unused low bits of the last base64
    character, so besides the signature 3 other ``v1`` texts (15 for ``v1a``) verified the
    same content. Every position of both signatures, every base64 character or separator."""
    seed = bytes(range(32))
    content = signed_content("job-1", {"payment_id": "pay_123", "amount": "45.00"})
    verifier, signatures = verifier_and_signatures(content, b"k" * 32, seed)
    for signature in signatures:
        assert verifier.verify(content, signature)
        positions = list(range(len(signature)))
        accepted = [
            header
            for header in changed_texts(signature, positions, BASE64_AND_SEPARATORS)
            if verifier.verify(content, header)
        ]
        assert accepted == [], (signature, accepted)


@PROPERTY
@given(
    job_id=job_ids,
    other=job_ids,
    data=json_objects,
    hmac_key=hmac_keys,
    seed=ed25519_seeds,
    nested=st.booleans(),
)
def test_a_signature_for_one_job_never_verifies_for_another(
    job_id: str,
    other: str,
    data: dict[str, Any],
    hmac_key: bytes,
    seed: bytes,
    nested: bool,
) -> None:
    """Issue 6: a payment signed for one job_id does not confirm another job with the same
    data, including job ids that extend the first one with a dot (``job`` vs ``job.x``)."""
    if nested:
        other = f"{job_id}.{other}"
    assume(other != job_id)
    verifier, signatures = verifier_and_signatures(signed_content(job_id, data), hmac_key, seed)
    for signature in signatures:
        assert not verifier.verify(signed_content(other, data), signature)
