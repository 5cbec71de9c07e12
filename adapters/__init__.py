"""Adapters: one module per external system behind a port (see `adapters.ports`)."""
