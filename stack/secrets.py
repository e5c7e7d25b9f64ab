"""The local stack's signing secret and admin token: from the environment, else kept in .data/."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from domain.signatures import new_signing_secret


class SecretSource(Enum):
    ENVIRONMENT = "environment"
    GENERATED = "generated"
    REUSED = "reused"


@dataclass(frozen=True)
class LocalSecret:
    """One secret the stack hands to its children, and where it came from."""

    variable: str
    value: str
    source: SecretSource
    path: Path

    def describe_source(self) -> str:
        if self.source is SecretSource.ENVIRONMENT:
            return f"from the environment ({self.variable})"
        if self.source is SecretSource.GENERATED:
            return f"generated into {self.path}"
        return f"reused from {self.path}"


def new_admin_token() -> str:
    return secrets.token_urlsafe(32)


def make_data_dir(data_dir: Path) -> Path:
    """``.data/`` holds secrets and the Temporal database, so only its owner may read it."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return data_dir


def _write_private(path: Path, value: str) -> None:
    # Created 0600 from the start: a chmod after writing would leave a window where it is readable.
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.replace(tmp, path)


def ensure_secret(
    variable: str, path: Path, generate: Callable[[], str], environ: Mapping[str, str]
) -> LocalSecret:
    """The environment value if set (it always wins), else the file's, else a new one saved there.

    An empty variable counts as unset, as it does for the settings of the services.
    """
    from_env = environ.get(variable, "").strip()
    if from_env:
        return LocalSecret(variable, from_env, SecretSource.ENVIRONMENT, path)
    if path.is_file():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            path.chmod(0o600)
            return LocalSecret(variable, stored, SecretSource.REUSED, path)
    value = generate()
    _write_private(path, value)
    return LocalSecret(variable, value, SecretSource.GENERATED, path)


def ensure_local_secrets(data_dir: Path, environ: Mapping[str, str]) -> list[LocalSecret]:
    """SIGNING_SECRETS, ADMIN_TOKEN and CALLBACK_SIGNING_SECRET for this run, in that order."""
    return [
        ensure_secret("SIGNING_SECRETS", data_dir / "signing_secret", new_signing_secret, environ),
        ensure_secret("ADMIN_TOKEN", data_dir / "admin_token", new_admin_token, environ),
        ensure_secret(
            "CALLBACK_SIGNING_SECRET",
            data_dir / "callback_signing_secret",
            new_signing_secret,
            environ,
        ),
    ]
