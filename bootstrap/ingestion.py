"""Wires the ingest service: one handler per source, the inbox, a lazily connected Temporal
client. The webhooks app and `starter.py inbox replay` build the same."""

from __future__ import annotations

from functools import partial

from temporalio.client import Client

from adapters.amazon import return_from_amazon_rows
from adapters.registry import Adapters
from adapters.walmart import order_from_walmart, returns_from_walmart
from bootstrap.inventory import open_inventory, publisher_signals
from inbox.keys import AMAZON_RETURN, WALMART_PO, WALMART_RETURN
from inbox.store import Inbox
from inbox.writer import InboxWriter
from infra.settings import Settings
from ingest import amazon, dropship, inventory, pos, returns, shopify, store, wms
from ingest.dispatcher import ANY_TOPIC, Dispatcher
from ingest.polled import Polled, order_starter
from ingest.returns import returns_started
from ingest.temporal_link import TemporalLink


def build_dispatcher(
    settings: Settings, inbox: Inbox, temporal: TemporalLink, adapters: Adapters
) -> Dispatcher:
    service = open_inventory(settings)
    booking = inventory.InventoryBooking(
        service, publisher_signals(temporal.client, service, settings, adapters)
    )
    start_returns = partial(returns_started, temporal, settings)
    return Dispatcher(
        InboxWriter(inbox),
        {
            (shopify.SOURCE, ANY_TOPIC): shopify.ShopifyTopics(temporal, settings),
            (wms.SOURCE, ANY_TOPIC): wms.WmsNotifications(adapters.wms, temporal),
            (amazon.SOURCE, ANY_TOPIC): amazon.AmazonNotifications(
                adapters.amazon, temporal, settings
            ),
            WALMART_PO: Polled(order_from_walmart, order_starter(temporal, settings)),
            WALMART_RETURN: Polled(returns_from_walmart, start_returns),
            AMAZON_RETURN: Polled(lambda rows: [return_from_amazon_rows(rows)], start_returns),
            (pos.SOURCE, ANY_TOPIC): pos.PosSales(temporal, settings, booking),
            (inventory.SOURCE, ANY_TOPIC): inventory.InventoryEvents(booking),
            (store.SOURCE, ANY_TOPIC): store.StoreEvents(temporal),
            (dropship.SOURCE, ANY_TOPIC): dropship.SupplierEvents(temporal),
            (returns.SOURCE, ANY_TOPIC): returns.ReturnDeskEvents(temporal, settings),
        },
    )


def ingestion(settings: Settings, adapters: Adapters, client: Client | None = None) -> Dispatcher:
    """The ingest service of a process, on the settings' inbox, and on `client` or a Temporal
    connection made when first needed."""
    inbox = Inbox.of(settings)
    return build_dispatcher(settings, inbox, TemporalLink(settings, client), adapters)
