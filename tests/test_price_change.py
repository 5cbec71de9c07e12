"""A scheduled price (a sale) starts and ends at its moments: each moment's workflow waits on a
durable timer, then publishes the SKU's listing again (at the price then in force). On the
time-skipping server with fake catalogue activities."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.catalog import (
    ListingBatch,
    PendingListings,
    PriceChange,
    PriceChangeInput,
    PublicationPlan,
    PublicationRequest,
    price_change_workflow_id,
)
from canonical import Channel
from canonical.catalog import ListingOutcome, ListingState
from workflows.catalog_publish import CatalogPublishWorkflow
from workflows.price_change import PriceChangeWorkflow
from workflows.task_queues import catalog_task_queue


class FakeCatalog:
    def __init__(self) -> None:
        self.published: list[tuple[list[str], datetime]] = []  # SKUs, when (workflow time)

    @activity.defn(name="plan_publication")
    async def plan(self, request: PublicationRequest) -> PublicationPlan:
        return PublicationPlan(batches=[request.skus or []])

    @activity.defn(name="publish_listings")
    async def publish(self, batch: ListingBatch) -> list[ListingOutcome]:
        self.published.append((batch.skus, activity.info().scheduled_time))
        return [ListingOutcome(sku=s, state=ListingState.PUBLISHED) for s in batch.skus]

    @activity.defn(name="check_listings")
    async def check(self, pending: PendingListings) -> list[ListingOutcome]:
        return pending.pending


async def test_a_sale_is_published_when_it_starts_and_again_when_it_ends(
    time_env: WorkflowEnvironment,
) -> None:
    queue, fake = f"test-{uuid.uuid4()}", FakeCatalog()
    now = await time_env.get_current_time()
    start, end = now + timedelta(days=2), now + timedelta(days=5)
    client = time_env.client
    async with (
        Worker(client, task_queue=queue, workflows=[PriceChangeWorkflow, CatalogPublishWorkflow]),
        Worker(client, task_queue=catalog_task_queue(queue, Channel.AMAZON),
               activities=[fake.plan, fake.publish, fake.check]),
    ):  # fmt: skip
        handles = []
        for at in (start, end):
            change = PriceChange(sku="MUG-STONE-350", at=at)
            handles.append(
                await client.start_workflow(
                    PriceChangeWorkflow.run,
                    PriceChangeInput(channel=Channel.AMAZON, change=change),
                    id=price_change_workflow_id(Channel.AMAZON, change),
                    task_queue=queue,
                )
            )
        summaries = [await handle.result() for handle in handles]
    assert [s.published for s in summaries] == [1, 1]
    assert [skus for skus, _ in fake.published] == [["MUG-STONE-350"]] * 2
    (_, started), (_, ended) = fake.published
    assert start <= started < start + timedelta(minutes=1)
    assert end <= ended < end + timedelta(minutes=1)
    assert handles[0].id == f"price-change:amazon:MUG-STONE-350:{start:%Y%m%dT%H%M%SZ}"
