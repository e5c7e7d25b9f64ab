"""The marketplace simulator's own behaviour."""
