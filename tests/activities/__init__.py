"""The marketplace activities, run in ActivityEnvironment against the simulator."""
