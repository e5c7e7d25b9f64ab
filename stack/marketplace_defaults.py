"""Marketplace settings `make run` gives its children when the environment leaves them unset.

Outside `make run` nothing points at the simulator by accident: eBay's token endpoint defaults
to eBay's own (EBAY_ENVIRONMENT), so the local stack names the simulator's explicitly (as does
docker-compose.yml's simulator profile). The category, policies, location and brand default of
the local seller are the settings' defaults (README, "Talking to the real marketplaces").
Completion callbacks may go to http receivers on this machine (README "Operating it"): outside
`make run` they are https to public hosts only.
"""

from __future__ import annotations

from collections.abc import Mapping


def make_run_marketplace_defaults(simulator_url: str) -> dict[str, str]:
    return {
        "EBAY_OAUTH_URL": f"{simulator_url.rstrip('/')}/ebay/identity/v1/oauth2/token",
        "CALLBACK_ALLOW_HTTP": "true",
        "CALLBACK_ALLOW_PRIVATE": "true",
    }


def with_marketplace_defaults(environ: Mapping[str, str], simulator_url: str) -> dict[str, str]:
    """``environ`` plus each default it lacks (an empty value counts as unset)."""
    merged = dict(environ)
    for variable, value in make_run_marketplace_defaults(simulator_url).items():
        if not merged.get(variable, "").strip():
            merged[variable] = value
    return merged
