"""docker-compose registers the search attributes GET /jobs and GET /listings need (issue 16)."""

from __future__ import annotations

from typing import Any

from domain.job_search import SEARCH_ATTRIBUTES, cli_type, compose_spec
from tests.deploy.test_compose import ROOT, _depends, services  # noqa: F401 - fixture


def test_compose_registers_every_search_attribute_once_the_server_is_healthy(
    services: dict[str, Any],  # noqa: F811
) -> None:
    create = services["temporal-create-namespace"]
    declared = create["environment"]["SEARCH_ATTRIBUTES"].split()

    assert declared == compose_spec().split()
    assert {pair.split("=")[0] for pair in declared} == {key.name for key in SEARCH_ATTRIBUTES}
    assert all(
        pair.split("=")[1] == cli_type(key)
        for pair, key in zip(declared, SEARCH_ATTRIBUTES, strict=True)
    )
    assert _depends(create, "temporal") == "service_healthy"
    script = (ROOT / "deploy" / "create-namespace.sh").read_text()
    assert "temporal operator search-attribute create" in script
    assert "${SEARCH_ATTRIBUTES" in script


def test_app_services_start_after_the_search_attributes_exist(
    services: dict[str, Any],  # noqa: F811
) -> None:
    """The API sets them on every job it starts: an unknown one would refuse the start."""
    for name in ("api", "worker"):
        assert _depends(services[name], "temporal-create-namespace") == (
            "service_completed_successfully"
        )
