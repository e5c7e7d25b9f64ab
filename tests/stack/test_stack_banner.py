"""The banner `make run` prints: every address, the local secrets, and a walk-through that works."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from domain.signatures import signed_content, verify_signature
from stack.addresses import stack_addresses
from stack.banner import EXAMPLE_PAYMENT, banner, example_commands
from stack.secrets import LocalSecret, SecretSource

CONTRACT_LISTING = {
    "sku": "SKU12345",
    "title": "Vintage denim jacket",
    "description": "Levi's trucker jacket, size M, light wash.",
    "price": {"amount": "45.00", "currency": "EUR"},
    "quantity": 1,
    "condition": "good",
    "images": ["https://example.com/a.jpg"],
}


def _example(api: str = "http://127.0.0.1:8000", sim: str = "http://127.0.0.1:8081") -> str:
    return example_commands(api, sim, ".venv/bin/python", "tok-123")


def _commands(text: str) -> list[list[str]]:
    """Each shell line of the example as words, with continuation lines joined."""
    return [shlex.split(line) for line in text.replace("\\\n", " ").splitlines()]


def test_example_starts_a_job_with_the_contract_listing() -> None:
    """CONTRACT.md POST /start_job: the example body is the contract's listing, valid JSON."""
    start = next(
        words for words in _commands(_example()) if "http://127.0.0.1:8000/start_job" in words
    )
    body = json.loads(start[start.index("-d") + 1])

    assert body == {"input_data": CONTRACT_LISTING, "identifier_from_purchaser": "order-8812"}
    assert "POST" in start
    assert "content-type: application/json" in start


def test_example_signs_the_same_data_it_sends_with_the_signing_helper() -> None:
    """CONTRACT.md POST /provide_input: `marketplace-jobs sign` signs exactly the data sent."""
    text = _example()

    assert f"DATA={shlex.quote(json.dumps(EXAMPLE_PAYMENT))}" in text
    assert 'SIG=$(.venv/bin/marketplace-jobs sign --job-id "$JOB_ID" --data "$DATA")' in text
    provide = next(line for line in text.splitlines() if line.lstrip().startswith('-d "{'))
    assert "$DATA" in provide
    assert "$SIG" in provide
    assert "$JOB_ID" in provide
    assert "http://127.0.0.1:8000/provide_input" in text


def test_example_sign_lines_run_the_cli_installed_next_to_python_and_verify(
    tmp_path: Path,
) -> None:
    """Issue 11: the banner's `SIG=$(…marketplace-jobs sign …)` line, pasted into bash as
    printed (this venv's interpreter), prints a signature the API accepts for that job."""
    key = b"k" * 32
    python = Path(sys.executable)
    text = example_commands("http://127.0.0.1:8000", "http://x", str(python), "tok")
    lines = [line for line in text.splitlines() if line.startswith(("DATA=", "SIG="))]
    script = "\n".join(['JOB_ID="job-banner"', *lines, 'printf %s "$SIG"'])
    env = {**os.environ, "SIGNING_SECRETS": "whsec_" + base64.b64encode(key).decode()}

    result = subprocess.run(
        ["bash", "-e"], input=script, text=True, capture_output=True, env=env, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    content = signed_content("job-banner", EXAMPLE_PAYMENT)
    assert verify_signature(content, result.stdout, hmac_keys=[key], public_keys=[])


def test_example_reads_the_job_id_without_jq() -> None:
    """A fresh machine has the venv's Python but not necessarily jq."""
    text = _example()

    assert "jq" not in text
    assert re.search(r"JOB_ID=\$\(curl .*", text)
    assert '["job_id"]' in text


def test_example_uses_the_addresses_it_is_given() -> None:
    """API_PORT / SIMULATOR_URL moved: the walk-through must follow them."""
    text = _example(api="http://127.0.0.1:9000", sim="http://127.0.0.1:9081")

    assert "http://127.0.0.1:9000/status/$JOB_ID" in text
    assert "http://127.0.0.1:9081/__sim/listings" in text
    assert ":8000" not in text
    assert ":8081" not in text
    assert "Authorization: Bearer tok-123" in text


def test_example_is_valid_bash() -> None:
    """The text is pasted into a shell: it must at least parse."""
    result = subprocess.run(["bash", "-n"], input=_example(), text=True, capture_output=True)

    assert result.returncode == 0, result.stderr


def test_banner_shows_every_address_and_the_local_secrets() -> None:
    """CONTRACT.md Commands: `make run` prints where each part listens and the generated secrets."""
    secrets = [
        LocalSecret(
            "SIGNING_SECRETS", "whsec_abc", SecretSource.GENERATED, Path(".data/signing_secret")
        ),
        LocalSecret("ADMIN_TOKEN", "tok-123", SecretSource.REUSED, Path(".data/admin_token")),
    ]
    text = banner(
        stack_addresses({}),
        secrets,
        python=".venv/bin/python",
        temporal_note="dev server, jobs kept in .data/temporal.db across runs",
    )

    for expected in (
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/docs",
        "127.0.0.1:7233",
        "http://127.0.0.1:8233",
        "http://127.0.0.1:8081",
        "whsec_abc",
        "generated into .data/signing_secret",
        "tok-123",
        "reused from .data/admin_token",
        ".data/temporal.db",
        "Ctrl-C",
    ):
        assert expected in text


def test_banner_does_not_promise_a_ui_for_a_server_it_did_not_start() -> None:
    """TEMPORAL_ADDRESS already answered: that server's UI is not ours to announce."""
    secrets = [
        LocalSecret("SIGNING_SECRETS", "whsec_abc", SecretSource.ENVIRONMENT, Path("x")),
        LocalSecret("ADMIN_TOKEN", "tok", SecretSource.ENVIRONMENT, Path("y")),
    ]
    text = banner(
        stack_addresses({}),
        secrets,
        python="python",
        temporal_note="already running there",
        started_temporal=False,
    )

    assert "http://127.0.0.1:8233" not in text
    assert "set it in the shell that signs, too" in text
