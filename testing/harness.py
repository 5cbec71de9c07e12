"""In-process stack for tests, history recording and benchmarks: the sandbox and the webhooks
service on ports the OS gives them (real HTTP, uvicorn in threads) and an order worker on a
given client."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client, WorkflowHandle

from adapters.registry import Adapters, build_adapters
from adapters.shopify import order_from_webhook
from bootstrap.workers import running_workers
from canonical import Order, OrderStatus, OrderView
from infra.processes import bound_socket, port_of
from infra.settings import Settings
from sandbox.app import create_app as create_sandbox
from sandbox.shipstation import AutoShip
from services.deployment import make_current
from services.orders import start_order
from services.schedules import reconcile_now
from testing.dev_server import KEYS
from webhooks.app import create_app as create_webhooks
from workflows.order_inputs import OrderToCashInput, RetryBudget


class UvicornThread:
    """Serves an ASGI app on a socket bound beforehand (`bound_socket`), in a thread with its
    own event loop."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.port = port_of(sock)
        self.thread = threading.Thread(target=self.server.run, args=([sock],), daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@dataclass
class Harness:
    settings: Settings
    client: Client
    sandbox: FastAPI
    adapters: Adapters


def harness_settings(
    temporal_target: str, sandbox_port: int, webhooks_port: int, **env: str
) -> Settings:
    """Settings for a throwaway stack: its own ports, task queue and inbox database."""
    data_dir = tempfile.mkdtemp(prefix="orchestrator-")
    return Settings.from_env(
        {
            "TEMPORAL_ADDRESS": temporal_target,
            "DATABASE_URL": f"sqlite:///{data_dir}/orchestrator.db",
            "SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
            "WEBHOOKS_PORT": str(webhooks_port),
            "ORDER_TASK_QUEUE": f"orders-{sandbox_port}",
            "WORKER_DEPLOYMENT_NAME": f"orders-{sandbox_port}",
            "CUSTOMER_KEYS_DATABASE_URL": KEYS.customer_keys_url,  # the tests' clients' keys
            **env,
        }
    )


async def _subscribed(sandbox: FastAPI, timeout: float = 20) -> None:
    """Shipments and store events are only pushed to subscribers: wait for the webhooks
    service to subscribe to the WMS, the POS, the drop-ship supplier and the returns desk."""
    deadline = time.monotonic() + timeout
    partners = sandbox.state.partners
    pushing = ("shipstation", "pos", "shipbob", "returns")
    while not all(partners[name].subscriptions for name in pushing):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the webhooks service did not subscribe to all of {pushing}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def order_harness(
    client: Client, autoship: AutoShip | None = None, **env: str
) -> AsyncIterator[Harness]:
    """Sandbox + webhooks service + order worker, all torn down on exit."""
    target = client.service_client.config.target_host
    sandbox_socket, webhooks_socket = bound_socket(), bound_socket()
    settings = harness_settings(target, port_of(sandbox_socket), port_of(webhooks_socket), **env)
    sandbox = create_sandbox(settings.sandbox_url, autoship=autoship)
    adapters = build_adapters(settings)
    with (
        UvicornThread(sandbox, sandbox_socket),
        UvicornThread(create_webhooks(settings), webhooks_socket),
    ):
        await _subscribed(sandbox)
        try:
            async with running_workers(client, settings, adapters):
                await make_current(client, settings)
                await reconcile_now(client, settings)  # stock positions from the WMS's counts
                yield Harness(settings, client, sandbox, adapters)
        finally:
            await adapters.aclose()
            shutil.rmtree(Path(settings.database_url.removeprefix("sqlite:///")).parent)


async def completed_sandbox_order(
    h: Harness, skus: list[tuple[str, int]] | None = None
) -> tuple[Order, WorkflowHandle[Any, OrderView]]:
    """A new storefront order of the sandbox Shopify (of these SKUs, or random ones) run to its
    end on the harness (the sandbox warehouse ships it, when autoship is on): the order and its
    workflow."""
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1, "skus": skus}
    )
    order = order_from_webhook(body.json()[0])
    retry = RetryBudget(initial_interval=timedelta(milliseconds=200))
    handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, retry=retry)
    )
    result = await asyncio.wait_for(handle.result(), 60)
    if result.status is not OrderStatus.COMPLETED:
        raise AssertionError(f"{order.key} ended {result.status.value}: {result.timeline}")
    return order, handle
