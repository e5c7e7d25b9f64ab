"""Payload encryption at rest (AES-256-GCM PayloadCodec) and the data converter that uses it."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from config.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    """The converter every client and worker uses: pydantic, plus encryption when keys are set.

    (Stub: encryption is added by the payload-encryption work.)
    """
    return pydantic_data_converter
