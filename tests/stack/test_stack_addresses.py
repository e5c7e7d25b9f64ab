"""Where the local stack listens: CONTRACT.md's defaults, each overridable by its variable."""

from __future__ import annotations

import pytest

from stack.addresses import StackConfigError, split_host_port, stack_addresses


def test_defaults_are_the_contract_addresses() -> None:
    """CONTRACT.md Commands: API 8000, Temporal 7233, UI 8233, simulator 8081."""
    addresses = stack_addresses({})

    assert addresses.api_url == "http://127.0.0.1:8000"
    assert addresses.temporal_address == "127.0.0.1:7233"
    assert addresses.ui_url == "http://127.0.0.1:8233"
    assert addresses.simulator_url == "http://127.0.0.1:8081"
    assert addresses.namespace == "default"


def test_each_address_follows_its_variable() -> None:
    """CONTRACT.md Commands: API_PORT, TEMPORAL_ADDRESS and SIMULATOR_URL override the defaults."""
    addresses = stack_addresses(
        {
            "API_PORT": "9000",
            "TEMPORAL_ADDRESS": "localhost:7300",
            "SIMULATOR_URL": "http://127.0.0.1:9081",
            "TEMPORAL_NAMESPACE": "shop",
        }
    )

    assert addresses.api_url == "http://127.0.0.1:9000"
    assert (addresses.temporal_host, addresses.temporal_port) == ("localhost", 7300)
    assert addresses.simulator_port == 9081
    assert addresses.namespace == "shop"
    env = addresses.child_environment()
    assert env["SIMULATOR_PORT"] == "9081"
    assert env["SIMULATOR_URL"] == "http://127.0.0.1:9081"
    assert env["TEMPORAL_ADDRESS"] == "localhost:7300"


def test_simulator_port_alone_moves_the_url_the_worker_calls() -> None:
    """The worker must call the simulator where the stack started it."""
    env = stack_addresses({"SIMULATOR_PORT": "9181"}).child_environment()

    assert env["SIMULATOR_URL"] == "http://127.0.0.1:9181"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("API_PORT", "eighty"), ("SIMULATOR_PORT", "70000"), ("TEMPORAL_ADDRESS", "127.0.0.1:x")],
)
def test_bad_port_is_reported_with_its_variable(variable: str, value: str) -> None:
    """CONTRACT.md Configuration: a bad value stops the process with a line naming the variable."""
    with pytest.raises(StackConfigError, match=variable):
        stack_addresses({variable: value})


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:7233", ("127.0.0.1", 7233)),
        ("localhost", ("localhost", 7233)),
        ("[::1]:7300", ("::1", 7300)),
        ("::1", ("::1", 7233)),
    ],
)
def test_temporal_address_forms_are_understood(address: str, expected: tuple[str, int]) -> None:
    assert split_host_port(address, 7233) == expected
