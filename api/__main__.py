"""Run the gateway: ``python -m api`` (host and port from API_HOST / API_PORT)."""

from __future__ import annotations

import sys

import uvicorn

from config.logging_setup import configure_logging
from config.process import exit_process
from config.settings import ConfigurationError, load_settings
from config.tracing import TracingConfigurationError, configure_tracing, shutdown_tracing


def main() -> None:
    configure_logging()
    try:
        settings = load_settings()
        configure_tracing("marketplace-jobs-api")
    except (ConfigurationError, TracingConfigurationError) as err:
        text = str(err)
        if not text.startswith("configuration error"):
            text = f"configuration error: {text}"
        print(text, file=sys.stderr)
        exit_process(2)
        return
    from api.app import create_app

    app = create_app(settings=settings)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)
    shutdown_tracing()
    exit_process(0)


if __name__ == "__main__":
    main()
