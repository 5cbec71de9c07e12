"""Temporal schedules the orchestrator runs (created once, left alone when they exist), and the
on-demand run of the stock reconciliation."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

from activities.catalog import PublicationRequest
from canonical import Channel
from canonical.reconciliation import ReconciliationReport
from canonical.settlement import PAYOUT_CHANNELS
from infra.settings import Settings
from workflows.amazon_return_poll import AmazonReturnPollWorkflow
from workflows.catalog_publish import CatalogPublication, CatalogPublishWorkflow
from workflows.inventory_reconciliation import InventoryReconciliationWorkflow, ReconcileInput
from workflows.settlement_import import SettlementImportWorkflow
from workflows.walmart_poll import WalmartOrderPollWorkflow
from workflows.walmart_return_poll import WalmartReturnPollWorkflow

WALMART_POLL = "walmart-order-poll"
WALMART_RETURN_POLL = "walmart-return-poll"
AMAZON_RETURN_POLL = "amazon-return-poll"
INVENTORY_RECONCILE = "inventory-reconcile"


def settlement_import_schedule(channel: Channel) -> str:
    return f"settlement-import-{channel.value}"


def catalog_publish_schedule(channel: Channel) -> str:
    return f"catalog-publish-{channel.value}"


def _every(seconds: float, schedule_id: str, run: Any, task_queue: str, *args: Any) -> Schedule:
    """Start `run` every `seconds` under `schedule_id`; a run still going is not doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(run, *args, id=schedule_id, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=seconds))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedules(client: Client, settings: Settings) -> None:
    queue = settings.task_queue
    polls: list[tuple[float, str, Any, tuple[Any, ...]]] = [
        (settings.walmart_poll_seconds, WALMART_POLL, WalmartOrderPollWorkflow.run, ()),
        (settings.walmart_poll_seconds, WALMART_RETURN_POLL, WalmartReturnPollWorkflow.run, ()),
        (
            settings.amazon_returns_poll_minutes * 60,
            AMAZON_RETURN_POLL,
            AmazonReturnPollWorkflow.run,
            (),
        ),
        (
            settings.inventory_reconcile_minutes * 60,
            INVENTORY_RECONCILE,
            InventoryReconciliationWorkflow.run,
            (_reconcile_input(settings),),
        ),
    ]
    polls += [
        (
            settings.settlement_import_minutes * 60,
            settlement_import_schedule(channel),
            SettlementImportWorkflow.run,
            (channel,),
        )
        for channel in PAYOUT_CHANNELS  # each gets its settlement import schedule
    ]
    polls += [
        (
            settings.catalog_publish_minutes * 60,
            catalog_publish_schedule(channel),
            CatalogPublishWorkflow.run,
            (CatalogPublication(request=PublicationRequest(channel=channel)),),
        )
        for channel in map(Channel, settings.catalog_channels)
    ]
    schedules = {
        schedule_id: _every(seconds, schedule_id, run, queue, *args)
        for seconds, schedule_id, run, args in polls
        if seconds > 0
    }
    for schedule_id, schedule in schedules.items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:  # made by an earlier start: as configured now
            await client.get_schedule_handle(schedule_id).update(_replacing(schedule))


def _replacing(schedule: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    return lambda _: ScheduleUpdate(schedule=schedule)


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
