"""``marketplace-jobs sign``: sign a payment confirmation from a shell (``v1`` or ``v1a``).

Prints the value for the ``signature`` field of ``POST /provide_input`` (or of a batch's
``provide_input`` with ``--batch-id``). With ``--webhook`` it prints instead a complete ``curl``
command for ``POST /webhooks/payments`` (Standard Webhooks headers ``webhook-id``,
``webhook-timestamp``, ``webhook-signature`` over the exact body). The key comes from
``--secret``, else ``SIGNING_SECRETS`` (the first one), else ``.data/signing_secret`` (written by
``make run``). ``--ed25519-key whsk_…`` signs with an Ed25519 private key (``v1a``) instead.
Also installed as ``marketplace-jobs-sign``, the command's former name.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from cli import DEFAULT_API
from cli.errors import EXIT_OK, CliError
from domain.signatures import (
    decode_private_key,
    decode_signing_secret,
    sign_ed25519,
    sign_hmac,
    signed_content,
    webhook_signed_content,
)

DESCRIPTION = "Sign a payment confirmation: the signature for provide_input, or a webhook curl."
DEFAULT_SECRET_FILE = Path(".data/signing_secret")


def resolve_secret(explicit: str | None, secret_file: Path = DEFAULT_SECRET_FILE) -> str:
    """``--secret``, else the first of ``SIGNING_SECRETS``, else ``.data/signing_secret``."""
    if explicit:
        return explicit
    from_env = os.environ.get("SIGNING_SECRETS", "").split()
    if from_env:
        return from_env[0]
    if secret_file.exists():
        return secret_file.read_text().strip()
    raise CliError("no signing secret: pass --secret, set SIGNING_SECRETS, or run `make run` once")


def _signature(content: bytes, secret: str | None, ed25519_key: str | None) -> str:
    """Raises ``ValueError`` for a malformed key, ``CliError`` when there is none."""
    if ed25519_key:
        return sign_ed25519(content, decode_private_key(ed25519_key))
    return sign_hmac(content, decode_signing_secret(resolve_secret(secret)))


def sign(
    subject_id: str, data: object, *, secret: str | None = None, ed25519_key: str | None = None
) -> str:
    """The ``signature`` of ``data`` for a job or batch ID, exactly as the API verifies it."""
    return _signature(signed_content(subject_id, data), secret, ed25519_key)


def webhook_request(
    job_id: str,
    data: dict[str, object],
    *,
    secret: str | None = None,
    ed25519_key: str | None = None,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a signed ``payment.confirmed`` Standard Webhooks delivery."""
    body = json.dumps(
        {"type": "payment.confirmed", "data": {**data, "job_id": job_id}}, separators=(",", ":")
    ).encode("utf-8")
    message_id = webhook_id or f"msg_{secrets.token_hex(12)}"
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    content = webhook_signed_content(message_id, stamp, body)
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": stamp,
        "webhook-signature": _signature(content, secret, ed25519_key),
        "content-type": "application/json",
    }
    return headers, body


def webhook_curl(
    url: str, job_id: str, data: dict[str, object], secret: str | None, ed25519_key: str | None
) -> str:
    """A ``curl`` command line (shell-quoted) that delivers ``webhook_request`` to ``url``."""
    headers, body = webhook_request(job_id, data, secret=secret, ed25519_key=ed25519_key)
    parts = ["curl", "-s", "-i", "-X", "POST", f"{url.rstrip('/')}/webhooks/payments"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body.decode("utf-8")]
    return shlex.join(parts)


def json_object(value: str) -> dict[str, Any]:
    """``--data``: a JSON object, else a usage error."""
    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {err}") from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return data


def add_sign_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``marketplace-jobs sign`` and of the ``marketplace-jobs-sign`` alias."""
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--job-id", help="the job to confirm")
    target.add_argument("--batch-id", help="the batch to confirm")
    parser.add_argument(
        "--data", required=True, type=json_object, help="the confirmation, a JSON object"
    )
    parser.add_argument("--secret", help="a whsec_ secret (default: SIGNING_SECRETS)")
    parser.add_argument("--ed25519-key", help="a whsk_ private key; signs v1a instead of v1")
    parser.add_argument(
        "--webhook", action="store_true", help="print a signed curl for POST /webhooks/payments"
    )
    parser.add_argument(
        "--url", help=f"the API, with --webhook (default: --api, else {DEFAULT_API})"
    )


def sign_command(args: argparse.Namespace) -> int:
    """Print the signature, or the webhook curl; a missing or bad key raises ``CliError``."""
    if args.webhook and not args.job_id:
        raise CliError("--webhook needs --job-id")
    try:
        if args.webhook:
            url = args.url or getattr(args, "api", None) or DEFAULT_API
            print(webhook_curl(url, args.job_id, args.data, args.secret, args.ed25519_key))
        else:
            subject = args.job_id or args.batch_id
            print(sign(subject, args.data, secret=args.secret, ed25519_key=args.ed25519_key))
    except ValueError as err:  # the key's format; the message never quotes the key
        raise CliError(str(err)) from None
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """The ``marketplace-jobs-sign`` console script: ``marketplace-jobs sign`` by its old name."""
    parser = argparse.ArgumentParser(prog="marketplace-jobs-sign", description=DESCRIPTION)
    add_sign_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return sign_command(args)
    except CliError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
