"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine needed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("api", "worker", "simulator")
CLUSTER_SERVICES = (
    "postgresql",
    "temporal-admin-tools",
    "temporal",
    "temporal-create-namespace",
    "temporal-ui",
)
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?(?P<op>[-?])(?P<arg>[^}]*))?\}")


def _defaults(value: str) -> str:
    """Compose interpolation as with an empty environment: ``${X:-d}`` -> d, ``${X}`` -> ''."""
    return _VARIABLE.sub(lambda m: m["arg"] if m["op"] == "-" else "", value)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            pairs.append((instruction.upper(), args.strip()))
    return pairs


def _host_ports(service: dict[str, Any]) -> set[int]:
    return {int(_defaults(str(p)).split(":")[0]) for p in service.get("ports", [])}


def _depends(service: dict[str, Any], on: str) -> str | None:
    depends = service.get("depends_on", {})
    return depends.get(on, {}).get("condition") if isinstance(depends, dict) else None


def test_compose_has_the_cluster_and_the_app_services(services: dict[str, Any]) -> None:
    """DESIGN.md layout: PostgreSQL, temporalio/server, admin-tools, UI, api, worker, simulator."""
    assert set(CLUSTER_SERVICES + APP_SERVICES) <= set(services)


def test_compose_does_not_use_the_deprecated_auto_setup_image(services: dict[str, Any]) -> None:
    """DESIGN.md: `auto-setup` is deprecated; temporalio/server + admin-tools instead."""
    images = [s.get("image", "") for s in services.values()]

    assert not any("auto-setup" in image for image in images)
    assert _defaults(services["temporal"]["image"]).startswith("temporalio/server:")
    assert _defaults(services["temporal-admin-tools"]["image"]).startswith(
        "temporalio/admin-tools:"
    )


def test_temporal_server_starts_only_after_the_schema_setup_completed(
    services: dict[str, Any],
) -> None:
    """peers_perf.md §5: the server depends on admin-tools with service_completed_successfully."""
    temporal = services["temporal"]
    setup = services["temporal-admin-tools"]

    assert _depends(temporal, "temporal-admin-tools") == "service_completed_successfully"
    assert _depends(setup, "postgresql") == "service_healthy"
    assert "pg_isready" in " ".join(services["postgresql"]["healthcheck"]["test"])
    env = temporal["environment"]
    assert env["DB"] == "postgres12"
    assert env["BIND_ON_IP"] == "0.0.0.0"
    assert "healthcheck" in temporal


def test_schema_setup_creates_both_databases_with_the_postgres_sql_tool(
    services: dict[str, Any],
) -> None:
    """The one-shot setup covers the `temporal` and `temporal_visibility` databases."""
    mounts = services["temporal-admin-tools"]["volumes"]
    host_script = next(m.split(":")[0] for m in mounts if "setup-postgres" in m)
    script = (ROOT / host_script).read_text()

    assert "temporal-sql-tool --plugin postgres12" in script
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert step in script
    assert re.search(
        r"^setup_database temporal \S*/schema/postgresql/v12/temporal/versioned$", script, re.M
    )
    assert re.search(
        r"^setup_database temporal_visibility \S*/schema/postgresql/v12/visibility/versioned$",
        script,
        re.M,
    )


def test_default_namespace_is_created_once_the_server_is_healthy(services: dict[str, Any]) -> None:
    create = services["temporal-create-namespace"]
    mounts = create["volumes"]
    script = (ROOT / next(m.split(":")[0] for m in mounts if "create-namespace" in m)).read_text()

    assert _depends(create, "temporal") == "service_healthy"
    assert _defaults(create["environment"]["DEFAULT_NAMESPACE"]) == "default"
    assert "temporal operator namespace create" in script


def test_dynamic_config_file_is_mounted_where_the_server_looks(services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    path = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    mount = next(
        m for m in temporal["volumes"] if m.endswith("/etc/temporal/config/dynamicconfig:ro")
    )
    host_dir = ROOT / mount.split(":")[0]

    assert path.startswith("config/dynamicconfig/")
    config = yaml.safe_load((host_dir / Path(path).name).read_text())
    assert config["limit.maxIDLength"][0]["value"] == 255


def test_contract_ports_are_published(services: dict[str, Any]) -> None:
    """CONTRACT.md Commands: Temporal 7233, UI 8233, API 8000, simulator 8081."""
    assert 7233 in _host_ports(services["temporal"])
    assert "8233:8080" in services["temporal-ui"]["ports"]
    assert 8000 in _host_ports(services["api"])
    assert 8081 in _host_ports(services["simulator"])
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_environment_names_are_settings_fields(
    services: dict[str, Any], name: str
) -> None:
    """Every variable given to our services is a Settings field (a typo would be ignored), or
    one of OpenTelemetry's standard ``OTEL_*`` variables that its SDK reads (tracing)."""
    fields = {field.upper() for field in Settings.model_fields}
    environment = services[name]["environment"]
    assert isinstance(environment, dict)

    assert {v for v in environment if not v.startswith("OTEL_")} - fields == set()


def test_app_services_find_temporal_and_listen_on_all_interfaces(services: dict[str, Any]) -> None:
    """Inside a container, 127.0.0.1 (the Settings default) is unreachable from the others."""
    for name in ("api", "worker"):
        assert services[name]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert services["api"]["environment"]["API_HOST"] == "0.0.0.0"
    assert services["simulator"]["environment"]["SIMULATOR_HOST"] == "0.0.0.0"
    assert services["worker"]["environment"]["SIMULATOR_URL"] == "http://simulator:8081"


def test_signing_secrets_come_from_the_host_and_are_required(services: dict[str, Any]) -> None:
    """No secret in the repository: the API refuses to start without SIGNING_SECRETS."""
    api_env = services["api"]["environment"]

    assert api_env["SIGNING_SECRETS"].startswith("${SIGNING_SECRETS:?")
    assert api_env["ADMIN_TOKEN"] in (None, "") or api_env["ADMIN_TOKEN"].startswith("${")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("api", ["python", "-m", "api"]),
        ("worker", ["python", "worker.py"]),
        ("simulator", ["python", "-m", "simulator"]),
    ],
)
def test_app_services_are_built_from_the_dockerfile(
    services: dict[str, Any], name: str, command: list[str]
) -> None:
    service = services[name]

    assert service["build"]["context"] == "."
    assert service["build"]["dockerfile"] == "Dockerfile"
    assert service["command"] == command
    assert _depends(service, "temporal-create-namespace") in (
        None,
        "service_completed_successfully",
    )


def test_app_services_wait_for_the_namespace(services: dict[str, Any]) -> None:
    for name in ("api", "worker"):
        assert _depends(services[name], "temporal-create-namespace") == (
            "service_completed_successfully"
        )


@pytest.mark.parametrize(("name", "path"), [("api", "/health"), ("simulator", "/__sim/listings")])
def test_http_services_have_healthchecks_on_their_routes(
    services: dict[str, Any], name: str, path: str
) -> None:
    test = " ".join(services[name]["healthcheck"]["test"])

    assert path in test
    assert "urlopen" in test


def test_every_image_is_pinned_to_a_version(services: dict[str, Any]) -> None:
    """`latest` or no tag changes under a running deployment at the next pull."""
    for name, service in services.items():
        image = _defaults(service["image"])
        repository, _, tag = image.rpartition(":")
        assert repository and tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"


def test_worker_gets_time_for_a_graceful_shutdown(services: dict[str, Any]) -> None:
    """Docker's default 10 s equals the worker's own graceful timeout: no margin for exit."""
    worker = services["worker"]

    assert int(worker["stop_grace_period"].rstrip("s")) > 10
    assert worker["init"] is True


def test_dockerfile_is_python_311_slim_and_runs_as_non_root(
    dockerfile: list[tuple[str, str]],
) -> None:
    froms = [args for instruction, args in dockerfile if instruction == "FROM"]
    users = [args for instruction, args in dockerfile if instruction == "USER"]

    assert froms == ["python:3.11-slim"]
    assert users, "no USER: the services would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_does_not_copy_local_state_or_secrets(dockerfile: list[tuple[str, str]]) -> None:
    """.data/ holds the local signing secret, admin token and SQLite file; .env holds secrets."""
    copies = [args for instruction, args in dockerfile if instruction in ("COPY", "ADD")]
    sources = [word for args in copies for word in args.split()[:-1] if not word.startswith("--")]

    assert sources, "the Dockerfile copies nothing"
    assert not any(s.startswith((".data", ".env", "./.data", "./.env")) for s in sources)
    assert "." not in sources and "./" not in sources, (
        "copying the whole context can pull in .data/"
    )
    baked = [args for instruction, args in dockerfile if instruction in ("ENV", "ARG")]
    assert not any(re.search(r"SECRET|TOKEN|PASSWORD|KEY", args) for args in baked)


def test_dockerfile_installs_the_package_without_dev_extras(
    dockerfile: list[tuple[str, str]],
) -> None:
    runs = " ".join(args for instruction, args in dockerfile if instruction == "RUN")

    assert re.search(r"pip install [^&]*\.(\s|$)", runs)
    assert "[dev]" not in runs
    assert "[server]" not in runs


def test_dockerfile_copies_every_runtime_package(dockerfile: list[tuple[str, str]]) -> None:
    """A package missing from the image fails only at run time, in the container."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include} - {"stack"}
    copied = {
        args.split()[0].strip("./") for instruction, args in dockerfile if instruction == "COPY"
    }

    assert packages | {"worker.py"} <= copied


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".data/", ".env", ".venv/", ".git/"):
        assert entry in ignored
