"""The webhooks FastAPI app: `GET /healthz`, OpenAPI at `/docs` and `/openapi.json`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.errors import PartnerError
from adapters.registry import Adapters, build_adapters
from adapters.shipstation import ShipStationWms
from inbox.database import engine_for
from inbox.store import Inbox
from infra.inventory import open_inventory, publisher_signals
from infra.settings import Settings
from webhooks import amazon, inventory, pos, shopify, wms
from webhooks.dispatcher import Dispatcher
from webhooks.temporal_link import TemporalLink

log = logging.getLogger("webhooks")


async def _subscribe_wms(wms_adapter: ShipStationWms, target: str) -> None:
    """Register our receiver with the WMS, retrying until it answers."""
    for attempt in range(60):
        try:
            await wms_adapter.subscribe(target)
            return
        except PartnerError as exc:
            log.warning("WMS webhook subscription failed (attempt %d): %s", attempt + 1, exc)
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
        inbox,
        {
            shopify.SOURCE: shopify.ShopifyTopics(temporal, settings, inbox),
            wms.SOURCE: wms.WmsNotifications(adapters.wms, temporal),
            amazon.SOURCE: amazon.AmazonNotifications(adapters.amazon, temporal, settings),
            pos.SOURCE: pos.PosSales(temporal, settings, booking),
            inventory.SOURCE: inventory.InventoryEvents(booking),
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
        if isinstance(adapters.wms, ShipStationWms):
            target = (
                f"{settings.webhooks_public_url}/webhooks/wms?token={settings.wms_webhook_token}"
            )
            tasks.append(asyncio.create_task(_subscribe_wms(adapters.wms, target)))
        yield
        await dispatcher.drain()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await adapters.aclose()

    app = FastAPI(title="Retail orchestrator webhooks", lifespan=lifespan)
    app.include_router(shopify.router(dispatcher, settings.shopify_webhook_secrets))
    app.include_router(wms.router(dispatcher, settings.wms_webhook_token))
    app.include_router(amazon.router(dispatcher, settings.amazon_webhook_token))
    app.include_router(pos.router(dispatcher, settings.pos_api_key))
    app.include_router(inventory.router(dispatcher, settings.inventory_api_key))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
