"""Results of workflows a webhook starts in the background, after its answer."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.service import RPCError

from canonical import OrderView
from infra.order_client import order_handle


async def result_once_started(client: Client, workflow_id: str, timeout: float = 60) -> OrderView:
    handle = order_handle(client, workflow_id)
    async with asyncio.timeout(timeout):
        while True:
            try:
                return await handle.result()
            except RPCError:  # not started yet
                await asyncio.sleep(0.05)
