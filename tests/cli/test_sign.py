"""Issue 11: `marketplace-jobs sign` (and its old name `marketplace-jobs-sign`) prints what the
API verifies: the provide_input signature of a job or batch, or a signed webhook curl."""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cli.app import run
from domain.signatures import (
    decode_public_key,
    new_ed25519_keypair,
    signed_content,
    verify_signature,
    webhook_signed_content,
)

KEY = b"s" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()
DATA = {"payment_id": "pay_123", "amount": "45.00", "currency": "EUR"}
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def no_ambient_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SIGNING_SECRETS and no .data/signing_secret unless a test puts one there."""
    monkeypatch.delenv("SIGNING_SECRETS", raising=False)
    monkeypatch.delenv("MARKETPLACE_JOBS_API", raising=False)
    monkeypatch.chdir(tmp_path)


def _sign(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(["sign", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _verifies(content: bytes, signature: str, key: bytes = KEY) -> bool:
    return verify_signature(content, signature, hmac_keys=[key], public_keys=[])


@pytest.mark.parametrize("flag", ["--job-id", "--batch-id"])
def test_sign_prints_the_provide_input_signature_of_a_job_or_batch(
    capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    """CONTRACT.md POST /provide_input and batches: `id + "." + JCS(data)`, v1 HMAC."""
    code, out, err = _sign(capsys, flag, "batch-7", "--data", json.dumps(DATA), "--secret", SECRET)

    assert (code, err) == (0, "")
    signature = out.strip()
    assert signature.startswith("v1,")
    assert _verifies(signed_content("batch-7", DATA), signature)
    assert not _verifies(signed_content("batch-8", DATA), signature)


def test_the_key_is_the_flag_else_signing_secrets_else_the_make_run_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--secret, then the first of SIGNING_SECRETS, then .data/signing_secret (`make run`)."""
    file_key, env_key = b"f" * 32, b"e" * 24
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "signing_secret").write_text(
        "whsec_" + base64.b64encode(file_key).decode() + "\n"
    )
    content = signed_content("job-1", DATA)
    args = ("--job-id", "job-1", "--data", json.dumps(DATA))

    assert _verifies(content, _sign(capsys, *args)[1].strip(), file_key)
    other = "whsec_" + base64.b64encode(b"o" * 32).decode()
    monkeypatch.setenv("SIGNING_SECRETS", f"whsec_{base64.b64encode(env_key).decode()} {other}")
    assert _verifies(content, _sign(capsys, *args)[1].strip(), env_key)
    assert _verifies(content, _sign(capsys, *args, "--secret", SECRET)[1].strip(), KEY)


def test_ed25519_key_signs_v1a_that_the_public_key_verifies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    private, public = new_ed25519_keypair()
    code, out, _ = _sign(capsys, "--job-id", "job-1", "--data", "{}", "--ed25519-key", private)

    assert code == 0 and out.startswith("v1a,")
    assert verify_signature(
        signed_content("job-1", {}),
        out.strip(),
        hmac_keys=[],
        public_keys=[decode_public_key(public)],
    )


def test_webhook_prints_a_curl_whose_signature_verifies_over_its_exact_body(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """CONTRACT.md POST /webhooks/payments: `{webhook-id}.{webhook-timestamp}.{raw body}`."""
    code, out, _ = _sign(
        capsys,
        *("--webhook", "--url", "http://api.example:9000/", "--job-id", "job-1"),
        *("--data", json.dumps(DATA), "--secret", SECRET),
    )

    assert code == 0
    words = shlex.split(out)
    assert words[:6] == [
        "curl",
        "-s",
        "-i",
        "-X",
        "POST",
        "http://api.example:9000/webhooks/payments",
    ]
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    body = words[words.index("--data-binary") + 1].encode()
    assert json.loads(body) == {"type": "payment.confirmed", "data": {**DATA, "job_id": "job-1"}}
    assert headers["content-type"] == "application/json"
    content = webhook_signed_content(headers["webhook-id"], headers["webhook-timestamp"], body)
    assert _verifies(content, headers["webhook-signature"])


def test_webhook_url_defaults_to_the_api_address(capsys: pytest.CaptureFixture[str]) -> None:
    """`marketplace-jobs --api URL sign --webhook` targets that API, like every other command."""
    argv = ["--api", "http://jobs.example", "sign", "--webhook", "--job-id", "j", "--data", "{}"]

    code = run([*argv, "--secret", SECRET])

    assert code == 0
    assert "http://jobs.example/webhooks/payments" in shlex.split(capsys.readouterr().out)


def test_no_key_or_a_bad_one_exits_2_without_echoing_the_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _sign(capsys, "--job-id", "job-1", "--data", "{}")
    assert (code, out) == (2, "")
    assert err.startswith("error: no signing secret")

    code, out, err = _sign(
        capsys, "--job-id", "job-1", "--data", "{}", "--secret", "whsec_tooshort"
    )
    assert (code, out) == (2, "")
    assert "24-64 bytes" in err and "tooshort" not in err

    code, _, err = _sign(capsys, "--job-id", "j", "--data", "{}", "--ed25519-key", "whpk_AAAA")
    assert code == 2 and "must start with 'whsk_'" in err


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--job-id", "j", "--data", "{nope"], "not JSON"),
        (["--job-id", "j", "--data", "[1]"], "must be a JSON object"),
        (["--data", "{}"], "one of the arguments --job-id --batch-id is required"),
        (["--job-id", "j", "--batch-id", "b", "--data", "{}"], "not allowed with"),
    ],
)
def test_bad_flags_are_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["sign", *argv, "--secret", SECRET])
    assert caught.value.code == 2
    assert problem in capsys.readouterr().err


def test_webhook_needs_a_job_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _sign(capsys, "--webhook", "--batch-id", "b", "--data", "{}", "--secret", SECRET)
    assert code == 2 and err == "error: --webhook needs --job-id\n"


@pytest.mark.parametrize(
    "command", [["marketplace-jobs", "sign"], ["marketplace-jobs-sign"]], ids=["sign", "alias"]
)
def test_installed_console_scripts_sign(command: list[str], tmp_path: Path) -> None:
    """pyproject.toml: `marketplace-jobs sign`, and the old `marketplace-jobs-sign` kept as an
    alias, run from .venv/bin as a person would, reading the key from SIGNING_SECRETS."""
    script = BIN / command[0]
    assert script.exists(), f"{script} is not installed (make install)"
    env = {**os.environ, "SIGNING_SECRETS": SECRET}

    result = subprocess.run(
        [str(script), *command[1:], "--job-id", "job-9", "--data", json.dumps(DATA)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert _verifies(signed_content("job-9", DATA), result.stdout.strip())


def test_alias_reports_errors_like_the_subcommand(tmp_path: Path) -> None:
    """No key anywhere: `marketplace-jobs-sign` says so on stderr and exits 2."""
    env = {k: v for k, v in os.environ.items() if k != "SIGNING_SECRETS"}
    result = subprocess.run(
        [str(BIN / "marketplace-jobs-sign"), "--job-id", "j", "--data", "{}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: no signing secret")
