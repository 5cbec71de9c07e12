"""Temporal schedules the orchestrator runs (created once, left alone when they exist)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

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

from infra.settings import Settings
from workflows.walmart_poll import WalmartOrderPollWorkflow

WALMART_POLL = "walmart-order-poll"


async def ensure_schedules(client: Client, settings: Settings) -> None:
    if settings.walmart_poll_seconds <= 0:
        return
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WalmartOrderPollWorkflow.run, id=WALMART_POLL, task_queue=settings.task_queue
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.walmart_poll_seconds))]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(WALMART_POLL, schedule)
