"""Sign a payment confirmation from a shell: ``python -m api.signing --job-id J --data '{...}'``.

Prints the value for the ``signature`` field of ``POST /provide_input``. The key comes from
``--secret``, else ``SIGNING_SECRETS`` (the first one), else ``.data/signing_secret`` (written by
``make run``). ``--ed25519-key whsk_…`` signs with an Ed25519 private key (``v1a``) instead.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

from api.signatures import sign_ed25519, sign_hmac
from config.settings import decode_signing_secret
from domain.signed_content import signed_content

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
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as err:
        parser.error(f"--data is not JSON: {err}")
    if not isinstance(data, dict):
        parser.error("--data must be a JSON object")
    try:
        print(
            sign(
                args.job_id or args.batch_id, data, secret=args.secret, ed25519_key=args.ed25519_key
            )
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
