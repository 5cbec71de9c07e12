"""Temporal schedules the orchestrator runs (created once, left alone when they exist), and the
on-demand run of the stock reconciliation."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError

from canonical.reconciliation import ReconciliationReport
from infra.settings import Settings
from workflows.amazon_return_poll import AmazonReturnPollWorkflow
from workflows.inventory_reconciliation import InventoryReconciliationWorkflow, ReconcileInput
from workflows.walmart_poll import WalmartOrderPollWorkflow
from workflows.walmart_return_poll import WalmartReturnPollWorkflow

WALMART_POLL = "walmart-order-poll"
WALMART_RETURN_POLL = "walmart-return-poll"
AMAZON_RETURN_POLL = "amazon-return-poll"
INVENTORY_RECONCILE = "inventory-reconcile"


def _every(seconds: float, action: ScheduleActionStartWorkflow) -> Schedule:
    return Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=seconds))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    schedules = {}
    if settings.walmart_poll_seconds > 0:
        schedules[WALMART_POLL] = _every(
            settings.walmart_poll_seconds,
            ScheduleActionStartWorkflow(
                WalmartOrderPollWorkflow.run, id=WALMART_POLL, task_queue=settings.task_queue
            ),
        )
        schedules[WALMART_RETURN_POLL] = _every(
            settings.walmart_poll_seconds,
            ScheduleActionStartWorkflow(
                WalmartReturnPollWorkflow.run,
                id=WALMART_RETURN_POLL,
                task_queue=settings.task_queue,
            ),
        )
    if settings.amazon_returns_poll_minutes > 0:
        schedules[AMAZON_RETURN_POLL] = _every(
            settings.amazon_returns_poll_minutes * 60,
            ScheduleActionStartWorkflow(
                AmazonReturnPollWorkflow.run,
                id=AMAZON_RETURN_POLL,
                task_queue=settings.task_queue,
            ),
        )
    if settings.inventory_reconcile_minutes > 0:
        schedules[INVENTORY_RECONCILE] = _every(
            settings.inventory_reconcile_minutes * 60,
            ScheduleActionStartWorkflow(
                InventoryReconciliationWorkflow.run,
                _reconcile_input(settings),
                id=INVENTORY_RECONCILE,
                task_queue=settings.task_queue,
            ),
        )
    for schedule_id, schedule in schedules.items():
        with contextlib.suppress(ScheduleAlreadyRunningError):
            await client.create_schedule(schedule_id, schedule)


async def poll_channels_now(client: Client) -> None:
    """Run the Walmart and Amazon polls at once (those whose schedules exist)."""
    for schedule_id in (WALMART_POLL, WALMART_RETURN_POLL, AMAZON_RETURN_POLL):
        with contextlib.suppress(RPCError):  # not scheduled: WALMART_POLL_SECONDS=0
            await client.get_schedule_handle(schedule_id).trigger()


def _reconcile_input(settings: Settings) -> ReconcileInput:
    return ReconcileInput(settle=timedelta(minutes=settings.inventory_reconcile_settle_minutes))


async def reconcile_now(client: Client, settings: Settings) -> ReconciliationReport:
    """Run a reconciliation at once and wait for its report."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return await client.execute_workflow(
        InventoryReconciliationWorkflow.run,
        _reconcile_input(settings),
        id=f"{INVENTORY_RECONCILE}-now-{stamp}-{uuid.uuid4().hex[:6]}",
        task_queue=settings.task_queue,
    )
