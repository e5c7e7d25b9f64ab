"""Throwaway AES-256 keys in the PAYLOAD_ENCRYPTION_KEYS format."""

from __future__ import annotations

import base64
import os


def new_key() -> bytes:
    return os.urandom(32)


def key_entry(key_id: str, key: bytes) -> str:
    """One ``<key_id>:<base64 of 32 bytes>`` entry."""
    return f"{key_id}:{base64.b64encode(key).decode()}"
