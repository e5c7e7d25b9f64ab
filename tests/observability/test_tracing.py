"""Tracing (issue 16, part 4): one trace per job, from the caller's request (``traceparent``)
through the workflow, its activities and every marketplace request, into an in-memory exporter.

A dev server of its own: the session's worker (untraced) must not pick up these tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from activities.registry import create_http_client, marketplace_activities
from api.app import create_app
from config.settings import Settings
from config.tracing import (
    TracingConfigurationError,
    exporter_names,
    instrument_app,
    instrument_httpx,
    temporal_interceptors,
)
from tests.api.helpers import PAYMENT
from tests.factories import listing_body, start_job_body
from tests.support.callback_receiver import CALLBACK_SECRET, callback_receiver
from tests.support.simulator import simulator_url  # noqa: F401 - fixture
from tests.temporal_binaries import start_dev_env
from worker import build_workers, run_workers

SECRET = "whsec_" + "QUJD" * 8
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


# -- which exporter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, []),
        (
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            ["otlp"],
        ),
    ],
)
def test_tracing_is_off_unless_the_otel_variables_name_an_exporter(
    environ: dict[str, str], names: list[str]
):
    assert exporter_names(environ) == names


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
    ],
)
def test_a_bad_otel_value_names_its_variable(environ: dict[str, str], variable: str):
    with pytest.raises(TracingConfigurationError, match=variable):
        exporter_names(environ)


# -- one trace per job -----------------------------------------------------------------------


@dataclass
class Traced:
    api: httpx.AsyncClient
    spans: InMemorySpanExporter
    simulator_url: str


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument_httpx(provider)
    try:
        yield provider, exporter
    finally:
        HTTPXClientInstrumentor().uninstrument()


@pytest.fixture(scope="module")
async def traced(
    provider: tuple[TracerProvider, InMemorySpanExporter],
    simulator_url: str,  # noqa: F811
) -> AsyncIterator[Traced]:
    """The gateway and a worker on a traced client, as the processes build them when
    OTEL_* turns tracing on (config/tracing.py), with an in-memory exporter."""
    tracer_provider, exporter = provider
    env = await start_dev_env()
    client = Client(
        **{**env.client.config(), "interceptors": temporal_interceptors(tracer_provider)}
    )
    settings = Settings(
        simulator_url=simulator_url,
        ebay_oauth_url=f"{simulator_url}/ebay/identity/v1/oauth2/token",
        signing_secrets=SECRET,
        ebay_rate_limit=1000,
        etsy_rate_limit=1000,
        vinted_rate_limit=1000,
        callback_signing_secret=CALLBACK_SECRET,
        callback_allow_http=True,
        callback_allow_private=True,
    )
    app = create_app(client=client, settings=settings)
    instrument_app(app, tracer_provider)
    try:
        async with create_http_client(settings) as http:
            workers = build_workers(client, settings, marketplace_activities(settings, http))
            stop = asyncio.Event()
            task = asyncio.create_task(run_workers(workers, stop))
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
                    yield Traced(api, exporter, simulator_url)
            stop.set()
            await task
    finally:
        await env.shutdown()


def _sign(job_id: str) -> str:
    from domain.signatures import decode_signing_secret, sign_hmac, signed_content

    return sign_hmac(signed_content(job_id, PAYMENT), decode_signing_secret(SECRET))


async def _run_job(
    traced: Traced, body: dict[str, Any], trace_id: str, parent: str = CALLER_SPAN
) -> dict[str, Any]:
    header = {"traceparent": f"00-{trace_id}-{parent}-01"}
    started = await traced.api.post("/start_job", json=body, headers=header)
    assert started.status_code == 201, started.text
    job_id = started.json()["job_id"]
    signature = _sign(job_id)
    paid = await traced.api.post(
        "/provide_input",
        json={"job_id": job_id, "data": PAYMENT, "signature": signature},
        headers={"Prefer": "wait=30"},
    )
    assert paid.status_code == 200 and paid.json()["status"] == "completed", paid.text
    for _ in range(100):
        view: dict[str, Any] = (await traced.api.get(f"/status/{job_id}")).json()
        if view["callback"] is None or view["callback"]["status"] != "pending":
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(view)


def _in_trace(spans: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    wanted = int(trace_id, 16)
    return [s for s in spans.get_finished_spans() if s.context.trace_id == wanted]


def _names(spans: list[ReadableSpan]) -> list[str]:
    return [s.name for s in spans]


async def test_one_trace_joins_the_request_the_workflow_its_activities_and_each_marketplace_call(
    traced: Traced,
):
    """Issue 16 "done when": one trace per job with the spans named in the issue. The
    caller's traceparent is the parent of the gateway's server span."""
    with callback_receiver([200]) as receiver:
        body = start_job_body(marketplaces=["ebay", "etsy", "vinted"], callback_url=receiver.url)
        await _run_job(traced, body, CALLER_TRACE)
    spans = _in_trace(traced.spans, CALLER_TRACE)
    names = _names(spans)
    server = next(s for s in spans if s.name == "POST /start_job")
    assert server.parent is not None and server.parent.span_id == int(CALLER_SPAN, 16)
    for expected in (
        "StartWorkflow:JobWorkflow",
        "RunWorkflow:JobWorkflow",
        "StartActivity:hand_change_to_listing",
        "RunActivity:hand_change_to_listing",
        "SignalWithStartWorkflow:ListingWorkflow",
        "RunActivity:publish_to_ebay",
        "RunActivity:publish_to_etsy",
        "RunActivity:publish_to_vinted",
        "RunActivity:deliver_callback",
        "CompleteWorkflow:JobWorkflow",
    ):
        assert expected in names, (expected, sorted(set(names)))
    marketplace_calls = [s for s in spans if _url(s).startswith(traced.simulator_url)]
    prefixes = {_url(s).removeprefix(traced.simulator_url).split("/")[1] for s in marketplace_calls}
    assert prefixes >= {"ebay", "etsy", "vinted"}, sorted(_url(s) for s in marketplace_calls)
    assert all(s.kind.name == "CLIENT" for s in marketplace_calls)
    (callback_post,) = [
        s for s in spans if _url(s).startswith("http://127.0.0.1:") and "…" in _url(s)
    ]
    assert "t0k3n" not in _url(callback_post) and "/hooks" not in _url(callback_post)
    assert receiver.received[0].headers["traceparent"].split("-")[1] == CALLER_TRACE
    # Every span of the job's activities is in this one trace: nothing of it went elsewhere.
    ids = {s.context.trace_id for s in traced.spans.get_finished_spans() if _job_span(s, body)}
    assert ids == {int(CALLER_TRACE, 16)}
    assert callback_post.kind.name == "CLIENT"


async def test_a_later_job_on_the_same_listing_has_its_own_trace(traced: Traced):
    """The listing entity lives across jobs: the second job's marketplace activities and
    requests join the second job's trace, not the first one's (the entity's own)."""
    sku = listing_body()["sku"]
    first, second = "1" * 32, "2" * 32
    await _run_job(traced, start_job_body(input_data=listing_body(sku=sku)), first)
    revised = listing_body(sku=sku, title="Revised denim jacket")
    await _run_job(traced, start_job_body(input_data=revised), second)
    for trace_id in (first, second):
        names = _names(_in_trace(traced.spans, trace_id))
        for marketplace in ("ebay", "etsy", "vinted"):
            assert names.count(f"RunActivity:publish_to_{marketplace}") == 1, (trace_id, names)
        calls = [s for s in _in_trace(traced.spans, trace_id) if _url(s)]
        prefixes = {_url(s).removeprefix(traced.simulator_url).split("/")[1] for s in calls}
        assert prefixes >= {"ebay", "etsy", "vinted"}, (trace_id, prefixes)


def _url(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def _job_span(span: ReadableSpan, body: dict[str, Any]) -> bool:
    attributes = span.attributes or {}
    return span.name.startswith("RunActivity:") and str(
        attributes.get("temporalWorkflowID", "")
    ).endswith(body["input_data"]["sku"])
