"""worker.py started before Temporal serves its namespace: it waits, then polls (issue 11)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.marketplaces import JOB_TASK_QUEUE
from tests.integration.processes import free_port
from tests.temporal_binaries import dev_server_path
from worker import is_startup_failure

REPO_ROOT = Path(__file__).resolve().parents[2]
RETRY = re.compile(r"^temporal not ready at \S+ namespace=\S+ \(.+\); retry (\d+) in [\d.]+ s$")


def _start_worker(address: str, namespace: str, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
        "LOG_FORMAT": "json",
        "METRICS_PORT": "",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "worker.py"], cwd=REPO_ROOT, env=env, stdout=out, stderr=out
        )


def _messages(log: Path) -> list[str]:
    """The message of every JSON line the worker wrote so far (a partial last line excepted)."""
    messages = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            messages.append(str(json.loads(line)["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return messages


def _wait_for_message(
    worker: subprocess.Popen[bytes], log: Path, needle: str, count: int = 1, within: float = 30
) -> None:
    deadline = time.monotonic() + within
    while sum(needle in m for m in _messages(log)) < count:
        assert worker.poll() is None, f"worker exited, {worker.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"{needle!r} x{count}, {within} s:\n{log.read_text()}"
        time.sleep(0.1)


async def _register_namespace(address: str, namespace: str) -> None:
    client = await Client.connect(address)
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )


async def _jobs_poller_identities(address: str, namespace: str, within: float) -> list[str]:
    """Who polls `jobs` (empty after ``within``); the server may take a moment to see a new
    namespace everywhere, and answers NOT_FOUND meanwhile."""
    client = await Client.connect(address, namespace=namespace)
    request = DescribeTaskQueueRequest(
        namespace=namespace,
        task_queue=TaskQueue(name=JOB_TASK_QUEUE),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            response = await client.workflow_service.describe_task_queue(request)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
        else:
            if response.pollers:
                return [poller.identity for poller in response.pollers]
        await asyncio.sleep(0.2)
    return []


@pytest.mark.timeout(90)
def test_worker_started_before_temporal_waits_for_it_then_polls_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    """Issue 11 item 2: worker.py exited 1 when the server was not up yet, or up without its
    namespace ("Namespace … was not found"). It now retries with backoff, one line per retry,
    through both stages a fresh server goes through, polls `jobs` once the namespace exists,
    and a SIGTERM still exits 0."""
    port, namespace = free_port(), f"issue-11-{uuid.uuid4().hex[:8]}"
    address, log = f"127.0.0.1:{port}", tmp_path / "worker.log"
    worker = _start_worker(address, namespace, log)
    server: subprocess.Popen[bytes] | None = None
    try:
        # Nothing listens on the port yet.
        _wait_for_message(worker, log, "Failed client connect", count=2)

        dev_server = [dev_server_path(), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
        server = subprocess.Popen(
            [*dev_server, "--port", str(port), "--log-level", "error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The server answers now, but not for this namespace.
        _wait_for_message(worker, log, "NOT_FOUND")

        asyncio.run(_register_namespace(address, namespace))
        identities = asyncio.run(_jobs_poller_identities(address, namespace, within=30))
        assert worker.poll() is None, log.read_text()

        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    assert code == 0, log.read_text()
    assert [i for i in identities if i.endswith(f":{worker.pid}")], identities
    messages = _messages(log)
    retries = [int(m.group(1)) for text in messages if (m := RETRY.match(text))]
    assert retries == list(range(1, len(retries) + 1)) and len(retries) >= 3, messages
    assert "worker stopped" in messages


def test_worker_waiting_for_temporal_exits_0_on_sigterm(tmp_path: Path) -> None:
    """Issue 11 item 2: `make run` stops a worker that is still waiting for the server; that is
    a clean stop (it was killed by the signal, exit -15, before)."""
    log = tmp_path / "worker.log"
    worker = _start_worker(f"127.0.0.1:{free_port()}", "default", log)
    try:
        _wait_for_message(worker, log, "Failed client connect")

        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert code == 0, log.read_text()
    assert "worker stopped" in _messages(log)


@activity.defn(name="noop_for_validation")
async def noop_for_validation() -> None:
    """Never runs: only there so that a Worker can be built."""


async def test_the_sdk_errors_of_a_missing_server_or_namespace_are_retried(
    dev_env: WorkflowEnvironment,
) -> None:
    """The SDK raises plain RuntimeErrors, told apart by their text; if that text changes, a
    worker whose server dies during its own namespace check would exit 1 again."""
    with pytest.raises(RuntimeError) as connect_failure:
        await Client.connect(f"127.0.0.1:{free_port()}")
    address = dev_env.client.service_client.config.target_host
    client = await Client.connect(address, namespace=f"never-registered-{uuid.uuid4().hex[:8]}")
    worker = Worker(client, task_queue=str(uuid.uuid4()), activities=[noop_for_validation])
    with pytest.raises(RuntimeError) as validation_failure:
        await worker.run()

    assert is_startup_failure(connect_failure.value)
    assert is_startup_failure(validation_failure.value)
    assert not is_startup_failure(RuntimeError("Worker failed: some bug"))
