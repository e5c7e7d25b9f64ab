"""marketplace-jobs: a command-line client for people, over the Marketplace Jobs HTTP API."""

from __future__ import annotations

API_ENV = "MARKETPLACE_JOBS_API"
DEFAULT_API = "http://127.0.0.1:8000"
