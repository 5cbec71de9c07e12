"""Stock reconciliation, run by a Temporal schedule (and `starter.py inventory reconcile
--now`): the WMS's and the ERP's counts against the inventory positions; drift is booked as
adjustments and the report kept (and returned). Where the ERP and the WMS disagree, the run
is marked `ExceptionCode = STOCK_DRIFT` (search attribute), lists the positions in its
details and logs a warning for each: ops find it beside the orders that need attention."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.erp import ErpActivities
    from activities.inventory import InventoryActivities, ReconcileRequest
    from activities.wms import WmsActivities
    from canonical import ExceptionCode
    from canonical.reconciliation import ReconciliationReport
    from workflows import search_attributes as sa
    from workflows.task_queues import erp_task_queue

T = TypeVar("T")


async def _call(fn: Callable[..., Awaitable[T]], *args: Any, task_queue: str | None = None) -> T:
    return await workflow.execute_activity_method(
        fn,
        args=list(args),
        task_queue=task_queue,
        start_to_close_timeout=timedelta(minutes=2),
        schedule_to_close_timeout=timedelta(minutes=30),
        retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
    )


class ReconcileInput(BaseModel):
    settle: timedelta = timedelta(minutes=10)
    publish_search_attributes: bool = True  # off on a test server without ours


@workflow.defn(versioning_behavior=VersioningBehavior.PINNED)  # minutes: stays on its build
class InventoryReconciliationWorkflow:
    @workflow.run
    async def run(self, input: ReconcileInput) -> ReconciliationReport:
        wms = await _call(WmsActivities.wms_stock_levels)
        known = await _call(InventoryActivities.inventory_skus)
        skus = sorted({level.sku for level in wms} | set(known))
        erp_queue = erp_task_queue(workflow.info().task_queue)
        erp = await _call(ErpActivities.erp_stock_levels, skus, task_queue=erp_queue)
        info = workflow.info()
        report = await _call(
            InventoryActivities.reconcile_inventory,
            ReconcileRequest(
                run_id=f"{info.workflow_id}:{info.run_id[:8]}",
                erp=erp,
                wms=wms,
                settle=input.settle,
                at=workflow.now(),
            ),
        )
        details = [f"{report.positions_checked} positions checked, {report.adjustments} adjusted"]
        for line in report.drift:
            workflow.logger.warning(
                "STOCK_DRIFT %s at %s: ERP %s, WMS %s, ours %s",
                line.sku, line.node, line.erp, line.wms, line.position,
            )  # fmt: skip
            details.append(
                f"⚠ STOCK_DRIFT {line.sku} at {line.node}: ERP {line.erp}, WMS {line.wms}"
            )
        if report.drift and input.publish_search_attributes:
            workflow.upsert_search_attributes(
                [sa.EXCEPTION_CODE.value_set(ExceptionCode.STOCK_DRIFT.value)]
            )
        workflow.set_current_details("\n\n".join(details))
        return report
