"""The embedded local stack behind ``make run``: dev server, simulator, worker and API in one go."""
