"""Process configuration: settings from the environment, the Temporal connection, logging."""
