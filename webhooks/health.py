"""`GET /healthz`: the process answers. `GET /readyz`: it can take deliveries and act on them
(Temporal reachable, the inbox's database writable); 503 with the reasons otherwise (a
delivery would still be stored and answered 503 `deferred`, so this is for routing traffic)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from inbox.store import Inbox
from infra.readiness import readiness
from infra.temporal import TemporalUnavailable, temporal_problem
from ingest.temporal_link import TemporalLink


def router(inbox: Inbox, temporal: TemporalLink) -> APIRouter:
    api = APIRouter(tags=["health"])

    async def temporal_check() -> str | None:
        try:
            return await temporal_problem(await temporal.client())
        except TemporalUnavailable as exc:
            return f"unreachable: {exc}"

    async def database_check() -> str | None:
        return await asyncio.to_thread(inbox.write_problem, "webhooks")

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz() -> JSONResponse:
        status, body = await readiness({"temporal": temporal_check, "database": database_check})
        return JSONResponse(body, status_code=status)

    return api
