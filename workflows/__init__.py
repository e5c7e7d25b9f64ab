"""Temporal workflows: deterministic orchestration only (no I/O, no FastAPI, no httpx)."""
