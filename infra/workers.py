"""The worker's registrations, in one place for `worker.py` and the in-process harness."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from activities.order_to_cash import order_activities
from activities.walmart_import import WalmartImportActivities
from adapters.registry import Adapters
from inbox.database import engine_for
from inbox.store import Inbox
from infra.settings import Settings
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.pos_day import PosDayWorkflow
from workflows.walmart_poll import WalmartOrderPollWorkflow


def build_worker(client: Client, settings: Settings, adapters: Adapters) -> Worker:
    walmart = WalmartImportActivities(
        adapters.walmart, client, settings, Inbox(engine_for(settings.database_url))
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[OrderToCashWorkflow, PosDayWorkflow, WalmartOrderPollWorkflow],
        activities=[*order_activities(adapters), walmart.import_walmart_orders],
    )
