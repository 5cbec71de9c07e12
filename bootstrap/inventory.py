"""Opens the inventory service for a process: its database migrated, the network file applied,
and the publisher signals bound to a Temporal client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.client import Client

from adapters.registry import Adapters
from infra.settings import Settings
from inventory.database import inventory_engine
from inventory.network import configured_network
from inventory.service import InventoryService
from inventory.store import InventoryStore
from services.publication import PublisherSignals


def open_inventory(settings: Settings) -> InventoryService:
    store = InventoryStore(inventory_engine(settings.inventory_database_url))
    store.apply_network(configured_network(settings.inventory_network, settings.erp))
    return InventoryService(store)


def publisher_signals(
    client: Callable[[], Awaitable[Client]],
    service: InventoryService,
    settings: Settings,
    adapters: Adapters,
) -> PublisherSignals:
    return PublisherSignals(
        client,
        service,
        settings.task_queue,
        timedelta(seconds=settings.inventory_push_interval_seconds),
        {c.value: m.inventory_batch for c, m in adapters.marketplaces.items()},
        {c.value: m.inventory_bulk_from for c, m in adapters.marketplaces.items()},
    )
