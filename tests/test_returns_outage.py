"""A customer brings goods back to a store's counter while Temporal is down: the desk's events
are kept and answered 503 (never "unknown order"), and once Temporal is back the return runs
from them — refunded, credited, restocked. The chaos run lost such returns for good."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from canonical import OrderStatus, ReturnView
from cli.stack import DEV_SERVER_CONFIG
from inbox.store import Inbox, InboxStatus
from infra.processes import binary, free_port
from sandbox.shipstation import AutoShip
from services.orders import result_once_started
from testing.eventually import eventually
from testing.harness import completed_sandbox_order, order_harness
from tests.conftest import CONVERTER
from workflows.search_attributes import ALL


async def temporal_on(port: int, database: Path) -> WorkflowEnvironment:
    """A dev server on `port` keeping its state in `database`, so a restart finds it again."""
    return await WorkflowEnvironment.start_local(
        port=port,
        dev_server_existing_path=binary("temporal"),
        search_attributes=ALL,
        data_converter=CONVERTER,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=[*DEV_SERVER_CONFIG, "--db-filename", str(database)],
    )


@pytest.fixture
async def restartable(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    yield free_port(), tmp_path / "temporal.db"


async def test_a_counter_return_while_temporal_is_down_runs_once_it_is_back(
    restartable: tuple[int, Path],
) -> None:
    port, database = restartable
    temporal = await temporal_on(port, database)
    try:
        async with order_harness(
            temporal.client, autoship=AutoShip(after_seconds=0.2), INBOX_REDRIVE_SECONDS="0.3"
        ) as h:
            order, _ = await completed_sandbox_order(h, [("MUG-STONE-350", 1)])  # returnable
            (line,) = order.lines
            await temporal.shutdown()  # Temporal down
            parcel = httpx.post(
                f"{h.settings.sandbox_url}/_sandbox/returns/stores/STORE-BOS",
                json={
                    "order_key": order.key,
                    "lines": [{"line_id": line.line_id, "sku": line.sku, "quantity": 1}],
                    "reason": "changed mind",
                },
            ).json()
            inbox = Inbox.of(h.settings)

            def desk_events() -> dict[str, InboxStatus]:
                return {e.topic: e.status for e in inbox.latest(source="returns", limit=50)}

            # The counter's request is kept for later, not refused as an unknown order.
            await eventually(
                lambda: desk_events().get("requested") is InboxStatus.DEFERRED,
                what="the desk's request kept for later",
                timeout=30,
            )
            assert InboxStatus.REJECTED not in desk_events().values(), desk_events()

            temporal = await temporal_on(port, database)  # back, with the order it knew
            return_id = f"return:shopify:{order.external_id}:{parcel['return_id']}"
            result = await asyncio.wait_for(
                result_once_started(h.client, return_id, ReturnView), 90
            )
            assert result.status is OrderStatus.COMPLETED, result.timeline
            assert result.return_details is not None and result.return_details.credit_note
            await eventually(
                lambda: set(desk_events().values()) == {InboxStatus.ACCEPTED},
                what="every desk event accepted",
            )
    finally:
        await temporal.shutdown()
