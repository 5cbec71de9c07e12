"""Tells each channel's inventory publisher which SKUs changed: signal-with-start, so the
publisher runs whenever there is something to publish. Calls that arrive within a short
window share one signal per channel (a burst of events is a handful of signals)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.client import Client

from canonical import Channel
from inventory.service import InventoryService
from inventory.store import Touched
from workflows.inventory_publisher import (
    InventoryPublisherWorkflow,
    PublisherInput,
    SkuChanges,
    publisher_workflow_id,
)

WINDOW = 0.2  # seconds a change waits for others to share its signal


class PublisherSignals:
    def __init__(
        self,
        client: Callable[[], Awaitable[Client]],
        service: InventoryService,
        task_queue: str,
        interval: timedelta,
        batch_sizes: dict[str, int],
        bulk_from: dict[str, int] | None = None,
    ) -> None:
        self._client = client
        self._service = service
        self._task_queue = task_queue
        self._interval = interval
        self._batch_sizes = batch_sizes
        self._bulk_from = bulk_from or {}  # a channel's bulk path, from so many SKUs at once
        self._pending: dict[str, set[str]] = defaultdict(set)
        self._resync: set[str] = set()
        self._flush: asyncio.Task[None] | None = None

    async def changed(self, touched: Touched, resync: bool = False) -> None:
        """Returns once the publishers concerned have the change (raises if Temporal could
        not be reached: the caller keeps its input for a retry)."""
        per_channel = await asyncio.to_thread(self._service.channels_for, touched)
        per_channel = {c: skus for c, skus in per_channel.items() if c in self._batch_sizes}
        if not per_channel:
            return
        for channel, skus in per_channel.items():
            self._pending[channel] |= skus
            if resync:
                self._resync.add(channel)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._send_after(WINDOW))
        await asyncio.shield(self._flush)

    async def _send_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        # From here on a new change starts the next signal instead of joining this one.
        self._flush = None
        pending, self._pending = self._pending, defaultdict(set)
        resync, self._resync = self._resync, set()
        client = await self._client()
        await asyncio.gather(
            *(
                client.start_workflow(
                    InventoryPublisherWorkflow.run,
                    PublisherInput(
                        channel=Channel(channel),
                        interval=self._interval,
                        batch_size=self._batch_sizes[channel],
                        bulk_from=self._bulk_from.get(channel, 0),
                    ),
                    id=publisher_workflow_id(self._task_queue, channel),
                    task_queue=self._task_queue,
                    start_signal="changed",
                    start_signal_args=[SkuChanges(skus=sorted(skus), resync=channel in resync)],
                )
                for channel, skus in pending.items()
            )
        )
