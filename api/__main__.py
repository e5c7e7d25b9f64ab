"""Run the gateway: ``python -m api`` (host and port from API_HOST / API_PORT)."""

from __future__ import annotations

import sys

import uvicorn

from config.logging_setup import configure_logging
from config.process import exit_process
from config.settings import ConfigurationError, load_settings


def main() -> None:
    configure_logging()
    try:
        settings = load_settings()
    except ConfigurationError as err:
        print(err, file=sys.stderr)
        exit_process(2)
        return
    from api.app import create_app

    app = create_app(settings=settings)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
    exit_process(0)


if __name__ == "__main__":
    main()
