"""The webhooks FastAPI app (`GET /healthz`, OpenAPI at `/docs`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.errors import PartnerError
from adapters.registry import build_adapters
from adapters.shipstation import ShipStationWms
from infra.settings import Settings
from webhooks import wms
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


def create_app(settings: Settings) -> FastAPI:
    adapters = build_adapters(settings)
    temporal = TemporalLink(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
        if isinstance(adapters.wms, ShipStationWms):
            target = (
                f"{settings.webhooks_public_url}/webhooks/wms?token={settings.wms_webhook_token}"
            )
            task = asyncio.create_task(_subscribe_wms(adapters.wms, target))
        yield
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await adapters.aclose()

    app = FastAPI(title="Retail orchestrator webhooks", lifespan=lifespan)
    app.include_router(wms.router(adapters.wms, temporal, settings.wms_webhook_token))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
