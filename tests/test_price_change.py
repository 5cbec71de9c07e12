"""A scheduled price (a sale) starts and ends at its moments: each moment's workflow waits on a
durable timer, then publishes the SKU's listing again (at the price then in force); a feed the
channel answers for later is asked about on a backing-off timer. On the time-skipping server
with fake catalogue activities."""

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
from workflows.catalog_publish import CatalogPublication, CatalogPublishWorkflow
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


class SlowFeed(FakeCatalog):
    """A channel that takes its feed and answers for each listing hours later: one published
    after an hour, one refused after two, one never within the checks."""

    def __init__(self, sent: datetime) -> None:
        super().__init__()
        self.sent = sent
        self.checks: list[timedelta] = []  # after the feed was sent

    @activity.defn(name="publish_listings")
    async def publish(self, batch: ListingBatch) -> list[ListingOutcome]:
        return [ListingOutcome(sku=s, state=ListingState.PENDING) for s in batch.skus]

    @activity.defn(name="check_listings")
    async def check(self, pending: PendingListings) -> list[ListingOutcome]:
        after = activity.info().scheduled_time - self.sent
        self.checks.append(after)
        answers = {"A": (timedelta(hours=1), ListingState.PUBLISHED),
                   "B": (timedelta(hours=2), ListingState.FAILED)}  # fmt: skip
        return [
            o.model_copy(update={"state": answers[o.sku][1], "message": "DATA_ERROR"})
            if o.sku in answers and after >= answers[o.sku][0]
            else o
            for o in pending.pending
        ]


async def test_a_feed_is_asked_about_on_a_backing_off_timer_until_the_checks_run_out(
    time_env: WorkflowEnvironment,
) -> None:
    queue = f"test-{uuid.uuid4()}"
    fake = SlowFeed(await time_env.get_current_time())
    client = time_env.client
    async with (
        Worker(client, task_queue=queue, workflows=[CatalogPublishWorkflow]),
        Worker(client, task_queue=catalog_task_queue(queue, Channel.WALMART),
               activities=[fake.plan, fake.publish, fake.check]),
    ):  # fmt: skip
        summary = await client.execute_workflow(
            CatalogPublishWorkflow.run,
            CatalogPublication(
                request=PublicationRequest(channel=Channel.WALMART, skus=["A", "B", "C"]),
                first_check=timedelta(minutes=1),
                last_check=timedelta(hours=4),
            ),
            id=f"catalog-publish-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
    minutes = [round(c.total_seconds() / 60) for c in fake.checks]
    assert minutes == [1, 3, 7, 15, 31, 63, 127, 255]  # 1, 2, 4, … minutes apart
    assert (summary.sent, summary.published, summary.failed, summary.pending) == (3, 1, 1, 1)
    assert summary.exceptions == {"B": "DATA_ERROR"}
