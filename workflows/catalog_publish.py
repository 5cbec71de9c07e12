"""One publication of the catalogue to a channel, by its `catalog-publish-{channel}` schedule
or `starter.py catalog publish CHANNEL --now`: what changed in the ERP since the last one is
sent in batches on the channel's catalogue queue; listings the channel answers later (Amazon's
issues, Walmart's feeds) are asked about again on a backing-off timer until it has answered.
Ends with what it did."""

import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.catalog import (
        CatalogActivities,
        ListingBatch,
        PendingListings,
        PriceChangeInput,
        PublicationRequest,
        price_change_workflow_id,
    )
    from canonical.catalog import ListingOutcome, ListingState
    from workflows.task_queues import catalog_task_queue

RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
SHOWN = 50  # listing exceptions a summary names (all are in `catalog status --failed`)
A = TypeVar("A")
T = TypeVar("T")


class PublicationSummary(BaseModel):
    sent: int = 0
    published: int = 0
    failed: int = 0  # refused by the channel or before sending: listing exceptions
    pending: int = 0  # the channel had not answered when the checks ran out
    unchanged: int = 0
    exceptions: dict[str, str] = Field(
        default_factory=dict, description=f"SKU -> why (the first {SHOWN})"
    )


class CatalogPublication(BaseModel):
    request: PublicationRequest
    first_check: timedelta = timedelta(seconds=30)  # then doubling
    last_check: timedelta = timedelta(hours=6)  # give up asking after this long


@workflow.defn(versioning_behavior=VersioningBehavior.PINNED)  # minutes to hours: its build
class CatalogPublishWorkflow:
    def __init__(self) -> None:
        self._summary = PublicationSummary()

    @workflow.query
    def progress(self) -> PublicationSummary:
        return self._summary

    @workflow.run
    async def run(self, publication: CatalogPublication) -> PublicationSummary:
        request = publication.request
        queue = catalog_task_queue(workflow.info().task_queue, request.channel)
        plan = await _on(queue, CatalogActivities.plan_publication, request)
        summary = self._summary
        summary.unchanged = plan.unchanged
        self._failed(plan.refused)
        for change in plan.price_changes:  # each published again when it comes
            await self._price_change_at(
                PriceChangeInput(
                    channel=request.channel, change=change, first_check=publication.first_check
                )
            )
        pending: list[ListingOutcome] = []
        for skus in plan.batches:
            batch = ListingBatch(channel=request.channel, skus=skus, as_of=request.as_of)
            outcomes = await _on(queue, CatalogActivities.publish_listings, batch)
            summary.sent += len(outcomes)
            self._count(outcomes)
            pending += [o for o in outcomes if o.state is ListingState.PENDING]
        wait, waited = publication.first_check, timedelta(0)
        while pending and waited < publication.last_check:
            await workflow.sleep(wait)
            waited += wait
            asked = PendingListings(channel=request.channel, pending=pending)
            answered = await _on(queue, CatalogActivities.check_listings, asked)
            self._count(answered)
            pending = [o for o in answered if o.state is ListingState.PENDING]
            wait *= 2
        summary.pending = len(pending)
        return summary

    async def _price_change_at(self, change: PriceChangeInput) -> None:
        """Its timer's workflow, once however often publications find the change."""
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                "PriceChangeWorkflow",  # by name: it runs this workflow when its time comes
                change,
                id=price_change_workflow_id(change.channel, change.change),
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )

    def _count(self, outcomes: list[ListingOutcome]) -> None:
        self._summary.published += sum(o.state is ListingState.PUBLISHED for o in outcomes)
        self._failed({o.sku: o.message for o in outcomes if o.state is ListingState.FAILED})

    def _failed(self, exceptions: dict[str, str]) -> None:
        """Listing exceptions: counted, the first named, and shown in the Temporal UI."""
        summary = self._summary
        summary.failed += len(exceptions)
        room = SHOWN - len(summary.exceptions)
        summary.exceptions |= dict(list(exceptions.items())[: max(room, 0)])
        if exceptions:
            lines = [f"**{summary.failed} listing exception(s)**"]
            lines += [f"- `{sku}`: {why}" for sku, why in summary.exceptions.items()]
            workflow.set_current_details("\n".join(lines))


async def _on(queue: str, activity: Callable[[Any, A], Awaitable[T]], arg: A) -> T:
    """A catalogue activity on the channel's catalogue queue."""
    return await workflow.execute_activity_method(
        activity, arg, task_queue=queue, start_to_close_timeout=timedelta(minutes=10),
        retry_policy=RETRY,
    )  # fmt: skip
