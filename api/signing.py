"""Sign a payment confirmation from a shell: ``python -m api.signing --job-id J --data '{...}'``.

Prints the value for the ``signature`` field of ``POST /provide_input``. With ``--webhook`` it
prints instead a complete ``curl`` command for ``POST /webhooks/payments`` (Standard Webhooks
headers ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` over the exact body).
The key comes from
``--secret``, else ``SIGNING_SECRETS`` (the first one), else ``.data/signing_secret`` (written by
``make run``). ``--ed25519-key whsk_…`` signs with an Ed25519 private key (``v1a``) instead.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shlex
import sys
import time
from pathlib import Path

from api.signatures import sign_ed25519, sign_hmac
from config.settings import decode_signing_secret
from domain.signed_content import signed_content, webhook_signed_content

DEFAULT_SECRET_FILE = Path(".data/signing_secret")


def resolve_secret(explicit: str | None, secret_file: Path = DEFAULT_SECRET_FILE) -> str:
    if explicit:
        return explicit
    from_env = os.environ.get("SIGNING_SECRETS", "").split()
    if from_env:
        return from_env[0]
    if secret_file.exists():
        return secret_file.read_text().strip()
    raise SystemExit(
        "no signing secret: pass --secret, set SIGNING_SECRETS, or run `make run` once"
    )


def sign(
    subject_id: str, data: object, *, secret: str | None = None, ed25519_key: str | None = None
) -> str:
    content = signed_content(subject_id, data)
    if ed25519_key:
        if not ed25519_key.startswith("whsk_"):
            raise SystemExit("--ed25519-key must start with whsk_")
        return sign_ed25519(content, base64.b64decode(ed25519_key[5:])[:32])
    return sign_hmac(content, decode_signing_secret(resolve_secret(secret)))


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
    if ed25519_key:
        signature = sign_ed25519(content, base64.b64decode(ed25519_key[5:])[:32])
    else:
        signature = sign_hmac(content, decode_signing_secret(resolve_secret(secret)))
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": stamp,
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return headers, body


def webhook_curl(
    url: str, job_id: str, data: dict[str, object], secret: str | None, ed25519_key: str | None
) -> str:
    headers, body = webhook_request(job_id, data, secret=secret, ed25519_key=ed25519_key)
    parts = ["curl", "-s", "-i", "-X", "POST", f"{url.rstrip('/')}/webhooks/payments"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", body.decode("utf-8")]
    return shlex.join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.signing", description=__doc__.split("\n")[0]
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--job-id", help="the job to confirm")
    target.add_argument("--batch-id", help="the batch to confirm")
    parser.add_argument("--data", required=True, help="the confirmation, a JSON object")
    parser.add_argument("--secret", help="a whsec_ secret (default: SIGNING_SECRETS)")
    parser.add_argument("--ed25519-key", help="a whsk_ private key; signs v1a instead of v1")
    parser.add_argument(
        "--webhook", action="store_true", help="print a signed curl for POST /webhooks/payments"
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the API (with --webhook)")
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as err:
        parser.error(f"--data is not JSON: {err}")
    if not isinstance(data, dict):
        parser.error("--data must be a JSON object")
    try:
        if args.webhook:
            if not args.job_id:
                parser.error("--webhook needs --job-id")
            print(webhook_curl(args.url, args.job_id, data, args.secret, args.ed25519_key))
            return 0
        subject = args.job_id or args.batch_id
        print(sign(subject, data, secret=args.secret, ed25519_key=args.ed25519_key))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
