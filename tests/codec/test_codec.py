"""EncryptionCodec (AES-256-GCM) and PAYLOAD_ENCRYPTION_KEYS / CODEC_CORS_ORIGINS settings."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from config.codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadDecryptionError,
    data_converter,
)
from config.settings import ConfigurationError, Settings, load_settings
from domain.listing import Listing
from tests.codec.keys import key_entry, new_key
from tests.factories import listing_body

MARKER = "plaintext-marker-4f1c"


def _plain(text: str = MARKER) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_round_trip_restores_the_payload_exactly():
    codec = EncryptionCodec([("k1", new_key())])
    originals = [_plain(), Payload(metadata={"encoding": b"binary/null"}), _plain("é" * 500)]
    encoded = await codec.encode(originals)
    assert await codec.decode(encoded) == originals


async def test_encrypted_payload_has_the_metadata_and_no_plaintext():
    codec = EncryptionCodec([("k1", new_key())])
    (encrypted,) = await codec.encode([_plain()])
    assert dict(encrypted.metadata) == {"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: b"k1"}
    assert MARKER.encode() not in encrypted.SerializeToString()
    assert b"json/plain" not in encrypted.data, "the original metadata is encrypted too"
    # nonce (12) + serialized payload + GCM tag (16)
    assert len(encrypted.data) == 12 + len(_plain().SerializeToString()) + 16


async def test_same_payload_encrypts_differently_each_time():
    codec = EncryptionCodec([("k1", new_key())])
    first, second = await codec.encode([_plain(), _plain()])
    assert first.data[:12] != second.data[:12], "a fresh nonce per payload"
    assert first.data != second.data


async def test_rotation_old_key_still_decrypts_when_listed_second():
    old, new = new_key(), new_key()
    before = EncryptionCodec([("2025", old)])
    (encrypted_with_old,) = await before.encode([_plain()])

    after = EncryptionCodec([("2026", new), ("2025", old)])
    assert await after.decode([encrypted_with_old]) == [_plain()]
    (encrypted_now,) = await after.encode([_plain()])
    assert encrypted_now.metadata[KEY_ID_METADATA] == b"2026", "the first key encrypts"


async def test_unknown_key_id_is_a_clear_error():
    (encrypted,) = await EncryptionCodec([("retired", new_key())]).encode([_plain()])
    with pytest.raises(PayloadDecryptionError) as err:
        await EncryptionCodec([("k1", new_key()), ("k2", new_key())]).decode([encrypted])
    assert "'retired'" in str(err.value)
    assert "PAYLOAD_ENCRYPTION_KEYS" in str(err.value)
    assert "k1, k2" in str(err.value)


async def test_same_id_with_another_key_fails_authentication():
    (encrypted,) = await EncryptionCodec([("k1", new_key())]).encode([_plain()])
    with pytest.raises(PayloadDecryptionError, match="does not decrypt with key id 'k1'"):
        await EncryptionCodec([("k1", new_key())]).decode([encrypted])


async def test_tampered_ciphertext_is_rejected():
    codec = EncryptionCodec([("k1", new_key())])
    (encrypted,) = await codec.encode([_plain()])
    flipped = bytearray(encrypted.data)
    flipped[20] ^= 0x01
    tampered = Payload(metadata=encrypted.metadata, data=bytes(flipped))
    with pytest.raises(PayloadDecryptionError):
        await codec.decode([tampered])
    truncated = Payload(metadata=encrypted.metadata, data=encrypted.data[:20])
    with pytest.raises(PayloadDecryptionError, match="truncated"):
        await codec.decode([truncated])


async def test_payloads_that_are_not_encrypted_pass_through_decode():
    codec = EncryptionCodec([("k1", new_key())])
    (encrypted,) = await codec.encode([_plain("a")])
    mixed = [_plain("b"), encrypted, Payload(metadata={"encoding": b"binary/plain"}, data=b"x")]
    decoded = await codec.decode(mixed)
    assert decoded == [_plain("b"), _plain("a"), mixed[2]]


def test_codec_repr_shows_key_ids_only():
    key = new_key()
    codec = EncryptionCodec([("k1", key)])
    assert repr(codec) == "EncryptionCodec(key_ids=['k1'])"
    assert key.hex() not in repr(codec) and base64.b64encode(key).decode() not in repr(codec)


# -- data_converter(settings) --------------------------------------------------------------


def test_no_keys_means_the_plain_pydantic_converter():
    assert data_converter(Settings(payload_encryption_keys="")) is pydantic_data_converter
    assert data_converter(Settings(payload_encryption_keys="   ")) is pydantic_data_converter


async def test_converter_with_keys_encrypts_pydantic_models_and_failures():
    settings = Settings(payload_encryption_keys=key_entry("k1", new_key()))
    converter = data_converter(settings)
    assert isinstance(converter.payload_codec, EncryptionCodec)
    listing = Listing.model_validate(listing_body(title=MARKER))
    (payload,) = await converter.encode([listing])
    assert payload.metadata["encoding"] == ENCRYPTED_ENCODING
    assert MARKER.encode() not in payload.SerializeToString()
    assert await converter.decode([payload], [Listing]) == [listing]

    failure = Failure()
    await converter.encode_failure(ApplicationError(f"rejected: {MARKER}"), failure)
    assert MARKER.encode() not in failure.SerializeToString(), "failure messages are encrypted"
    decoded = await converter.decode_failure(failure)
    assert MARKER in str(decoded)


# -- settings ------------------------------------------------------------------------------


def test_keys_parse_in_order_and_stay_secret(monkeypatch: pytest.MonkeyPatch):
    first, second = new_key(), new_key()
    value = f"{key_entry('2026-q1', first)}   {key_entry('2025_q4', second)}"
    monkeypatch.setenv("PAYLOAD_ENCRYPTION_KEYS", value)
    settings = load_settings()
    assert settings.encryption_keys() == [("2026-q1", first), ("2025_q4", second)]
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert base64.b64encode(first).decode() not in text
        assert "2026-q1" not in text, "the whole entry is a secret"


def _b64(size: int) -> str:
    return base64.b64encode(b"\x42" * size).decode()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (_b64(32), "must be <key_id>:<base64 of 32 bytes>"),
        (f":{_b64(32)}", "key id"),
        (f"bad!id:{_b64(32)}", "key id"),
        (f"{'k' * 65}:{_b64(32)}", "key id"),
        ("k1:not*base64*at*all", "not valid base64"),
        (f"k1:{_b64(16)}", "32 bytes, got 16"),
        (f"k1:{_b64(33)}", "32 bytes, got 33"),
        (f"{_b64(32)}:k1", "key id"),
        (f"k1:{_b64(32)} k1:{base64.b64encode(b'o' * 32).decode()}", "entries 1 and 2"),
        (f"k1:{_b64(32)} k2:{_b64(8)}", "entry 2"),
    ],
)
def test_bad_keys_name_the_variable_and_never_echo_key_material(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
):
    monkeypatch.setenv("PAYLOAD_ENCRYPTION_KEYS", value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith("configuration error: PAYLOAD_ENCRYPTION_KEYS: ")
    assert reason in message
    assert "\n" not in message
    for part in value.replace(":", " ").split():
        if len(part) >= 8:
            assert part not in message, "no key material in the message"


def test_cors_origins_default_to_the_local_ui_and_are_validated(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CODEC_CORS_ORIGINS", raising=False)
    assert load_settings().codec_cors_origins == ["http://127.0.0.1:8233", "http://localhost:8233"]
    monkeypatch.setenv("CODEC_CORS_ORIGINS", "https://ui.example.com  http://10.0.0.5:8080")
    assert load_settings().codec_cors_origins == ["https://ui.example.com", "http://10.0.0.5:8080"]
    for bad in ("ui.example.com", "https://ui.example.com/", "https://ui.example.com/x"):
        monkeypatch.setenv("CODEC_CORS_ORIGINS", bad)
        with pytest.raises(ConfigurationError, match=r"^configuration error: CODEC_CORS_ORIGINS:"):
            load_settings()
