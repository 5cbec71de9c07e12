"""The webhooks FastAPI app: `GET /healthz`, OpenAPI at `/docs` and `/openapi.json`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from adapters.errors import PartnerError
from adapters.registry import Adapters, build_adapters
from adapters.returns_desk import ReturnsDesk
from adapters.shipbob import SUPPLIER_TOPICS, ShipBobDropShip
from adapters.shipstation import ShipStationWms
from adapters.store_pos import StorePos
from inbox.database import engine_for
from inbox.store import Inbox
from inbox.writer import InboxWriter
from infra.inventory import open_inventory, publisher_signals
from infra.settings import Settings
from webhooks import amazon, dropship, inventory, pos, returns, shopify, store, wms
from webhooks.dispatcher import Dispatcher
from webhooks.temporal_link import TemporalLink

log = logging.getLogger("webhooks")


async def _subscribe(partner: str, subscribe: Callable[[], Awaitable[None]]) -> None:
    """Register our receiver with a partner that pushes events, retrying until it answers."""
    for attempt in range(60):
        try:
            await subscribe()
            return
        except PartnerError as exc:
            log.warning(
                "%s webhook subscription failed (attempt %d): %s", partner, attempt + 1, exc
            )
            await asyncio.sleep(min(2**attempt, 30))


def build_dispatcher(
    settings: Settings, inbox: Inbox, temporal: TemporalLink, adapters: Adapters
) -> Dispatcher:
    """The handlers per source; `starter.py inbox replay` builds the same."""
    service = open_inventory(settings)
    booking = inventory.InventoryBooking(
        service, publisher_signals(temporal.client, service, settings, adapters)
    )
    return Dispatcher(
        InboxWriter(inbox),
        {
            shopify.SOURCE: shopify.ShopifyTopics(temporal, settings),
            wms.SOURCE: wms.WmsNotifications(adapters.wms, temporal),
            amazon.SOURCE: amazon.AmazonNotifications(adapters.amazon, temporal, settings),
            pos.SOURCE: pos.PosSales(temporal, settings, booking),
            inventory.SOURCE: inventory.InventoryEvents(booking),
            store.SOURCE: store.StoreEvents(temporal),
            dropship.SOURCE: dropship.SupplierEvents(temporal),
            returns.SOURCE: returns.ReturnDeskEvents(temporal, settings),
        },
    )


def create_app(settings: Settings) -> FastAPI:
    adapters = build_adapters(settings)
    temporal = TemporalLink(settings)
    inbox = Inbox(engine_for(settings.database_url))
    dispatcher = build_dispatcher(settings, inbox, temporal, adapters)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(dispatcher.redrive_forever(settings.inbox_redrive_seconds))]
        public = settings.webhooks_public_url
        if isinstance(adapters.wms, ShipStationWms):
            wms_target = f"{public}/webhooks/wms?token={settings.wms_webhook_token}"
            subscribe_wms = partial(adapters.wms.subscribe, wms_target)
            tasks.append(asyncio.create_task(_subscribe("WMS", subscribe_wms)))
        if isinstance(adapters.stores, StorePos):
            subscribe_pos = partial(
                adapters.stores.subscribe, f"{public}/webhooks/store", settings.pos_api_key
            )
            tasks.append(asyncio.create_task(_subscribe("POS", subscribe_pos)))
        desk = ReturnsDesk(settings.returns_desk_url, settings.returns_desk_key)
        subscribe_desk = partial(
            desk.subscribe, f"{public}/webhooks/returns", settings.returns_api_key
        )
        tasks.append(asyncio.create_task(_subscribe("returns desk", subscribe_desk)))
        if isinstance(adapters.supplier, ShipBobDropShip):
            subscribe_supplier = partial(
                adapters.supplier.subscribe, f"{public}/webhooks/dropship", SUPPLIER_TOPICS
            )
            tasks.append(asyncio.create_task(_subscribe("supplier", subscribe_supplier)))
        yield
        await dispatcher.drain()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await adapters.aclose()
        await desk.aclose()

    app = FastAPI(title="Retail orchestrator webhooks", lifespan=lifespan)
    app.include_router(shopify.router(dispatcher, settings.shopify_webhook_secrets))
    app.include_router(wms.router(dispatcher, settings.wms_webhook_token))
    app.include_router(amazon.router(dispatcher, settings.amazon_webhook_token))
    app.include_router(pos.router(dispatcher, settings.pos_api_key))
    app.include_router(inventory.router(dispatcher, settings.inventory_api_key))
    app.include_router(store.router(dispatcher, settings.pos_api_key))
    app.include_router(dropship.router(dispatcher, settings.dropship_webhook_secret))
    app.include_router(returns.router(dispatcher, settings.returns_api_key))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """The service process (`uvicorn --factory`), tuned for answer latency: what start-up left
    alive is kept out of the collector's full passes (one such pass paused answers for 90 ms),
    and threads switch every millisecond instead of five (the inbox writer hands each delivery
    back sooner)."""
    app = create_app(Settings.from_env())
    gc.freeze()
    sys.setswitchinterval(0.001)
    return app
