"""``python -m stack`` (what ``make run`` runs): the whole local stack in the foreground.

Start order, each waited for: Temporal dev server (SQLite in .data/temporal.db; a server that
already answers at TEMPORAL_ADDRESS is used instead), simulator, worker, API. Ctrl-C or SIGTERM
stops them in reverse order and exits 0; a child that dies on its own stops the rest and
exits 1; if this process is killed (kill -9), the children are stopped all the same. A bad
setting exits 2, a busy port (named with the pid holding it) 1, before anything starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from stack.addresses import TEMPORAL_UI_PORT, StackConfigError, stack_addresses
from stack.banner import WORKER_METRICS_PORT, banner
from stack.marketplace_defaults import with_marketplace_defaults
from stack.port_holders import describe_holders
from stack.processes import Supervisor
from stack.runner import install_stop_signals, run_supervised
from stack.secrets import ensure_local_secrets, make_data_dir
from stack.services import (
    StackPlanError,
    app_specs,
    check_external_temporal,
    check_metrics_port_free,
    check_ports_free,
    plan_temporal,
    worker_enabled,
)


def display_python(root: Path) -> str:
    """This interpreter as a person would type it from ``root`` (``.venv/bin/python``)."""
    python = Path(sys.executable)
    try:
        return str(python.relative_to(root))
    except ValueError:
        return str(python)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stack",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".data"),
        help="secrets and the Temporal database (default: .data, kept across runs)",
    )
    parser.add_argument(
        "--ui-port", type=int, default=TEMPORAL_UI_PORT, help="Temporal UI port (default: 8233)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path.cwd()
    environ = dict(os.environ)

    def fail(message: str, code: int = 1) -> int:
        print(f"[stack]    {message}", file=sys.stderr, flush=True)
        return code

    try:
        addresses = stack_addresses(environ, ui_port=args.ui_port)
    except StackConfigError as err:
        return fail(f"configuration error: {err}", 2)  # 2, as the services exit on bad settings
    data_dir = make_data_dir(args.data_dir)
    local_secrets = ensure_local_secrets(data_dir, environ)
    try:
        temporal = plan_temporal(addresses, data_dir)
        check_ports_free(addresses)
    except StackPlanError as err:
        return fail(err.args[0])

    child_env = {
        **with_marketplace_defaults(environ, addresses.simulator_url),
        # The simulator sends Vinted's signed sale webhooks to the gateway (issue 14).
        **(
            {}
            if environ.get("VINTED_WEBHOOK_URL")
            else {"VINTED_WEBHOOK_URL": f"{addresses.api_url}/webhooks/vinted"}
        ),
        **addresses.child_environment(),
        **{secret.variable: secret.value for secret in local_secrets},
        # Children's output goes through a pipe; unbuffered, it shows up as it happens.
        "PYTHONUNBUFFERED": "1",
    }
    # Only the worker serves SDK metrics on METRICS_PORT (the API ignores it).
    child_env.setdefault("METRICS_PORT", str(WORKER_METRICS_PORT))
    try:
        check_metrics_port_free(child_env["METRICS_PORT"], worker_enabled(child_env))
    except StackPlanError as err:
        return fail(err.args[0])
    supervisor = Supervisor(env=child_env, cwd=root)
    install_stop_signals(supervisor)
    if temporal.spec is None:
        holder = describe_holders(addresses.temporal_port) if addresses.temporal_is_local else ""
        supervisor.say(
            f"Temporal already answers at {addresses.temporal_address}{holder}; using it"
        )
        if not check_external_temporal(addresses):
            supervisor.say(
                f"warning: could not confirm namespace {addresses.namespace!r} there; "
                "the worker will say if it is missing"
            )
    if not worker_enabled(environ):
        supervisor.say("WORKER_ENABLED is false: not starting the worker")
    specs = [
        *([temporal.spec] if temporal.spec else []),
        *app_specs(sys.executable, addresses, environ),
    ]
    text = banner(
        addresses,
        local_secrets,
        python=display_python(root),
        temporal_note=temporal.note,
        started_temporal=temporal.spec is not None,
        metrics_port=child_env["METRICS_PORT"],
    )
    return run_supervised(supervisor, specs, on_ready=lambda: supervisor.write(text))


if __name__ == "__main__":
    sys.exit(main())
