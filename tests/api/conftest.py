"""API tests: the real app over ASGITransport, a real dev server and a real worker."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.registry import create_http_client, marketplace_activities
from api.app import create_app
from config.settings import Settings
from domain.signatures import sign_ed25519, sign_hmac, signed_content
from tests.support.callback_receiver import CALLBACK_SECRET
from tests.support.simulator import sim, simulator_url  # noqa: F401 - fixtures
from worker import build_workers, run_workers

ADMIN_TOKEN = "admin-" + base64.urlsafe_b64encode(os.urandom(24)).decode()


@dataclass
class Keys:
    hmac_secrets: list[str]
    ed25519_private: bytes
    ed25519_public: str

    def hmac_key(self, index: int = 0) -> bytes:
        return base64.b64decode(self.hmac_secrets[index].removeprefix("whsec_"))

    def sign(self, job_id: str, data: dict[str, object], index: int = 0) -> str:
        return sign_hmac(signed_content(job_id, data), self.hmac_key(index))

    def sign_ed25519(self, job_id: str, data: dict[str, object]) -> str:
        return sign_ed25519(signed_content(job_id, data), self.ed25519_private)


@pytest.fixture(scope="session")
def keys() -> Keys:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Keys(
        hmac_secrets=[
            "whsec_" + base64.b64encode(os.urandom(32)).decode(),
            "whsec_" + base64.b64encode(os.urandom(24)).decode(),
        ],
        ed25519_private=raw_private,
        ed25519_public="whpk_" + base64.b64encode(public).decode(),
    )


@pytest.fixture(scope="session")
def api_settings(keys: Keys, simulator_url: str) -> Settings:  # noqa: F811
    return Settings(
        simulator_url=simulator_url,
        # eBay's token endpoint is eBay's own unless named: name the simulator's.
        ebay_oauth_url=f"{simulator_url}/ebay/identity/v1/oauth2/token",
        admin_token=ADMIN_TOKEN,
        # Short, so the timeout fault scenarios finish in seconds.
        marketplace_http_timeout=2.0,
        signing_secrets=" ".join(keys.hmac_secrets),
        signing_public_keys=keys.ed25519_public,
        provide_input_wait=15,
        ebay_rate_limit=1000,
        etsy_rate_limit=1000,
        vinted_rate_limit=1000,
        # Completion callbacks to local receivers (tests/support/callback_receiver.py), retried
        # after 0.5 s, 1 s, 2 s …
        callback_signing_secret=CALLBACK_SECRET,
        callback_allow_http=True,
        callback_allow_private=True,
        callback_retry_initial_interval=0.5,
        callback_timeout=2.0,
    )


@pytest.fixture(scope="session")
async def session_worker(dev_client: Client, api_settings: Settings) -> AsyncIterator[None]:
    """One real worker for the session: JobWorkflow plus the real marketplace activities,
    talking to the simulator."""
    async with create_http_client(api_settings) as http:
        workers = build_workers(
            dev_client, api_settings, marketplace_activities(api_settings, http)
        )
        stop = asyncio.Event()
        task = asyncio.create_task(run_workers(workers, stop))
        yield
        stop.set()
        await task


@pytest.fixture
async def api(
    dev_client: Client, api_settings: Settings, session_worker: None
) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh app per test (create_app), its lifespan run, spoken to over ASGITransport."""
    app = create_app(client=dev_client, settings=api_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@contextmanager
def _served(dev_env: WorkflowEnvironment, keys: Keys, **settings: Any) -> Iterator[str]:
    """The gateway under a real uvicorn in a thread (its own event loop and lifespan), both
    HMAC secrets and the Ed25519 public key configured; ``settings`` on top."""
    target = dev_env.client.service_client.config.target_host
    app = create_app(
        settings=Settings(
            temporal_address=target,
            signing_secrets=" ".join(keys.hmac_secrets),
            signing_public_keys=keys.ed25519_public,
            admin_token=ADMIN_TOKEN,
            **settings,
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def served_api(dev_env: WorkflowEnvironment, keys: Keys) -> Iterator[str]:
    """The gateway on the wire for sync tests (schemathesis): no worker serves their requests
    while they run, so it waits for nothing: a valid payment is 503 after 0.5 s."""
    with _served(
        dev_env, keys, provide_input_wait=0, status_query_timeout=0.3, update_timeout=0.5
    ) as url:
        yield url


@pytest.fixture(scope="session")
def served_api_with_worker(dev_env: WorkflowEnvironment, keys: Keys) -> Iterator[str]:
    """The gateway on the wire for async tests with the session's worker running: an Update
    waits the default 10 s for it, as in production, so a busy machine does not turn a valid
    payment into a 503 (seen in CI: 0.5 s was not enough)."""
    with _served(dev_env, keys, provide_input_wait=0) as url:
        yield url


@pytest.fixture(scope="session")
async def mip_answers(
    dev_client: Client,
    api_settings: Settings,
    session_worker: None,
    keys: Keys,
    simulator_url: str,  # noqa: F811
) -> Any:
    """Every MIP-003 answer in every job status, collected once for the client contract
    tests (tests/api/mip003_answers.py)."""
    from tests.api.mip003_answers import collect
    from tests.support.simulator import SimulatorControl

    app = create_app(client=dev_client, settings=api_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            SimulatorControl(simulator_url) as sim,
        ):
            return await collect(client, keys, sim)
