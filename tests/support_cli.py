"""Running `starter.py` inside a test against the test's own stack."""

from __future__ import annotations

import pytest

from infra.settings import Settings


def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """`starter.py` run in the test talks to the harness's server, database and queue."""
    for name, value in {
        "TEMPORAL_ADDRESS": settings.temporal_target,
        "DATABASE_URL": settings.database_url,
        "CUSTOMER_KEYS_DATABASE_URL": settings.customer_keys_url,
        "ORDER_TASK_QUEUE": settings.task_queue,
    }.items():
        monkeypatch.setenv(name, value)
