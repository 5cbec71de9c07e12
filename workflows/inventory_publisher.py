"""One channel's inventory publisher: SKUs whose available-to-sell may have changed arrive by
signal. The publisher pushes in ticks at most an interval apart: a tick takes every pending
SKU, with the value true at push time, in as few calls as the channel's batch allows. So a
burst of changes is one push per SKU per interval, and a channel that sets many SKUs per call
gets one call per interval. The first change after a quiet spell goes out at once. Pushes run
on the channel's inventory queue, which holds them to the channel's rate limit. Long-lived:
continues as new when the history grows, carrying what is pending and what the channel holds."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.inventory_push import InventoryPushActivities, PushRequest, PushResult
    from canonical import Channel
    from workflows.task_queues import inventory_task_queue


class SkuChanges(BaseModel):
    skus: list[str]
    resync: bool = False  # push even what the channel should already hold


class PublisherInput(BaseModel):
    channel: Channel
    interval: timedelta = timedelta(seconds=0.6)
    batch_size: int = 1
    bulk_from: int = 0  # so many due SKUs go in one push (the channel's bulk path); 0: never
    # Carried over continue-as-new:
    pending: list[str] = []
    pending_since: dict[str, datetime] = {}  # when each pending SKU's change arrived
    last_tick: datetime | None = None
    channel_holds: dict[str, int] = {}
    pushes: dict[str, int] = {}
    failures: dict[str, str] = {}


class PublisherState(BaseModel):
    channel: Channel
    pending: list[str]
    in_flight: list[str]
    channel_holds: dict[str, int]
    pushes: dict[str, int]
    failures: dict[str, str]  # SKU -> why its last push failed (it is retried on next change)


def publisher_workflow_id(task_queue: str, channel: Channel | str) -> str:
    """One publisher per channel and deployment (its task queue)."""
    return f"inventory-publisher:{task_queue}:{Channel(channel).value}"


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class InventoryPublisherWorkflow:
    @workflow.init
    def __init__(self, input: PublisherInput) -> None:
        self._input = input
        self._pending: set[str] = set(input.pending)
        self._since = dict(input.pending_since)
        self._last_tick = input.last_tick
        self._holds = dict(input.channel_holds)
        self._pushes = dict(input.pushes)
        self._failures = dict(input.failures)
        self._in_flight: set[str] = set()
        self._woken = False
        self._tick_timer = False  # the loop sleeps until the next tick

    @workflow.signal
    def changed(self, changes: SkuChanges) -> None:
        self._pending.update(changes.skus)
        for sku in changes.skus:
            self._since.setdefault(sku, workflow.now())
        if changes.resync:
            for sku in changes.skus:
                self._holds.pop(sku, None)
        # While the loop sleeps until the next tick, the change waits for it: no need to wake.
        if not self._tick_timer:
            self._woken = True

    @workflow.query
    def state(self) -> PublisherState:
        return PublisherState(
            channel=self._input.channel,
            pending=sorted(self._pending),
            in_flight=sorted(self._in_flight),
            channel_holds=self._holds,
            pushes=self._pushes,
            failures=self._failures,
        )

    @workflow.run
    async def run(self, input: PublisherInput) -> None:
        pushes: set[asyncio.Task[None]] = set()
        while True:
            due = self._due()
            if due:
                self._last_tick = workflow.now()
                self._pending.difference_update(due)
                self._in_flight.update(due)
                size = max(1, input.batch_size)
                if input.bulk_from and len(due) >= input.bulk_from:
                    size = len(due)  # the channel's bulk path (Amazon's JSON_LISTINGS_FEED)
                for start in range(0, len(due), size):
                    task = asyncio.create_task(self._push(due[start : start + size]))
                    pushes.add(task)
                    task.add_done_callback(pushes.discard)
                continue
            if workflow.info().is_continue_as_new_suggested() and not self._in_flight:
                break
            self._woken = False
            timeout = self._next_due()
            self._tick_timer = timeout is not None
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._woken, timeout=timeout)
            self._tick_timer = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            PublisherInput(
                channel=input.channel,
                interval=input.interval,
                batch_size=input.batch_size,
                bulk_from=input.bulk_from,
                pending=sorted(self._pending),
                pending_since={s: t for s, t in self._since.items() if s in self._pending},
                last_tick=self._last_tick,
                channel_holds=self._holds,
                pushes=self._pushes,
                failures=self._failures,
            )
        )

    def _next_tick(self) -> datetime:
        return (self._last_tick or workflow.now()) + self._input.interval

    def _due(self) -> list[str]:
        """At a tick, every pending SKU not being pushed (one still in flight waits for the
        next tick); between ticks, none."""
        if self._last_tick is not None and workflow.now() < self._next_tick():
            return []
        return sorted(self._pending - self._in_flight)

    def _next_due(self) -> timedelta | None:
        if not self._pending - self._in_flight:
            return None  # nothing to push: sleep until a signal or a push ends
        return max(self._next_tick() - workflow.now(), timedelta(0))

    async def _push(self, skus: list[str]) -> None:
        try:
            result: PushResult = await workflow.execute_activity_method(
                InventoryPushActivities.push_available,
                PushRequest(
                    channel=self._input.channel,
                    skus=skus,
                    changed_at=min(
                        (self._since.pop(s) for s in skus if s in self._since), default=None
                    ),
                    last_pushed={s: self._holds[s] for s in skus if s in self._holds},
                ),
                task_queue=inventory_task_queue(workflow.info().task_queue, self._input.channel),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            )
            for sku in result.pushed:
                self._holds[sku] = result.values[sku]
                self._pushes[sku] = self._pushes.get(sku, 0) + 1
                self._failures.pop(sku, None)
            for sku in result.unlisted:
                self._failures[sku] = "not listed on the channel"
        except ActivityError as err:
            for sku in skus:
                self._failures[sku] = str(err.cause or err)
        finally:
            self._in_flight.difference_update(skus)
            self._woken = True
