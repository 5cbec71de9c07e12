"""The workers of a process and what they serve, for `worker.py` and the in-process harness."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.catalog import CatalogActivities
from activities.channel import ChannelActivities
from activities.erp import ErpActivities
from activities.inventory import InventoryActivities
from activities.inventory_push import InventoryPushActivities
from activities.order_to_cash import order_activities
from activities.polled_imports import PollActivities
from activities.privacy import PrivacyActivities
from activities.returns import ReturnLedgerActivities
from activities.settlement import SettlementActivities, SettlementPostingActivities
from adapters.registry import Adapters
from adapters.shopify import privacy_subject
from bootstrap.catalog import catalog_channels, catalog_mappings
from bootstrap.erp_queue import erp_queue_gauges
from bootstrap.ingestion import ingestion
from bootstrap.inventory import open_inventory, publisher_signals
from bootstrap.settlements import settlement_accounts
from canonical import Channel
from catalog.store import ListingStore
from inbox.store import Inbox
from infra.settings import Settings
from ingest.dispatcher import Dispatcher
from inventory.erp_locations import ErpLocations
from privacy.log import PrivacyLog
from returns.ledger import ReturnLedger
from settlements.store import SettlementStore
from workflows.all import RUNNER, WORKFLOWS
from workflows.task_queues import (
    catalog_task_queue,
    channel_task_queue,
    erp_task_queue,
    inventory_task_queue,
)


async def _ready(client: Client) -> Client:
    return client


@contextlib.asynccontextmanager
async def running_workers(
    client: Client, settings: Settings, adapters: Adapters
) -> AsyncIterator[None]:
    """Every worker of the process, running until the block ends (each shuts down gracefully,
    letting its activities finish)."""
    intake = ingestion(settings, adapters, client)
    try:
        async with contextlib.AsyncExitStack() as running:
            for worker in build_workers(client, settings, adapters, intake):
                await running.enter_async_context(worker)
            await running.enter_async_context(
                erp_queue_gauges(client, erp_task_queue(settings.task_queue))
            )
            yield
    finally:
        await intake.drain()


def build_workers(
    client: Client, settings: Settings, adapters: Adapters, intake: Dispatcher
) -> list[Worker]:
    """The main worker; the ERP's, held to the ERP's quota; per channel one for its order
    calls and one for its availability pushes, each held to that API's rate. Polls hand what
    they find to `intake`, the ingest service."""
    # Worker Versioning: every worker of the process is this build of the deployment.
    version = WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.worker_deployment_name, settings.worker_build_id),
        use_worker_versioning=True,
    )
    polls = PollActivities(
        adapters.walmart,
        adapters.amazon,
        intake,
        timedelta(days=settings.amazon_returns_lookback_days),
    )
    service = open_inventory(settings)
    inventory = InventoryActivities(
        service, publisher_signals(lambda: _ready(client), service, settings, adapters)
    )
    return_ledger = ReturnLedger.open(settings.database_url)
    ledger = ReturnLedgerActivities(return_ledger)
    settlement_store = SettlementStore.open(settings.database_url)
    settlements = SettlementActivities(
        adapters.settlement_source,
        settlement_store,
        return_ledger.returns_of,
        timedelta(days=settings.settlement_lookback_days),
        settings.settlement_tolerance_minor_units,
    )
    privacy = PrivacyActivities(
        Inbox.of(settings),
        settings.customer_keys,
        adapters.erp,
        PrivacyLog.open(settings.database_url),
        {Channel.SHOPIFY: privacy_subject},
    )
    main = Worker(
        client,
        deployment_config=version,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=RUNNER,
        activities=[
            *order_activities(adapters, inventory),
            polls.import_walmart_orders,
            polls.import_walmart_returns,
            polls.import_amazon_returns,
            ledger.claim_return,
            ledger.release_return,
            *settlements.activities(),
            *privacy.activities(),
        ],
    )
    erp = ErpActivities(adapters.erp, ErpLocations(service.store))
    posting = SettlementPostingActivities(
        adapters.erp, settlement_store, settlement_accounts(settings).accounts
    )
    # At most `erp_max_concurrent_calls` at once in this worker, and `erp_calls_per_second`
    # for all workers together (the server enforces the rate per task queue).
    erp_worker = Worker(
        client,
        deployment_config=version,
        task_queue=erp_task_queue(settings.task_queue),
        activities=[*erp.activities(), posting.post_settlement],
        max_concurrent_activities=settings.erp_max_concurrent_calls,
        max_task_queue_activities_per_second=settings.erp_calls_per_second,
    )

    def queue(name: str, activities: list[Callable[..., Any]], **limits: Any) -> Worker:
        return Worker(
            client, deployment_config=version, task_queue=name, activities=activities, **limits
        )

    base = settings.task_queue
    channel = ChannelActivities(adapters.marketplace)
    per_channel = [
        queue(channel_task_queue(base, name), channel.activities(),
              max_task_queue_activities_per_second=rate)
        for name, rate in settings.channel_calls_per_second.items()
    ]  # fmt: skip
    push = InventoryPushActivities(service, adapters.marketplace)
    per_channel_inventory = [
        queue(inventory_task_queue(base, name), [push.push_available],
              max_task_queue_activities_per_second=rate)
        for name, rate in settings.inventory_calls_per_second.items()
    ]  # fmt: skip
    listings = CatalogActivities(
        adapters.catalog,
        adapters.listing,
        ListingStore.open(settings.database_url),
        catalog_mappings(settings),
    )
    per_channel_catalog = [  # a channel's catalogue calls one after the other
        queue(catalog_task_queue(base, name), listings.activities(), max_concurrent_activities=1)
        for name in catalog_channels(settings)
    ]
    return [main, erp_worker, *per_channel, *per_channel_inventory, *per_channel_catalog]
