"""The ``masumi`` SDK (pip, Masumi's own MIP-003 models and input validator), imported without
its side effect: the package's ``__init__`` calls python-dotenv's ``load_dotenv()``, which finds
a ``.env`` in any folder above the venv (this repository's root) and adds it to ``os.environ``
for every later test. The environment is put back as it was."""

from __future__ import annotations

import os

_environment = dict(os.environ)
try:
    from masumi import __version__ as VERSION
    from masumi.helper_functions import create_masumi_input_hash
    from masumi.models import (
        AvailabilityResponse,
        DemoResponse,
        InputSchemaResponse,
        JobStatus,
        ProvideInputRequest,
        ProvideInputResponse,
        StartJobRequest,
        StartJobResponse,
        StatusResponse,
    )
    from masumi.validation import ValidationError, validate_input_data
finally:
    os.environ.clear()
    os.environ.update(_environment)

__all__ = [
    "VERSION",
    "AvailabilityResponse",
    "DemoResponse",
    "InputSchemaResponse",
    "JobStatus",
    "ProvideInputRequest",
    "ProvideInputResponse",
    "StartJobRequest",
    "StartJobResponse",
    "StatusResponse",
    "ValidationError",
    "create_masumi_input_hash",
    "validate_input_data",
]
