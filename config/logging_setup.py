"""Logging for every process: one JSON object per line (or plain text), secrets never formatted in.

Lines about a job carry ``job_id``, taken from, in order: an explicit ``extra={"job_id": …}``,
the job an activity works for (``current_job_id``, set by the worker's interceptor from the
activity's input: the listing entity runs the marketplace activities for its jobs), the Temporal
context the SDK's workflow and activity loggers attach (``temporal_workflow`` /
``temporal_activity``; the JobWorkflow's workflow ID is the job ID), the request path of a
uvicorn access line, or ``job_id=<id>`` in the message. Only the record's message, its explicit
extras and its exception are written: never request headers or bodies.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from temporalio import activity, workflow

current_job_id: ContextVar[str | None] = ContextVar("current_job_id", default=None)
"""The job the running activity works for (activities/job_context.py sets it per activity task)."""

LogFormat = Literal["json", "text"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# JobWorkflow's type name: its workflow ID is the job ID (config must not import workflows/).
JOB_WORKFLOW_TYPE = "JobWorkflow"
_TEMPORAL_CONTEXTS = ("temporal_workflow", "temporal_activity")
# What the JSON line keeps of that context; the job ID is written as job_id.
_TEMPORAL_FIELDS = ("workflow_type", "run_id", "workflow_run_id", "activity_type", "attempt")
_MESSAGE_JOB_ID = re.compile(r"\bjob_id=([^\s,;:)]+)")
_PATH_JOB_ID = re.compile(r"^/(?:status|jobs)/([^/?\s]+)|[?&]job_id=([^&\s]+)")
# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Extras written otherwise, objects that are not ours to serialise (Core's ``temporal_log``,
# the SDK's full ``workflow_info`` / ``activity_info``) and uvicorn's ANSI-coloured copy.
_SKIPPED_EXTRAS = frozenset(
    {"job_id", *_TEMPORAL_CONTEXTS, "temporal_log", "workflow_info", "activity_info"}
    | {"color_message"}
)


def parse_log_format(value: str) -> LogFormat:
    """``LOG_FORMAT``: json or text, any case."""
    normalised = value.strip().lower()
    for choice in get_args(LogFormat):
        if normalised == choice:
            return choice  # type: ignore[no-any-return]
    raise ValueError(f"must be one of {', '.join(get_args(LogFormat))}")


def parse_log_level(value: str) -> LogLevel:
    """``LOG_LEVEL``: a standard level name, any case (WARN means WARNING)."""
    normalised = value.strip().upper()
    normalised = "WARNING" if normalised == "WARN" else normalised
    for choice in get_args(LogLevel):
        if normalised == choice:
            return choice  # type: ignore[no-any-return]
    raise ValueError(f"must be one of {', '.join(get_args(LogLevel))}")


def utc_timestamp(created: float) -> str:
    """``2026-11-21T10:09:35.123Z``: UTC, milliseconds, ``Z`` (as in the HTTP API)."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def job_id_of(record: logging.LogRecord) -> str | None:
    """The job a record is about, or None."""
    explicit = getattr(record, "job_id", None)
    if explicit:
        return str(explicit)
    working_for = current_job_id.get()
    if working_for:
        return working_for
    for key in _TEMPORAL_CONTEXTS:
        context = getattr(record, key, None)
        if (
            isinstance(context, Mapping)
            and context.get("workflow_type") == JOB_WORKFLOW_TYPE
            and context.get("workflow_id")
        ):
            return str(context["workflow_id"])
    if record.name == "uvicorn.access":
        # uvicorn's access record: args = (client, method, path with query, http version, status)
        args = record.args if isinstance(record.args, tuple) else ()
        path = str(args[2]) if len(args) > 2 else ""
        found = _PATH_JOB_ID.search(path)
        return (found.group(1) or found.group(2)) if found else None
    found = _MESSAGE_JOB_ID.search(record.getMessage())
    return found.group(1) if found else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, message, job_id, then context."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        job_id = job_id_of(record)
        if job_id:
            line["job_id"] = job_id
        temporal = _temporal_context(record)
        if temporal:
            line["temporal"] = temporal
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES or key in _SKIPPED_EXTRAS or key.startswith("_"):
                continue
            line.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``<ts> <LEVEL> <logger> <message>``, with `` job_id=<id>`` when the message lacks it."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        job_id = job_id_of(record)
        if job_id and f"job_id={job_id}" not in text:
            first, newline, rest = text.partition("\n")
            text = f"{first} job_id={job_id}{newline}{rest}"
        return text


def _temporal_context(record: logging.LogRecord) -> dict[str, Any]:
    for key in _TEMPORAL_CONTEXTS:
        context = getattr(record, key, None)
        if isinstance(context, Mapping):
            return {k: context[k] for k in _TEMPORAL_FIELDS if context.get(k) is not None}
    return {}


def configure_logging(level: str | None = None, fmt: str | None = None) -> None:
    """Log every record of the process to stderr, one line each.

    ``level`` and ``fmt`` default to ``LOG_LEVEL`` (INFO) and ``LOG_FORMAT`` (json). This runs
    before the settings are validated, so an unreadable value falls back to the default here
    and then stops the process with the settings' one-line error.
    """
    level = _or_default(parse_log_level, level or os.environ.get("LOG_LEVEL"), "INFO")
    fmt = _or_default(parse_log_format, fmt or os.environ.get("LOG_FORMAT"), "json")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own loggers (started with log_config=None) reach the root handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # httpx logs every request URL at INFO; keep it at WARNING so query strings stay out of logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The SDK appends its context dict to workflow and activity messages; JSON lines carry it as
    # fields (job_id, temporal) instead.
    workflow.logger.workflow_info_on_message = fmt == "text"
    activity.logger.activity_info_on_message = fmt == "text"


def _or_default(parse: Callable[[str], str], value: str | None, default: str) -> str:
    try:
        return parse(value) if value else default
    except ValueError:
        return default
