"""The store POS pickup API over real HTTP (the sandbox plays the POS, its staff and the
customer): pick tasks once per order, cancel, handover once, store events pushed to us."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from adapters.errors import BusinessError
from adapters.registry import build_adapters
from adapters.store_pos import StorePos, StorePosSettings
from canonical import Customer, ExceptionCode
from canonical.pickup import Handover, PickLine, PickTask, StoreEvent, StoreEventKind
from infra.processes import bound_socket
from testing.eventually import eventually
from testing.harness import UvicornThread
from tests.conftest import SandboxHandle

TASK = PickTask(
    store="STORE-BOS",
    order_key="shopify-5001",
    order_number="#5001",
    customer=Customer(name="Ana Souza", email="ana.souza@example.com"),
    lines=[
        PickLine(line_id="1", sku="MUG-STONE-350", quantity=2),
        PickLine(line_id="2", sku="WICK-TRIM-01", quantity=1),
    ],
    pick_by=datetime.now(UTC) + timedelta(hours=2),
)


async def test_pick_task_cancel_and_handover_are_idempotent(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    stores = adapters.stores
    task_id = await stores.create_pick_task(TASK)
    assert await stores.create_pick_task(TASK) == task_id
    await stores.cancel_pick_task("STORE-BOS", "shopify-unknown")  # nothing to cancel: fine
    handover = Handover(
        handover_id="shopify-5001:1", store="STORE-BOS", order_key="shopify-5001",
        lines=TASK.lines[:1],
    )  # fmt: skip
    receipt = await stores.hand_over(handover)
    assert await stores.hand_over(handover) == receipt
    with pytest.raises(BusinessError) as refused:
        await stores.cancel_pick_task("STORE-BOS", "shopify-5001")  # collected already
    assert refused.value.code is ExceptionCode.ALREADY_COLLECTED  # the pickup completes instead
    assert await stores.collected("STORE-BOS", "shopify-5001") == TASK.lines[:1]
    assert await stores.collected("STORE-BOS", "shopify-unknown") == []
    with pytest.raises(BusinessError, match="store_not_found"):
        await stores.create_pick_task(TASK.model_copy(update={"store": "STORE-XX"}))
    await adapters.aclose()


async def test_store_staff_and_customer_events_reach_the_subscriber(
    sandbox: SandboxHandle,
) -> None:
    received: list[tuple[str, dict[str, Any]]] = []
    receiver = FastAPI()

    @receiver.post("/events")
    async def events(request: Request) -> dict[str, str]:
        received.append((request.headers.get("authorization", ""), await request.json()))
        return {"status": "ok"}

    settings = sandbox.settings()
    config = StorePosSettings.from_env(settings.env)
    pos = StorePos(config.url, config.client_key)
    with UvicornThread(receiver, bound_socket()) as server:
        await pos.subscribe(f"http://127.0.0.1:{server.port}/events", "our-token")
        await pos.create_pick_task(TASK)
        control = f"{sandbox.url}/_sandbox/pos/stores/STORE-BOS/pickups/shopify-5001"
        httpx.post(f"{control}/ready").raise_for_status()
        collect = {"lines": [{"line_id": "1", "quantity": 2}]}  # the customer takes one line
        httpx.post(f"{control}/collect", json=collect).raise_for_status()
        await eventually(lambda: len(received) == 2, what="both store events")
    assert {auth for auth, _ in received} == {"Bearer our-token"}
    ready, taken = (StoreEvent.model_validate(body) for _, body in received)
    assert ready.kind is StoreEventKind.READY_FOR_PICKUP and ready.order_key == "shopify-5001"
    assert taken.kind is StoreEventKind.PICKED_UP
    assert [(x.line_id, x.sku, x.quantity) for x in taken.lines] == [("1", "MUG-STONE-350", 2)]
    await pos.aclose()
