"""A moment a SKU's price changes on a channel — a scheduled price (a sale) starting or ending
in the ERP's price list: a durable timer until then, then the SKU's listing published again,
at the price then in force. One workflow per channel, SKU and moment
(`price-change:{channel}:{sku}:{moment}`), started by the publication that found it."""

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.catalog import PriceChangeInput, PublicationRequest
    from workflows.catalog_publish import (
        CatalogPublication,
        CatalogPublishWorkflow,
        PublicationSummary,
    )


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class PriceChangeWorkflow:
    @workflow.run
    async def run(self, input: PriceChangeInput) -> PublicationSummary:
        wait = input.change.at - workflow.now()
        if wait.total_seconds() > 0:
            await workflow.sleep(wait)
        request = PublicationRequest(
            channel=input.channel, skus=[input.change.sku], as_of=input.change.at
        )
        return await workflow.execute_child_workflow(
            CatalogPublishWorkflow.run,
            CatalogPublication(request=request, first_check=input.first_check),
            id=f"{workflow.info().workflow_id}:publish",
        )
