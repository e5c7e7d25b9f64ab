"""The command line itself: arguments, the API address, and errors as messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.app import build_parser, run
from tests.factories import listing_body
from tests.integration.processes import free_port


def test_the_api_address_comes_from_the_flag_else_the_environment_else_localhost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MARKETPLACE_JOBS_API", raising=False)
    assert build_parser().parse_args(["watch", "j"]).api == "http://127.0.0.1:8000"
    monkeypatch.setenv("MARKETPLACE_JOBS_API", "http://jobs.example:9000")
    assert build_parser().parse_args(["watch", "j"]).api == "http://jobs.example:9000"
    assert build_parser().parse_args(["--api", "http://x", "watch", "j"]).api == "http://x"


def test_marketplaces_are_checked_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["submit", "f.csv", "--marketplaces", " eBay, etsy "])
    assert args.marketplaces == ["ebay", "etsy"]

    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["submit", "f.csv", "--marketplaces", "ebay,amazon"])

    assert caught.value.code == 2
    assert "unknown: amazon" in capsys.readouterr().err


def test_a_refused_connection_names_the_url_and_exits_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    code = run(["--api", url, "watch", "4b3f0c2e-8a51-4f0e-9d55-2f1f4f1f9a10"])

    assert code == 3
    assert capsys.readouterr().err == (
        f"error: cannot connect to the API at {url} "
        "(is it running? set --api or MARKETPLACE_JOBS_API)\n"
    )


def test_a_bad_file_is_reported_before_any_request_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listings = tmp_path / "l.csv"
    listings.write_text("sku,title\nS1,T\n")

    code = run(["--api", f"http://127.0.0.1:{free_port()}", "submit", str(listings)])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {listings}: missing column(s): description, price, currency")


def test_submit_pay_checks_the_data_and_signing_key_before_submitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens at the address: exit 2 with these messages proves nothing was sent."""
    monkeypatch.delenv("SIGNING_SECRETS", raising=False)
    monkeypatch.chdir(tmp_path)
    listing = tmp_path / "one.json"
    listing.write_text(json.dumps(listing_body()))
    api = f"http://127.0.0.1:{free_port()}"

    no_key = run(["--api", api, "submit", str(listing), "--pay"])
    no_key_err = capsys.readouterr().err
    bad_data = run(["--api", api, "submit", str(listing), "--pay", "--data", "[1]"])

    assert no_key == 2 and no_key_err.startswith("error: no signing secret")
    assert bad_data == 2 and capsys.readouterr().err == "error: --data must be a JSON object\n"


def test_the_poll_interval_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["watch", "j", "--interval", "2"]).interval == 2.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["watch", "j", "--interval", "0"])
    assert "between 0.1 and 60" in capsys.readouterr().err
