"""OpenTelemetry tracing of the API and the worker: off unless the standard ``OTEL_*`` variables
name an exporter (README "Operating it", "Tracing").

On, one trace follows a job: the caller's request (FastAPI instrumentation, ``traceparent``
honoured), the Temporal calls and the workflow, its activities (Temporal's
``TracingInterceptor`` on the client, which the workers built from it inherit) and every
outbound HTTP request (httpx instrumentation: marketplace calls, image downloads, callbacks).

The listing entity applies the changes of many jobs over months, so its own workflow context is
the first job's; each :class:`~domain.listing_entity.Change` therefore carries the trace context
of the job's hand-off (:func:`current_trace_carrier`), and the entity starts that change's
activities under it (:func:`trace_context`), so they join the job's trace, not the first one's.

Which variables: ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``; a list is allowed),
else an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``)
turns ``otlp`` on; ``OTEL_SDK_DISABLED=true`` turns everything off. OTLP is sent over HTTP
(protobuf, port 4318); the exporter reads its own standard variables (endpoint, headers,
timeout, compression), the SDK its sampler (``OTEL_TRACES_SAMPLER``, default parent-based
always-on, so a caller's sampling decision is kept) and ``OTEL_SERVICE_NAME`` /
``OTEL_RESOURCE_ATTRIBUTES``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context, propagate

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from temporalio.contrib.opentelemetry import TracingInterceptor

EXPORTERS = ("otlp", "console", "none")
OTLP_PROTOCOL = "http/protobuf"
NOT_TRACED_ROUTES = "health,ready,metrics"
"""Probes and scrapes: a span each would drown the traces that matter."""
TRACER_NAME = "marketplace-jobs"

_provider: TracerProvider | None = None


class TracingConfigurationError(ValueError):
    """A bad ``OTEL_*`` value; the message names the variable (the process stops with it)."""


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The span exporters the environment asks for; empty when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = environ.get("OTEL_TRACES_EXPORTER", "")
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    if not names:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        names = ["otlp"] if endpoint and endpoint.strip() else []
    for name in names:
        if name not in EXPORTERS:
            raise TracingConfigurationError(
                f"OTEL_TRACES_EXPORTER: unknown exporter {name!r}; known: {', '.join(EXPORTERS)}"
            )
    if "none" in names:
        return []
    if "otlp" in names:
        for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
            protocol = environ.get(variable, "").strip()
            if protocol and protocol != OTLP_PROTOCOL:
                raise TracingConfigurationError(
                    f"{variable}: only {OTLP_PROTOCOL} is supported (got {protocol!r})"
                )
    return names


def configure_tracing(
    service_name: str, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Set up this process's tracing from the environment (None: off, nothing installed).

    Installs the global tracer provider and the httpx instrumentation; :func:`instrument_app`
    and :func:`temporal_interceptors` then use it. Raises TracingConfigurationError.
    """
    global _provider
    environ = os.environ if environ is None else environ
    names = exporter_names(environ)
    if not names:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in names:
        exporter: SpanExporter
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        else:
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporter = ConsoleSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument_httpx(provider)
    _provider = provider
    return provider


def instrument_httpx(provider: TracerProvider) -> None:
    """Client spans for every httpx request of the process (all clients), each a child of the
    current span, with ``traceparent`` sent along."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument(
        tracer_provider=provider, async_request_hook=_hide_callback_url
    )


URL_ATTRIBUTES = ("url.full", "http.url")


async def _hide_callback_url(span: Any, request: Any) -> None:
    """A completion callback's URL is the receiver's, and its path or query often holds the
    receiver's own secret (a token): its span keeps the scheme and host only."""
    if "webhook-id" not in request.headers:
        return
    host = request.headers.get("host") or request.url.host
    hidden = f"{request.url.scheme}://{host}/…"
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, hidden)


def shutdown_tracing() -> None:
    """Export what is still buffered (at process end)."""
    if _provider is not None:
        _provider.shutdown()


def temporal_interceptors(provider: TracerProvider | None = None) -> list[TracingInterceptor]:
    """Temporal's tracing interceptor for a client (and the workers built from it), or none."""
    provider = provider or _provider
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer(TRACER_NAME))]


def instrument_app(app: FastAPI, provider: TracerProvider | None = None) -> None:
    """Server spans for the gateway's requests, children of the caller's ``traceparent``."""
    provider = provider or _provider
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=NOT_TRACED_ROUTES
    )


def current_trace_carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers (``traceparent``…), or None outside a trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextmanager
def trace_context(carrier: Mapping[str, Any] | None) -> Iterator[None]:
    """Run the block in the trace ``carrier`` names (nothing changes when it is None).

    Safe in workflow code: it only sets the context the tracing interceptor reads when it
    creates spans (none on replay), and creates no command.
    """
    if not carrier:
        yield
        return
    token = context.attach(propagate.extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)
