"""The FastAPI gateway: HTTP in; Temporal workflow starts, Updates, signals and queries out."""
