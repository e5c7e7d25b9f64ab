"""Test helpers shared by every test package (the marketplace simulator runner and client)."""
