"""One poll of Walmart's released orders, run by the `walmart-order-poll` schedule."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.polled_imports import PollActivities


@workflow.defn(versioning_behavior=VersioningBehavior.PINNED)  # minutes: stays on its build
class WalmartOrderPollWorkflow:
    @workflow.run
    async def run(self) -> list[str]:
        return await workflow.execute_activity_method(
            PollActivities.import_walmart_orders,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=5),
        )
