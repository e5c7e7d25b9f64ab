"""JSON and text log lines: shape, UTC timestamps, job_id from every source, exceptions."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

import pytest
from temporalio import activity, workflow

from config.logging_setup import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    job_id_of,
    parse_log_format,
    parse_log_level,
)
from config.settings import ConfigurationError, load_settings

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
JOB_ID = "6f1c2f5e-9c44-4a52-9b1a-0d6c1a3e2b7f"


def record(
    message: str = "hello",
    *args: Any,
    name: str = "api.gateway",
    level: int = logging.INFO,
    extra: dict[str, Any] | None = None,
    exc_info: Any = None,
) -> logging.LogRecord:
    made = logging.getLogger(name).makeRecord(
        name, level, __file__, 1, message, args, exc_info, extra=extra
    )
    return made


def json_line(rec: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(rec)
    assert "\n" not in line, "one record, one line"
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_json_line_has_ts_level_logger_message():
    line = json_line(record("job count=%d", 3, level=logging.WARNING))
    assert ISO_Z.match(line["ts"]), line["ts"]
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "api.gateway",
        "job count=3",
    )
    assert "job_id" not in line, "no job, no job_id"


def test_timestamp_is_utc_with_z():
    rec = record()
    rec.created = 0.5
    assert json_line(rec)["ts"] == "1970-01-01T00:00:00.500Z"


def test_job_id_from_an_explicit_extra():
    assert json_line(record("accepted", extra={"job_id": JOB_ID}))["job_id"] == JOB_ID


def test_job_id_from_the_gateway_message_form():
    line = json_line(record("status query failed job_id=%s: %s; using memo", JOB_ID, "UNAVAILABLE"))
    assert line["job_id"] == JOB_ID


def test_job_id_from_the_temporal_workflow_context():
    """workflow.logger puts ``temporal_workflow`` on the record; the workflow ID is the job ID."""
    context = {"workflow_id": JOB_ID, "workflow_type": "JobWorkflow", "run_id": "r1", "attempt": 1}
    line = json_line(record("x", name="temporalio.workflow", extra={"temporal_workflow": context}))
    assert line["job_id"] == JOB_ID
    assert line["temporal"] == {"workflow_type": "JobWorkflow", "run_id": "r1", "attempt": 1}
    assert "temporal_workflow" not in line


def test_job_id_from_the_temporal_activity_context():
    context = {
        "activity_id": "1",
        "activity_type": "publish_ebay",
        "attempt": 2,
        "namespace": "default",
        "task_queue": "marketplace-ebay",
        "workflow_id": JOB_ID,
        "workflow_run_id": "r1",
        "workflow_type": "JobWorkflow",
    }
    line = json_line(record("x", name="temporalio.activity", extra={"temporal_activity": context}))
    assert line["job_id"] == JOB_ID
    assert line["temporal"]["activity_type"] == "publish_ebay"
    assert line["temporal"]["attempt"] == 2


def test_other_workflow_types_are_not_jobs():
    context = {"workflow_id": "batch-1", "workflow_type": "SomethingElse"}
    line = json_line(record("x", extra={"temporal_workflow": context}))
    assert "job_id" not in line
    assert line["temporal"] == {"workflow_type": "SomethingElse"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/status/{JOB_ID}", JOB_ID),
        (f"/status?job_id={JOB_ID}", JOB_ID),
        (f"/jobs/{JOB_ID}/events", JOB_ID),
        (f"/jobs/{JOB_ID}/retry", JOB_ID),
        ("/start_job", None),
        ("/health", None),
    ],
)
def test_job_id_from_a_uvicorn_access_line(path: str, expected: str | None):
    rec = record(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200, name="uvicorn.access"
    )
    assert job_id_of(rec) == expected


def test_exceptions_are_serialised_in_the_line():
    try:
        raise ValueError("bad value")
    except ValueError:
        rec = record("failed", level=logging.ERROR, exc_info=sys.exc_info(), extra={"job_id": "j"})
    line = json_line(rec)
    assert line["exc_type"] == "ValueError"
    assert "Traceback" in line["exc_info"] and "ValueError: bad value" in line["exc_info"]
    assert line["job_id"] == "j"


def test_extras_are_fields_and_unserialisable_values_become_strings():
    line = json_line(record("x", extra={"sku": "SKU1", "count": 2, "thing": object()}))
    assert line["sku"] == "SKU1" and line["count"] == 2
    assert line["thing"].startswith("<object object")


def test_text_line_has_utc_timestamp_and_job_id():
    context = {"workflow_id": JOB_ID, "workflow_type": "JobWorkflow"}
    text = TextFormatter().format(record("published", extra={"temporal_activity": context}))
    ts, level, logger, rest = text.split(" ", 3)
    assert ISO_Z.match(ts) and level == "INFO" and logger == "api.gateway"
    assert rest == f"published job_id={JOB_ID}"
    plain = TextFormatter().format(record("job started job_id=%s", JOB_ID))
    assert plain.count(JOB_ID) == 1, "not repeated when the message has it"


@pytest.mark.parametrize(("value", "parsed"), [("JSON", "json"), (" text ", "text")])
def test_log_format_values(value: str, parsed: str):
    assert parse_log_format(value) == parsed


@pytest.mark.parametrize(("value", "parsed"), [("info", "INFO"), ("warn", "WARNING")])
def test_log_level_values(value: str, parsed: str):
    assert parse_log_level(value) == parsed


@pytest.mark.parametrize(
    ("variable", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud"), ("METRICS_PORT", "0")]
)
def test_bad_observability_settings_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=f"configuration error: {variable}: "):
        load_settings()


def test_observability_defaults(monkeypatch: pytest.MonkeyPatch):
    for variable in ("LOG_FORMAT", "LOG_LEVEL", "METRICS_HOST", "METRICS_PORT"):
        monkeypatch.delenv(variable, raising=False)
    settings = load_settings()
    assert (settings.log_format, settings.log_level) == ("json", "INFO")
    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", None)
    monkeypatch.setenv("METRICS_PORT", "")
    assert load_settings().metrics_port is None


@pytest.fixture
def restored_logging():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    flags = (workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message)
    yield
    root.handlers[:], level = saved
    root.setLevel(level)
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = flags


@pytest.mark.usefixtures("restored_logging")
def test_configure_logging_reads_format_and_level_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("LOG_FORMAT", "text")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    configure_logging()
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler.formatter, TextFormatter)
    assert logging.getLogger().level == logging.DEBUG
    assert workflow.logger.workflow_info_on_message is True

    monkeypatch.delenv("LOG_FORMAT")
    monkeypatch.setenv("LOG_LEVEL", "not-a-level")  # the settings report it; logging falls back
    configure_logging()
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler.formatter, JsonFormatter)
    assert logging.getLogger().level == logging.INFO
    # JSON lines carry the SDK's context as fields, not appended to the message.
    assert workflow.logger.workflow_info_on_message is False
    assert activity.logger.activity_info_on_message is False
