"""Pure domain code shared by the gateway, the workflows and the activities (no I/O)."""
