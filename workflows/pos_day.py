"""One store's business day: every sale the POS reports for that day is posted to the ERP
once (deduplicated on the POS transaction id), also when the store sends it late. The run
closes `late_grace` after the day ended; a sale later still starts a new run for the day, and
the ERP's upsert on the cash sale's external id keeps it single."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.erp import ErpActivities
    from canonical.pos import PosSale
    from workflows.queue_wait import only_waited
    from workflows.task_queues import erp_task_queue


class PosDayInput(BaseModel):
    store_id: str
    business_day: date
    late_grace: timedelta = timedelta(hours=48)
    posting_budget: timedelta = Field(
        default=timedelta(hours=1),
        description="How long failing calls to post a sale are retried; then it is kept failed",
    )


class PosDaySummary(BaseModel):
    store_id: str
    business_day: date
    received: int
    posted: dict[str, str]  # transaction id -> ERP cash sale id
    failed: dict[str, str]  # transaction id -> reason
    pending: int


def pos_day_workflow_id(store_id: str, business_day: date) -> str:
    return f"pos:{store_id}:{business_day.isoformat()}"


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class PosDayWorkflow:
    @workflow.init
    def __init__(self, input: PosDayInput) -> None:
        self._input = input
        self._seen: set[str] = set()
        self._pending: list[PosSale] = []
        self._posted: dict[str, str] = {}
        self._failed: dict[str, str] = {}

    @workflow.signal
    def sale_recorded(self, sale: PosSale) -> None:
        if sale.transaction_id not in self._seen:
            self._seen.add(sale.transaction_id)
            self._pending.append(sale)

    @workflow.query
    def summary(self) -> PosDaySummary:
        return PosDaySummary(
            store_id=self._input.store_id,
            business_day=self._input.business_day,
            received=len(self._seen),
            posted=self._posted,
            failed=self._failed,
            pending=len(self._pending),
        )

    @workflow.run
    async def run(self, input: PosDayInput) -> PosDaySummary:
        day_end = datetime.combine(input.business_day + timedelta(days=1), time.min, UTC)
        close_at = day_end + input.late_grace
        while True:
            while self._pending:
                await self._post(self._pending.pop(0))
            remaining = close_at - workflow.now()
            if remaining <= timedelta(0):
                break
            try:
                await workflow.wait_condition(lambda: bool(self._pending), timeout=remaining)
            except TimeoutError:
                continue
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.summary()

    async def _post(self, sale: PosSale) -> None:
        while True:
            try:
                ref = await workflow.execute_activity_method(
                    ErpActivities.post_cash_sale,
                    sale,
                    task_queue=erp_task_queue(workflow.info().task_queue),  # the ERP's quota
                    start_to_close_timeout=timedelta(seconds=30),
                    schedule_to_close_timeout=self._input.posting_budget,
                    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
                )
                self._posted[sale.transaction_id] = ref.erp_id
                return
            except ActivityError as err:
                # Behind the ERP's quota for the whole budget is a backlog: it waits on.
                if not only_waited(err):
                    # Kept with its reason (and raw in the inbox) for support; the day goes on.
                    self._failed[sale.transaction_id] = str(
                        getattr(err.cause, "message", err.cause)
                    )
                    return
