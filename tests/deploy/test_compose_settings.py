"""docker-compose.yml gives each of our services every setting it reads, no credential, and
marketplace endpoints that agree: the "simulator" profile points everything at the simulator,
a real deployment nothing (no Docker engine needed: the file is read and interpolated here).

"Every setting a service reads" is found in the code, not listed by hand: the modules its entry
point imports (transitively, our packages only), their ``settings.<field>`` reads (a Settings
method counts as the fields it reads) and the environment variables they read by name
(``LOG_LEVEL``). Settings has a default for everything, but a real deployment needs its own
value for most of them (credentials, the seller's ids, endpoints), so each one is named in the
service's environment: passed through from the host, Settings' default when the host has none.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import ConfigurationError, Settings, load_settings
from domain.marketplaces import Marketplace

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {
    "api": "api/__main__.py",
    "worker": "worker.py",
    "simulator": "simulator/__main__.py",
}
FIELDS = frozenset(Settings.model_fields)
BY_VARIABLE = {field.upper(): field for field in FIELDS}
CREDENTIALS = frozenset(
    {
        "ebay_client_id",
        "ebay_client_secret",
        "ebay_refresh_token",
        "ebay_token",
        "etsy_api_key",
        "etsy_access_token",
        "etsy_refresh_token",
        "vinted_access_key",
        "vinted_signing_key",
        "signing_secrets",
        "admin_token",
        "payload_encryption_keys",
    }
)
NOT_PASSED = {
    # Only worker.py serves the SDK's metrics (config.metrics.serve_sdk_metrics); the api
    # imports the module but never binds a port.
    "api": {"metrics_host", "metrics_port"},
    # The simulator accepts its own credentials (the settings' defaults): a real seller's
    # credentials never reach it.
    "simulator": set(CREDENTIALS),
}
SIMULATOR = "http://simulator:8081"
EBAY_PRODUCTION = "https://api.ebay.com/sell/inventory/v1"
REAL_MARKETPLACES = {
    "EBAY_BASE_URL": EBAY_PRODUCTION,
    "EBAY_OAUTH_URL": "",
    "ETSY_BASE_URL": "https://api.etsy.com/v3/application",
    "VINTED_BASE_URL": "https://pro.svc.vinted.com/api/v1",
}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read only what the compose file gives them, not this process's environment."""
    for variable in BY_VARIABLE:
        monkeypatch.delenv(variable, raising=False)


def _interpolate(value: str, host: dict[str, str]) -> str:
    """Compose's ``${X}``, ``${X-d}``, ``${X:-d}``, ``${X?e}``, ``${X:?e}``, ``${X:+r}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        current = host.get(name)
        missing = current is None or (op.startswith(":") and current == "")
        if op.endswith("-"):
            return arg if missing else str(current)
        if op.endswith("?"):
            if missing:
                raise ValueError(f"compose refuses to start: {name}: {arg}")
            return str(current)
        if op.endswith("+"):
            return "" if missing else arg
        return current or ""

    return _VARIABLE.sub(one, value)


def container_environment(service: dict[str, Any], host: dict[str, str]) -> dict[str, str]:
    """The variables the container gets when compose runs with the ``host`` environment."""
    resolved = {}
    for name, value in service["environment"].items():
        if value is None:
            if name in host:
                resolved[name] = host[name]
        else:
            resolved[name] = _interpolate(str(value), host)
    return resolved


def _settings(services: dict[str, Any], host: dict[str, str]) -> Settings:
    environment = container_environment(services["worker"], host)
    return load_settings(**{name.lower(): value for name, value in environment.items()})


@cache
def _method_reads() -> dict[str, frozenset[str]]:
    """Each Settings method -> the fields it reads (through the methods it calls)."""
    tree = ast.parse((ROOT / "config/settings.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    uses: dict[str, set[str]] = {}
    for method in cls.body:
        if isinstance(method, ast.FunctionDef):
            uses[method.name] = {
                n.attr
                for n in ast.walk(method)
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                if n.value.id == "self"
            }

    def reads(name: str, seen: frozenset[str]) -> frozenset[str]:
        found = set(uses[name] & FIELDS)
        for called in uses[name] - FIELDS - seen:
            if called in uses:
                found |= reads(called, seen | {name})
        return frozenset(found)

    return {name: reads(name, frozenset()) for name in uses}


def _module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(entry: Path) -> set[Path]:
    """``entry`` and every module of this repository it imports, transitively."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for name in names:
                parts = name.split(".")
                for depth in range(1, len(parts) + 1):
                    if (found := _module_file(".".join(parts[:depth]))) is not None:
                        todo.append(found)
    return seen


def _is_settings(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "settings") or (
        isinstance(node, ast.Attribute) and node.attr == "settings"
    )


def settings_read_by(entry: str) -> set[str]:
    """The Settings fields the process started from ``entry`` reads."""
    methods = _method_reads()
    read: set[str] = set()
    for path in _imported_modules(ROOT / entry) - {ROOT / "config/settings.py"}:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and _is_settings(node.value):
                read |= {node.attr} & FIELDS or methods.get(node.attr, frozenset())
            elif isinstance(node, ast.Constant) and node.value in BY_VARIABLE:
                read.add(BY_VARIABLE[node.value])  # os.environ.get("LOG_LEVEL")
    return read


def test_the_scan_finds_settings_read_directly_through_methods_and_by_name() -> None:
    """The control: reads that are known to happen are found, each kind of read."""
    worker = settings_read_by("worker.py")
    assert {"etsy_shop_id", "image_max_bytes", "vinted_catalog_id"} <= worker  # settings.x
    assert {"ebay_oauth_url", "ebay_environment", "simulator_url"} <= worker  # methods
    assert "log_level" in worker  # config/logging_setup.py reads LOG_LEVEL itself
    assert {"ebay_marketplace_id", "etsy_shop_currency"} <= settings_read_by("api/__main__.py")
    assert "payment_timeout" not in worker


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_every_setting_a_service_reads_is_passed_to_it(services: dict[str, Any], name: str) -> None:
    """Issue 12: a setting the service reads but compose does not pass can only ever have its
    default (the simulator's seller, a sim- credential) in a deployment."""
    passed = {variable.lower() for variable in services[name]["environment"]}
    missing = settings_read_by(ENTRY_POINTS[name]) - NOT_PASSED.get(name, set()) - passed
    assert not missing, f"{name} reads {sorted(v.upper() for v in missing)}, compose omits them"


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_no_service_is_given_a_setting_it_does_not_read(
    services: dict[str, Any], name: str
) -> None:
    """A variable the service ignores misleads whoever sets it (and spreads secrets)."""
    passed = {variable.lower() for variable in services[name]["environment"]}
    # OpenTelemetry's standard variables are read by its SDK, not by Settings (config/tracing).
    standard = {variable for variable in passed if variable.startswith("otel_")}
    unread = passed - settings_read_by(ENTRY_POINTS[name]) - standard
    assert not unread, f"{name} is given {sorted(v.upper() for v in unread)} and reads none"


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_credentials_come_from_the_host(services: dict[str, Any], name: str) -> None:
    for variable, value in services[name]["environment"].items():
        if variable.lower() in CREDENTIALS:
            assert value is None or str(value).startswith("${"), f"{name}: {variable} is written"


def test_the_simulator_profile_points_every_endpoint_at_the_simulator(
    services: dict[str, Any], clean_environment: None
) -> None:
    """The default (no *_BASE_URL on the host): APIs, token endpoints and the image source are
    all the simulator's, eBay's token endpoint included (eBay's default is eBay's own)."""
    settings = _settings(services, {})
    endpoints = [settings.base_url(m) for m in Marketplace] + [
        settings.ebay_token_url(),
        settings.etsy_token_url(),
        str(settings.image_source_override()),
    ]
    assert all(url.startswith(f"{SIMULATOR}/") for url in endpoints), endpoints


def test_real_marketplaces_point_nothing_at_the_simulator(
    services: dict[str, Any], clean_environment: None
) -> None:
    """The deployment the file's header describes: real APIs, eBay's own token endpoint for
    EBAY_ENVIRONMENT, Etsy's next to its API, images from their own URLs."""
    settings = _settings(services, REAL_MARKETPLACES)
    assert settings.ebay_token_url() == "https://api.ebay.com/identity/v1/oauth2/token"
    assert settings.etsy_token_url() == "https://api.etsy.com/v3/public/oauth/token"
    assert settings.image_source_override() is None
    assert not any(settings.base_url(m).startswith(SIMULATOR) for m in Marketplace)
    sandbox = {
        **REAL_MARKETPLACES,
        "EBAY_ENVIRONMENT": "sandbox",
        "EBAY_BASE_URL": "https://api.sandbox.ebay.com/sell/inventory/v1",
    }
    token = _settings(services, sandbox).ebay_token_url()
    assert token == "https://api.sandbox.ebay.com/identity/v1/oauth2/token"


def test_a_real_ebay_api_with_the_simulators_token_endpoint_refuses_to_start(
    services: dict[str, Any], clean_environment: None
) -> None:
    """Half a profile is never silent: EBAY_BASE_URL set, EBAY_OAUTH_URL left to the file's
    default (the simulator's) stops the worker naming both, instead of renewing the seller's
    real refresh token at the simulator (real_api_fidelity.md #9)."""
    with pytest.raises(ConfigurationError, match="EBAY_OAUTH_URL is the simulator's") as stop:
        _settings(services, {"EBAY_BASE_URL": EBAY_PRODUCTION})
    assert EBAY_PRODUCTION in str(stop.value)
