"""Drift between the ERP and the WMS (a shipment the ERP never delivered, a count in one
system only) is an exception ops can see: the reconciliation run carries
`ExceptionCode = STOCK_DRIFT`, lists the positions in its details and logs each one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity
from temporalio.common import WorkerDeploymentVersion
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.inventory import ReconcileRequest
from canonical import StockLevel
from canonical.reconciliation import DriftLine, ReconciliationReport
from infra.settings import Settings
from services.deployment import make_current
from workflows import search_attributes as sa
from workflows.inventory_reconciliation import InventoryReconciliationWorkflow, ReconcileInput
from workflows.task_queues import erp_task_queue


class Counts:
    """The three systems' counts of one SKU at the east warehouse."""

    def __init__(self, ours: int, wms: int, erp: int) -> None:
        self.ours, self.wms, self.erp = ours, wms, erp

    @activity.defn(name="wms_stock_levels")
    async def wms_stock_levels(self) -> list[StockLevel]:
        return [StockLevel(sku="MUG", warehouse="101", on_hand=self.wms, forecast=self.wms)]

    @activity.defn(name="inventory_skus")
    async def inventory_skus(self) -> list[str]:
        return ["MUG"]

    @activity.defn(name="erp_stock_levels")
    async def erp_stock_levels(self, skus: list[str]) -> list[StockLevel]:
        return [StockLevel(sku="MUG", warehouse="3", on_hand=self.erp, forecast=self.erp)]

    @activity.defn(name="reconcile_inventory")
    async def reconcile_inventory(self, request: ReconcileRequest) -> ReconciliationReport:
        line = DriftLine(
            sku="MUG", node="EAST", position=self.ours, erp=self.erp, wms=self.wms, truth="wms",
            delta=self.wms - self.ours, booked=self.wms != self.ours,
        )  # fmt: skip
        changed = self.wms != self.ours or self.erp != self.wms
        return ReconciliationReport(
            run_id=request.run_id, at=datetime.now(UTC), positions_checked=1,
            adjustments=int(self.wms != self.ours), units_adjusted=self.wms - self.ours,
            lines=[line] if changed else [],
        )  # fmt: skip


async def reconcile(
    env: WorkflowEnvironment, counts: Counts
) -> tuple[str | None, ReconciliationReport]:
    """Run one reconciliation on a build of its own (the type is pinned, so its workers are
    versioned); its ExceptionCode search attribute and its report."""
    queue = f"reconcile-{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env({"WORKER_DEPLOYMENT_NAME": queue, "WORKER_BUILD_ID": "b1"})
    version = WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(queue, "b1"), use_worker_versioning=True
    )
    acts: list[Callable[..., Any]] = [
        counts.wms_stock_levels, counts.inventory_skus, counts.erp_stock_levels,
        counts.reconcile_inventory,
    ]  # fmt: skip
    workers = [
        Worker(env.client, task_queue=queue, workflows=[InventoryReconciliationWorkflow],
               activities=acts, deployment_config=version),
        Worker(env.client, task_queue=erp_task_queue(queue), activities=acts,
               deployment_config=version),
    ]  # fmt: skip
    async with workers[0], workers[1]:
        await make_current(env.client, settings)
        handle = await env.client.start_workflow(
            InventoryReconciliationWorkflow.run,
            ReconcileInput(),
            id=f"reconcile-{uuid.uuid4()}",
            task_queue=queue,
        )
        report = await handle.result()
    described = await handle.describe()
    return described.typed_search_attributes.get(sa.EXCEPTION_CODE), report


async def test_erp_and_wms_apart_is_an_exception_on_the_run(
    dev_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    code, report = await reconcile(dev_env, Counts(ours=7, wms=7, erp=9))
    assert code == "STOCK_DRIFT"
    assert "STOCK_DRIFT MUG at EAST: ERP 9, WMS 7, ours 7" in caplog.text
    assert "STOCK_DRIFT: ERP and WMS disagree on 1 position(s)" in report.render()


async def test_our_own_drift_alone_is_booked_not_raised(dev_env: WorkflowEnvironment) -> None:
    code, _ = await reconcile(dev_env, Counts(ours=5, wms=7, erp=7))
    assert code is None
