"""Settings: defaults, parsing, and one clear line naming the variable on a bad value."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.durations import parse_duration
from config.settings import ConfigurationError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def test_contract_defaults(monkeypatch: pytest.MonkeyPatch):
    """Seed 004 "Configuration: default values are sensible"."""
    for name in (
        "TEMPORAL_ADDRESS",
        "PAYMENT_TIMEOUT",
        "JOB_MAX_RETRIES",
        "PROVIDE_INPUT_WAIT",
        "API_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.temporal_namespace == "default"
    assert settings.payment_timeout == timedelta(hours=12)
    assert settings.job_max_retries == 3
    assert settings.provide_input_wait == 30
    assert settings.api_port == 8000
    assert (settings.ebay_rate_limit, settings.etsy_rate_limit, settings.vinted_rate_limit) == (
        5,
        10,
        2,
    )
    assert settings.base_url("ebay") == "http://127.0.0.1:8081/ebay/sell/inventory/v1"
    assert settings.worker_enabled is True
    assert settings.admin_token is None
    assert "MASUMI_AGENT_IDENTIFIER" in settings.masumi_agent_identifier, "says it is unset"
    assert settings.masumi_submit_result_after == timedelta(hours=24)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("43200", timedelta(hours=12)),
        ("PT12H", timedelta(hours=12)),
        ("P7D", timedelta(days=7)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("1.5", timedelta(seconds=1.5)),
    ],
)
def test_durations_accept_seconds_and_iso8601(value: str, expected: timedelta):
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["", "P", "PT", "12h", "-5", "0", "P1Y"])
def test_bad_durations_are_rejected(value: str):
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PAYMENT_TIMEOUT", "soon"),
        ("JOB_MAX_RETRIES", "-1"),
        ("EBAY_RATE_LIMIT", "0"),
        ("WORKER_ENABLED", "maybe"),
        ("SIGNING_SECRETS", "not-a-secret"),
        ("SIGNING_SECRETS", "whsec_" + base64.b64encode(b"short").decode()),
        ("SIGNING_PUBLIC_KEYS", "whpk_AAAA"),
        ("API_PORT", "99999"),
        ("SIMULATOR_URL", "ftp://x"),
        ("MASUMI_SUBMIT_RESULT_AFTER", "PT1H"),
        ("MASUMI_UNLOCK_AFTER", "never"),
        ("MASUMI_AGENT_IDENTIFIER", ""),
    ],
)
def test_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith(f"configuration error: {variable}:")
    assert "\n" not in message
    assert value not in message or len(value) < 6, "secrets are not echoed back"


def test_space_separated_secrets_and_keys(monkeypatch: pytest.MonkeyPatch):
    other = "whsec_" + base64.b64encode(b"o" * 24).decode()
    monkeypatch.setenv("SIGNING_SECRETS", f"{GOOD_SECRET}  {other}")
    monkeypatch.setenv("SIGNING_PUBLIC_KEYS", "whpk_" + base64.b64encode(b"p" * 32).decode())
    settings = load_settings()
    assert settings.signing_keys() == [b"k" * 32, b"o" * 24]
    assert settings.public_keys() == [b"p" * 32]
    assert GOOD_SECRET not in repr(settings), "secrets never appear in the settings repr"


def _run(module_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *module_args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_worker_with_a_bad_setting_exits_nonzero_with_one_line():
    result = _run(["worker.py"], {"EBAY_RATE_LIMIT": "fast"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: EBAY_RATE_LIMIT: Input should be a valid number")


def test_worker_disabled_logs_why_and_exits_zero_without_polling():
    """Seed 003 Test C (worker gate defaults): WORKER_ENABLED=false prevents worker start."""
    result = _run(["worker.py"], {"WORKER_ENABLED": "false", "TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert result.returncode == 0, result.stderr
    assert "WORKER_ENABLED=false" in result.stderr
    assert "worker started" not in result.stderr


def test_api_with_a_bad_setting_exits_nonzero_with_one_line():
    result = _run(["-m", "api"], {"PROVIDE_INPUT_WAIT": "forever"})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("configuration error: PROVIDE_INPUT_WAIT:")


def test_retry_settings_parse_durations_and_attempts(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RETRY_WINDOW", "P2D")
    monkeypatch.setenv("VINTED_MAX_ATTEMPTS", "9")
    monkeypatch.setenv("PUBLISH_RETRY_MAXIMUM_INTERVAL", "PT5M")
    settings = load_settings()
    assert settings.retry_window == timedelta(days=2)
    assert settings.max_attempts("vinted") == 9 and settings.max_attempts("ebay") == 6
    assert settings.publish_retry_maximum_interval == timedelta(minutes=5)


def test_worker_task_queues_selects_what_a_worker_polls():
    """Scale-out (issue 7): WORKER_TASK_QUEUES splits the jobs queue from the marketplace
    queues across worker processes; empty means every queue."""
    everything = Settings()
    assert everything.worker_task_queues == []
    assert all(everything.polls(q) for q in ("jobs", "marketplace-ebay", "marketplace-vinted"))

    split = Settings(worker_task_queues="marketplace-ebay, marketplace-etsy marketplace-vinted")
    assert split.worker_task_queues == [
        "marketplace-ebay",
        "marketplace-etsy",
        "marketplace-vinted",
    ]
    assert not split.polls("jobs")
    assert split.polls("marketplace-etsy")


def test_worker_task_queues_rejects_an_unknown_queue_in_one_line():
    result = _run(["worker.py"], {"WORKER_TASK_QUEUES": "jobs marketplace-amazon"})
    assert result.returncode == 2
    assert "WORKER_TASK_QUEUES" in result.stderr
    assert "marketplace-amazon" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("module_args", [["worker.py"], ["-m", "api"]])
def test_a_bad_otel_variable_stops_the_process_with_one_line(module_args: list[str]):
    """Tracing (issue 16): the OTEL_* variables are checked at start like our own settings."""
    result = _run(
        module_args, {"OTEL_TRACES_EXPORTER": "jaeger", "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: OTEL_TRACES_EXPORTER: unknown exporter 'jaeger'")


def test_callback_settings_parse_and_a_bad_secret_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("CALLBACK_RETRY_WINDOW", "PT2H")
    monkeypatch.setenv("CALLBACK_ALLOW_HTTP", "true")
    monkeypatch.setenv("CALLBACK_SIGNING_SECRET", GOOD_SECRET)
    settings = load_settings()
    assert settings.callback_retry_window == timedelta(hours=2)
    assert settings.callback_allow_http and not settings.callback_allow_private
    assert settings.callback_key() is not None
    assert GOOD_SECRET not in repr(settings)
    monkeypatch.setenv("CALLBACK_SIGNING_SECRET", "not-a-secret")
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert str(err.value).startswith("configuration error: CALLBACK_SIGNING_SECRET:")
    assert "not-a-secret" not in str(err.value)


def test_input_timeout_defaults_to_a_day_and_every_job_carries_it(monkeypatch: pytest.MonkeyPatch):
    """Issue 15 part 3: INPUT_TIMEOUT, how long a job waits in awaiting_input; the gateway puts
    it in each job's input when the job starts (workflow code cannot read the environment)."""
    from api.schemas import StartJobRequest
    from api.services.jobs import build_job_input
    from tests.factories import start_job_body

    monkeypatch.delenv("INPUT_TIMEOUT", raising=False)
    assert load_settings().input_timeout == timedelta(hours=24)
    monkeypatch.setenv("INPUT_TIMEOUT", "PT2H")
    settings = load_settings()
    request = StartJobRequest.model_validate(start_job_body())
    job = build_job_input(request, settings, job_id="j1", now=datetime.now(UTC))
    assert job.input_timeout == timedelta(hours=2)
    monkeypatch.setenv("INPUT_TIMEOUT", "0")
    with pytest.raises(ConfigurationError, match="INPUT_TIMEOUT"):
        load_settings()
