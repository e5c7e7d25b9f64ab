"""Recorded workflow histories, replayed by tests/workflow/test_replay.py."""
