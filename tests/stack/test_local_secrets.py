"""The local stack's secrets: generated once into .data/, reused, and never over the environment."""

from __future__ import annotations

import stat
from pathlib import Path

from config.settings import Settings
from domain.signatures import decode_signing_secret
from stack.secrets import SecretSource, ensure_local_secrets, make_data_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _by_name(data_dir: Path, environ: dict[str, str]) -> dict[str, object]:
    return {s.variable: s for s in ensure_local_secrets(data_dir, environ)}


def test_first_run_generates_a_contract_format_signing_secret_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    """CONTRACT.md Configuration: `make run` generates SIGNING_SECRETS into .data/."""
    data_dir = make_data_dir(tmp_path / ".data")
    secrets = _by_name(data_dir, {})

    signing = secrets["SIGNING_SECRETS"]
    assert signing.source is SecretSource.GENERATED
    assert signing.value.startswith("whsec_")
    assert len(decode_signing_secret(signing.value)) == 32
    stored = data_dir / "signing_secret"
    assert stored.read_text().strip() == signing.value
    assert _mode(stored) == 0o600
    assert _mode(data_dir) == 0o700


def test_first_run_generates_an_admin_token_into_the_data_dir(tmp_path: Path) -> None:
    """CONTRACT.md Configuration: `make run` generates ADMIN_TOKEN into .data/."""
    data_dir = make_data_dir(tmp_path / ".data")
    token = _by_name(data_dir, {})["ADMIN_TOKEN"]

    assert token.source is SecretSource.GENERATED
    assert len(token.value) >= 32
    assert (data_dir / "admin_token").read_text().strip() == token.value
    assert _mode(data_dir / "admin_token") == 0o600


def test_next_run_reuses_the_stored_secrets(tmp_path: Path) -> None:
    """CONTRACT.md Commands: running `make run` again keeps working with the same secrets."""
    data_dir = make_data_dir(tmp_path / ".data")
    first = _by_name(data_dir, {})
    second = _by_name(data_dir, {})

    for name in ("SIGNING_SECRETS", "ADMIN_TOKEN"):
        assert second[name].value == first[name].value
        assert second[name].source is SecretSource.REUSED


def test_environment_values_win_and_the_stored_files_are_left_alone(tmp_path: Path) -> None:
    """CONTRACT.md Configuration: SIGNING_SECRETS / ADMIN_TOKEN set by the user are used as is."""
    data_dir = make_data_dir(tmp_path / ".data")
    stored = _by_name(data_dir, {})
    environ = {
        "SIGNING_SECRETS": "whsec_" + "A" * 44,
        "ADMIN_TOKEN": "from-env",
        "CALLBACK_SIGNING_SECRET": "whsec_" + "B" * 44,
    }

    secrets = _by_name(data_dir, environ)

    assert secrets["SIGNING_SECRETS"].value == environ["SIGNING_SECRETS"]
    assert secrets["ADMIN_TOKEN"].value == "from-env"
    assert secrets["CALLBACK_SIGNING_SECRET"].value == environ["CALLBACK_SIGNING_SECRET"]
    assert all(s.source is SecretSource.ENVIRONMENT for s in secrets.values())
    assert (data_dir / "admin_token").read_text().strip() == stored["ADMIN_TOKEN"].value


def test_empty_environment_value_counts_as_unset(tmp_path: Path) -> None:
    """An exported but empty ADMIN_TOKEN would disable admin routes; the stack fills it instead."""
    data_dir = make_data_dir(tmp_path / ".data")
    secrets = _by_name(data_dir, {"ADMIN_TOKEN": "", "SIGNING_SECRETS": "  "})

    assert secrets["ADMIN_TOKEN"].source is SecretSource.GENERATED
    assert secrets["SIGNING_SECRETS"].source is SecretSource.GENERATED


def test_generated_secrets_are_accepted_by_the_service_settings(tmp_path: Path) -> None:
    """The values handed to the children must pass the same validation the API applies."""
    data_dir = make_data_dir(tmp_path / ".data")
    secrets = _by_name(data_dir, {})

    settings = Settings(
        signing_secrets=secrets["SIGNING_SECRETS"].value,
        admin_token=secrets["ADMIN_TOKEN"].value,
        callback_signing_secret=secrets["CALLBACK_SIGNING_SECRET"].value,
    )

    assert len(settings.signing_keys()) == 1
    assert settings.admin_token is not None
    assert settings.callback_key() is not None
    assert secrets["CALLBACK_SIGNING_SECRET"].value != secrets["SIGNING_SECRETS"].value
