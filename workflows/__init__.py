"""Deterministic sagas: they orchestrate activities and never do I/O themselves."""
