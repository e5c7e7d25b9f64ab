"""Marketplace activities: one module per marketplace, plus the shared HTTP error mapping."""

USER_AGENT = "marketplace-jobs/0.1"
"""Sent with every outbound request: marketplace calls and image downloads."""
