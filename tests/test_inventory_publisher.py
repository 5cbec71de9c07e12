"""The publisher workflow on the time-skipping server: bursts coalesce to one push per SKU per
interval, with the value true at push time, SKUs of a tick in one call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.inventory_push import PushRequest, PushResult
from canonical import Channel
from workflows.inventory_publisher import (
    InventoryPublisherWorkflow,
    PublisherInput,
    SkuChanges,
    publisher_workflow_id,
)
from workflows.task_queues import inventory_task_queue

INTERVAL = timedelta(seconds=30)


class FakeChannel:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}  # what the inventory service would answer now
        self.pushes: list[dict[str, int]] = []  # what reached the channel, call by call

    @activity.defn(name="push_available")
    async def push_available(self, request: PushRequest) -> PushResult:
        values = {sku: self.values[sku] for sku in request.skus}
        changed = {s: q for s, q in values.items() if request.last_pushed.get(s) != q}
        if changed:
            self.pushes.append(changed)
        return PushResult(values=values, pushed=list(changed))

    def count(self, sku: str) -> int:
        return sum(sku in push for push in self.pushes)


async def test_a_burst_is_one_push_per_sku_per_interval(time_env: WorkflowEnvironment) -> None:
    channel, task_queue = FakeChannel(), f"test-{uuid.uuid4()}"
    client = time_env.client
    input = PublisherInput(channel=Channel.SHOPIFY, interval=INTERVAL, batch_size=10)
    async with serving(time_env, channel, task_queue):
        channel.values = {"A": 10, "B": 5}
        await signal(client, task_queue, input, "A")
        await settled(time_env, task_queue)
        assert channel.pushes == [{"A": 10}]  # the first change goes out at once
        for left in range(9, 0, -1):  # a burst within the interval
            channel.values["A"] = left
            await signal(client, task_queue, input, "A")
        await signal(client, task_queue, input, "B")
        await settled(time_env, task_queue)
        assert channel.pushes == [{"A": 10}]  # nothing more before the next tick
        await time_env.sleep(INTERVAL)
        await settled(time_env, task_queue)
        assert channel.pushes == [{"A": 10}, {"A": 1, "B": 5}]  # the latest, in one call
        await signal(client, task_queue, input, "A")  # nothing changed since: no call
        await time_env.sleep(INTERVAL)
        await settled(time_env, task_queue)
        assert channel.count("A") == 2
        handle = client.get_workflow_handle(publisher_workflow_id(task_queue, Channel.SHOPIFY))
        state = await handle.query(InventoryPublisherWorkflow.state)
        assert state.pushes == {"A": 2, "B": 1} and state.channel_holds == {"A": 1, "B": 5}
        assert state.pending == []
        await handle.terminate()


async def test_so_many_skus_at_once_go_in_one_bulk_push(time_env: WorkflowEnvironment) -> None:
    """A channel that sets one SKU a call but has a bulk path (Amazon's feed): a tick with
    `bulk_from` SKUs or more pushes them all in one call, a smaller one SKU by SKU."""
    channel, task_queue = FakeChannel(), f"test-{uuid.uuid4()}"
    input = PublisherInput(channel=Channel.SHOPIFY, interval=INTERVAL, bulk_from=3)
    channel.values = {sku: 1 for sku in "ABCDEF"}
    async with serving(time_env, channel, task_queue):
        await signal(time_env.client, task_queue, input, "A")
        await signal(time_env.client, task_queue, input, "B", "C", "D")
        await time_env.sleep(INTERVAL)
        await settled(time_env, task_queue)
        await signal(time_env.client, task_queue, input, "E", "F")
        await time_env.sleep(INTERVAL)
        await settled(time_env, task_queue)
        await time_env.client.get_workflow_handle(
            publisher_workflow_id(task_queue, Channel.SHOPIFY)
        ).terminate()
    assert channel.pushes[:2] == [{"A": 1}, {"B": 1, "C": 1, "D": 1}]
    assert sorted(map(sorted, channel.pushes[2:])) == [["E"], ["F"]]


@asynccontextmanager
async def serving(
    env: WorkflowEnvironment, channel: FakeChannel, task_queue: str
) -> AsyncIterator[None]:
    """The publisher's worker and the channel's inventory queue, served by `channel`."""
    async with (
        Worker(env.client, task_queue=task_queue, workflows=[InventoryPublisherWorkflow]),
        Worker(
            env.client,
            task_queue=inventory_task_queue(task_queue, Channel.SHOPIFY),
            activities=[channel.push_available],
        ),
    ):
        yield


async def signal(client: Client, task_queue: str, input: PublisherInput, *skus: str) -> None:
    """The publisher told these SKUs changed (started with `input` when not running)."""
    await client.start_workflow(
        InventoryPublisherWorkflow.run,
        input,
        id=publisher_workflow_id(task_queue, input.channel),
        task_queue=task_queue,
        start_signal="changed",
        start_signal_args=[SkuChanges(skus=list(skus))],
    )


async def settled(env: WorkflowEnvironment, task_queue: str) -> None:
    """Every push the publisher started has ended."""
    handle = env.client.get_workflow_handle(publisher_workflow_id(task_queue, Channel.SHOPIFY))
    for _ in range(200):
        state = await handle.query(InventoryPublisherWorkflow.state)
        if not state.in_flight:
            return
        await env.sleep(timedelta(milliseconds=50))
    raise AssertionError("a push never ended")
