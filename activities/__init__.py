"""Marketplace activities: one module per marketplace, plus the shared HTTP error mapping."""
