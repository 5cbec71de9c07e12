"""Inbound webhooks service: partner notifications become workflow starts and signals."""
