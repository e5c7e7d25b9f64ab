"""``python -m simulator``: serve the marketplace simulator on SIMULATOR_HOST:SIMULATOR_PORT."""

from __future__ import annotations

import sys

import uvicorn

from config.logging_setup import configure_logging
from config.settings import ConfigurationError, load_settings
from simulator.app import create_app


def main() -> None:
    configure_logging()
    try:
        settings = load_settings()
    except ConfigurationError as err:
        print(err, file=sys.stderr)
        raise SystemExit(2) from None
    uvicorn.run(
        create_app(settings),
        host=settings.simulator_host,
        port=settings.simulator_port,
        log_level="info",
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
