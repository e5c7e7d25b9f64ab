"""The FastAPI gateway: HTTP in, Temporal workflow starts, signals and queries out."""
