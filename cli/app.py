"""The ``marketplace-jobs`` command line: arguments, the commands, errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from cli import API_ENV, DEFAULT_API
from cli.client import ApiClient
from cli.display import listing_lines
from cli.errors import EXIT_INTERRUPTED, EXIT_OK, ApiError, CliError
from cli.inputs import Submission, read_submission
from cli.jobs import add_jobs_command, jobs_command
from cli.payment import check_signing_secret, pay, payment_data
from cli.problems import problem_lines
from cli.sign import DESCRIPTION as SIGN_DESCRIPTION
from cli.sign import add_sign_arguments, sign_command
from cli.submit import send_submission, submit_request, submitted_line
from cli.watch import POLL_INTERVAL, watch
from domain.marketplaces import Marketplace

DESCRIPTION = "Submit listings to Marketplace Jobs, pay for them and watch them publish."
EPILOG = (
    "exit codes: 0 done (completed), 1 failed or cancelled, 2 invalid input or request, "
    "3 API error or unreachable, 130 interrupted"
)


def marketplace_list(value: str) -> list[str]:
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    known = [m.value for m in Marketplace]
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(known)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return names


def poll_interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0.1 <= seconds <= 60:
        raise argparse.ArgumentTypeError("expected seconds between 0.1 and 60")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketplace-jobs", description=DESCRIPTION, epilog=EPILOG
    )
    parser.add_argument(
        "--api",
        default=os.environ.get(API_ENV) or DEFAULT_API,
        help=f"base URL of the API (default: ${API_ENV} or {DEFAULT_API})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    submit = commands.add_parser(
        "submit",
        help="start a job (one listing) or a batch (several) from a JSON or CSV file",
        description="FILE: JSON (a listing, a list of listings, a start_job body or a "
        '{"jobs": [...]} batch body) or CSV (header row: sku,title,description,price,currency,'
        "quantity,condition,images[,brand,size,category]; images separated by | or spaces). "
        "'-' reads standard input.",
    )
    submit.add_argument("file", metavar="FILE")
    submit.add_argument("--marketplaces", type=marketplace_list, help="e.g. ebay,etsy (all jobs)")
    submit.add_argument(
        "--identifier", help="identifier_from_purchaser (a batch's jobs get X-1, X-2, …)"
    )
    submit.add_argument("--idempotency-key", help="same key and file: the same job or batch")
    submit.add_argument("--pay", action="store_true", help="pay right after submitting")
    submit.add_argument("--watch", action="store_true", help="then watch until it settles")
    submit.add_argument("-q", "--quiet", action="store_true", help="print only the ID")
    _add_payment_options(submit)
    _add_watch_options(submit)

    pay_cmd = commands.add_parser(
        "pay", help="sign and send the payment confirmation of a job or batch (batch-… IDs)"
    )
    pay_cmd.add_argument("id", metavar="ID")
    _add_payment_options(pay_cmd)

    watch_cmd = commands.add_parser(
        "watch", help="show a job's or batch's progress until it completes, fails or is cancelled"
    )
    watch_cmd.add_argument("id", metavar="ID")
    _add_watch_options(watch_cmd)

    listing_cmd = commands.add_parser(
        "listing", help="show one SKU's listing on every marketplace (GET /listings/SKU)"
    )
    listing_cmd.add_argument("sku", metavar="SKU")
    add_jobs_command(commands)

    sign_cmd = commands.add_parser(
        "sign",
        help="print a payment confirmation's signature, or a signed webhook curl (sends nothing)",
        description=SIGN_DESCRIPTION,
    )
    add_sign_arguments(sign_cmd)
    return parser


def _add_payment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", help='the payment confirmation, a JSON object (default {"payment_id": "cli-…"})'
    )
    parser.add_argument(
        "--secret",
        help="whsec_… secret (default: first of $SIGNING_SECRETS, else .data/signing_secret)",
    )


def _add_watch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-tty", action="store_true", help="plain lines even in a terminal (no live display)"
    )
    parser.add_argument(
        "--interval", type=poll_interval, default=POLL_INTERVAL, help="seconds between polls (0.5)"
    )


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    submission: Submission | None = None
    try:
        if args.command == "sign":
            return sign_command(args)
        with ApiClient(args.api) as client:
            if args.command == "submit":
                submission = read_submission(args.file)
                return _submit(client, submission, args)
            if args.command == "listing":
                return _listing(client, args.sku)
            if args.command == "jobs":
                return jobs_command(client, args)
            if args.command == "pay":
                return _pay(client, args.id, payment_data(args.data), args)
            return _watch(client, args.id, args)
    except ApiError as err:
        for line in problem_lines(err, submission):
            print(line, file=sys.stderr)
        return err.exit_code
    except CliError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted (what was submitted goes on, on the server)", file=sys.stderr)
        return EXIT_INTERRUPTED


def _submit(client: ApiClient, submission: Submission, args: argparse.Namespace) -> int:
    # A bad --data or a missing signing key is reported before anything is submitted.
    data = payment_data(args.data) if args.pay else {}
    if args.pay:
        check_signing_secret(args.secret)
    request = submit_request(
        submission,
        marketplaces=args.marketplaces,
        identifier=args.identifier,
        idempotency_key=args.idempotency_key,
    )
    submitted = send_submission(client, request)
    print(submitted.id if args.quiet else submitted_line(submitted, submission.source), flush=True)
    if args.pay:
        _pay(client, submitted.id, data, args)
    if args.watch:
        return _watch(client, submitted.id, args)
    return EXIT_OK


def _pay(client: ApiClient, target_id: str, data: dict[str, Any], args: argparse.Namespace) -> int:
    status = pay(client, target_id, data, args.secret)
    if not getattr(args, "quiet", False):
        payment_id = data.get("payment_id")
        reference = f" (payment_id {payment_id})" if payment_id else ""
        print(f"paid {target_id}{reference}: {status}", flush=True)
    return EXIT_OK


def _listing(client: ApiClient, sku: str) -> int:
    if not sku.isascii() or not sku.isalnum():
        raise CliError("SKU must be 1-50 letters and digits")
    for line in listing_lines(client.get(f"/listings/{sku}")):
        print(line)
    return EXIT_OK


def _watch(client: ApiClient, target_id: str, args: argparse.Namespace) -> int:
    interactive = False if args.no_tty else None
    return watch(client, target_id, interval=args.interval, interactive=interactive)
