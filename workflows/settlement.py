"""One channel settlement (`settlement:{channel}:{id}`), once however often it is imported:
its journal posted to the ERP (once: the ERP keys it by the settlement), its lines — kept in
the settlement store — matched to our orders in batches (lines of an order we do not know are
kept as unmatched, with why). A journal the ERP refuses waits for support (`settlement retry`)
with the ERP's reason; an ERP that is down is retried until it is back. Ends with the
settlement's summary."""

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.settlement import (
        OrderBatch,
        SettlementActivities,
        SettlementPostingActivities,
        SettlementRef,
    )
    from canonical.settlement import SettlementSummary
    from workflows.task_queues import erp_task_queue

BATCH = 200  # orders per matching activity: a few hundred describes, each well under a second
TIMEOUT = timedelta(minutes=5)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


class SettlementProgress(BaseModel):
    orders: int = 0
    matched: int = 0
    journal: str | None = None
    problem: str | None = None  # why the journal waits for support


@workflow.defn(versioning_behavior=VersioningBehavior.PINNED)  # minutes: stays on its build
class SettlementWorkflow:
    def __init__(self) -> None:
        self._progress = SettlementProgress()
        self._retry = False

    @workflow.query
    def progress(self) -> SettlementProgress:
        return self._progress

    @workflow.update
    def retry_posting(self, note: str) -> SettlementProgress:
        """Support fixed what the ERP refused (an account, a period): post again."""
        workflow.logger.info("posting retried: %s", note)
        self._retry = True
        return self._progress

    @retry_posting.validator
    def _validate_retry(self, note: str) -> None:
        if self._progress.problem is None:
            raise ValueError("the journal is not waiting: nothing to retry")

    @workflow.run
    async def run(self, ref: SettlementRef) -> SettlementSummary:
        self._progress.journal = await self._post(ref)
        order_ids = await workflow.execute_activity_method(
            SettlementActivities.settlement_orders,
            ref,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
        self._progress.orders = len(order_ids)
        for start in range(0, len(order_ids), BATCH):
            batch = OrderBatch(settlement=ref, order_ids=order_ids[start : start + BATCH])
            known = await workflow.execute_activity_method(
                SettlementActivities.match_orders,
                batch,
                start_to_close_timeout=TIMEOUT,
                retry_policy=RETRY,
            )
            self._progress.matched += len(known)
        return await workflow.execute_activity_method(
            SettlementActivities.settlement_summary,
            ref,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )

    async def _post(self, ref: SettlementRef) -> str:
        while True:
            try:
                return await workflow.execute_activity_method(
                    SettlementPostingActivities.post_settlement,
                    ref,
                    task_queue=erp_task_queue(workflow.info().task_queue),
                    start_to_close_timeout=TIMEOUT,
                    retry_policy=RETRY,
                )
            except ActivityError as err:
                cause = err.cause
                why = cause.message if isinstance(cause, ApplicationError) else str(cause)
                self._progress.problem = why
                workflow.logger.warning("%s waits for support: %s", ref.settlement_id, why)
                await workflow.wait_condition(lambda: self._retry)
                self._retry, self._progress.problem = False, None
