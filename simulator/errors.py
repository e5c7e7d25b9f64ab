"""Marketplace-shaped error responses, for real validation failures and for injected faults."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from domain.marketplaces import Marketplace
from simulator.faults import FaultMode, FaultRule


class SaleRefused(Exception):
    """A simulated purchase (``POST /__sim/sales``) that cannot happen: ``status`` and why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def ebay_error(
    status: int,
    error_id: int,
    message: str,
    *,
    domain: str = "API_INVENTORY",
    category: str = "REQUEST",
    parameters: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    long_message: str | None = None,
) -> JSONResponse:
    """eBay's ``{"errors": [{errorId, domain, category, message, parameters}]}``."""
    error: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "subdomain": "Selling" if domain == "API_INVENTORY" else domain,
        "category": category,
        "message": message,
    }
    if long_message:
        error["longMessage"] = long_message
    if parameters:
        error["parameters"] = parameters
    return JSONResponse({"errors": [error]}, status_code=status, headers=headers)


def etsy_error(status: int, message: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """Etsy's ``ErrorSchema``: ``{"error": "..."}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def vinted_error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Vinted Pro errors. The public docs do not show the body; this shape is our assumption:
    ``{"errors": [{"code": "...", "message": "..."}]}``."""
    return JSONResponse(
        {"errors": [{"code": code, "message": message}]}, status_code=status, headers=headers
    )


def fault_response(marketplace: Marketplace, rule: FaultRule) -> JSONResponse:
    """The answer an injected fault gives, shaped like the marketplace's own errors."""
    status = rule.http_status
    headers = (
        {"Retry-After": str(rule.retry_after_seconds)}
        if rule.mode is FaultMode.RATE_LIMIT
        else None
    )
    if marketplace is Marketplace.EBAY:
        return _ebay_fault(rule, status, headers)
    if marketplace is Marketplace.ETSY:
        return etsy_error(status, _ETSY_MESSAGES[rule.mode], headers=headers)
    code, message = _VINTED_MESSAGES[rule.mode]
    return vinted_error(status, code, message, headers=headers)


def _ebay_fault(rule: FaultRule, status: int, headers: dict[str, str] | None) -> JSONResponse:
    if rule.mode is FaultMode.RATE_LIMIT:
        return ebay_error(
            status, 2001, "Too many requests.", domain="ACCESS", category="REQUEST", headers=headers
        )
    if rule.mode is FaultMode.AUTH:
        return ebay_error(
            status,
            1001,
            "Invalid access token. Check the value of the Authorization HTTP request header.",
            domain="OAuth",
        )
    if rule.mode is FaultMode.VALIDATION:
        return ebay_error(status, 25709, "Invalid value for product. (simulated fault)")
    return ebay_error(
        status,
        25001,
        "A system error has occurred. (simulated fault)",
        category="APPLICATION",
    )


_ETSY_MESSAGES: dict[FaultMode, str] = {
    FaultMode.ERROR: "Server Error",
    FaultMode.GHOST_WRITE: "Server Error",
    FaultMode.TIMEOUT: "Gateway Timeout",
    FaultMode.RATE_LIMIT: "You have exceeded your quota of: 10 requests per second.",
    FaultMode.AUTH: "invalid_token",
    FaultMode.VALIDATION: "Invalid listing data (simulated fault)",
}

_VINTED_MESSAGES: dict[FaultMode, tuple[str, str]] = {
    FaultMode.ERROR: ("internal_error", "Internal server error (simulated fault)"),
    FaultMode.GHOST_WRITE: ("internal_error", "Internal server error (simulated fault)"),
    FaultMode.TIMEOUT: ("gateway_timeout", "Gateway timeout (simulated fault)"),
    FaultMode.RATE_LIMIT: ("rate_limited", "Too many requests (simulated fault)"),
    FaultMode.AUTH: ("unauthorized", "Invalid access key or signature (simulated fault)"),
    FaultMode.VALIDATION: ("validation_error", "Invalid item data (simulated fault)"),
}
