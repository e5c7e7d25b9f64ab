"""Benchmarks and the soak run against the real local stack (``make bench``, ``make soak``).

Not part of the product package: run from the repository root with the project's virtualenv.
"""
