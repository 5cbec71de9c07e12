"""The webhooks FastAPI app: `GET /healthz` and `/readyz`, OpenAPI at `/docs` and
`/openapi.json` (not in production)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.errors import PartnerError
from adapters.registry import Subscription, build_adapters
from bootstrap.ingestion import ingestion
from bootstrap.secrets import may_start
from inbox.retention import purge_forever
from infra.settings import Settings
from infra.tracing import trace_app
from ingest.temporal_link import TemporalLink
from webhooks import amazon, dropship, health, inventory, pos, returns, shopify, store, wms

log = logging.getLogger("webhooks")


async def _subscribe(subscription: Subscription) -> None:
    """Register our receiver with a partner that pushes events, retrying until it answers."""
    for attempt in range(60):
        try:
            await subscription.subscribe()
            return
        except PartnerError as exc:
            log.warning(
                "%s webhook subscription failed (attempt %d): %s",
                subscription.partner,
                attempt + 1,
                exc,
            )
            await asyncio.sleep(min(2**attempt, 30))


def create_app(settings: Settings) -> FastAPI:
    adapters = build_adapters(settings)
    dispatcher = ingestion(settings, adapters)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(dispatcher.redrive_forever(settings.inbox_redrive_seconds)),
            asyncio.create_task(
                purge_forever(dispatcher.writer.inbox, settings.inbox_retention_days)
            ),
        ]
        for subscription in adapters.subscriptions:
            tasks.append(asyncio.create_task(_subscribe(subscription)))
        yield
        await dispatcher.drain()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await adapters.aclose()

    docs = not settings.production  # no API documentation served in production
    app = FastAPI(
        title="Retail orchestrator webhooks",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.include_router(shopify.router(dispatcher, settings.shopify_webhook_secrets))
    app.include_router(wms.router(dispatcher, settings.wms_webhook_token))
    app.include_router(amazon.router(dispatcher, settings.amazon_webhook_token))
    app.include_router(pos.router(dispatcher, settings.pos_api_key))
    app.include_router(inventory.router(dispatcher, settings.inventory_api_key))
    app.include_router(store.router(dispatcher, settings.pos_api_key))
    app.include_router(dropship.router(dispatcher, settings.dropship_webhook_secret))
    app.include_router(returns.router(dispatcher, settings.returns_api_key))

    app.include_router(health.router(dispatcher.writer.inbox, TemporalLink(settings)))

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus: deliveries by source, topic and outcome; answer latency."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    trace_app(app)
    return app


def app_from_env() -> FastAPI:
    """The service process (`uvicorn --factory`), tuned for answer latency: what start-up left
    alive is kept out of the collector's full passes (one such pass paused answers for 90 ms),
    and threads switch every millisecond instead of five (the inbox writer hands each delivery
    back sooner)."""
    settings = Settings.from_env()
    if not may_start("webhooks", settings):
        raise SystemExit(1)
    app = create_app(settings)
    gc.freeze()
    sys.setswitchinterval(0.001)
    return app
