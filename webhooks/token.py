"""Shared-secret routes for partners whose notifications are not signed: in the URL configured
at the partner (ShipStation V1, Amazon's SQS bridge) or as a bearer token (stores, WMS and ERP
inventory feeds)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ingest.dispatcher import Dispatcher, keyed
from webhooks.answer import answered


def token_valid(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def token_router(
    dispatcher: Dispatcher,
    *,
    source: str,
    token: str,
    key: Callable[[Any], tuple[str, str]],
    summary: str,
) -> APIRouter:
    """`POST /webhooks/{source}?token=…`: checked, kept under `key(body)` (topic, dedupe
    key), dispatched."""
    api = APIRouter(tags=[source])

    @api.post(f"/webhooks/{source}", status_code=202, summary=summary)
    async def notification(
        request: Request, token_: str = Query("", alias="token")
    ) -> JSONResponse:
        if not token_valid(token_, token):
            return JSONResponse({"detail": "bad or missing token"}, status_code=401)
        raw = await request.body()
        topic, dedupe_key = keyed(raw, key)
        return answered(await dispatcher.receive(source, topic, dedupe_key, {}, raw))

    return api


def bearer_router(
    dispatcher: Dispatcher,
    *,
    source: str,
    api_key: str,
    key: Callable[[Any], tuple[str, str]],
    summary: str,
    description: str,
) -> APIRouter:
    """`POST /webhooks/{source}` with `Authorization: Bearer …`: checked, kept under
    `key(body)` (topic, dedupe key), dispatched."""
    api = APIRouter(tags=[source])

    @api.post(f"/webhooks/{source}", status_code=202, summary=summary, description=description)
    async def batch(request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token_valid(given, api_key):
            return JSONResponse({"detail": "bad or missing API key"}, status_code=401)
        raw = await request.body()
        topic, dedupe_key = keyed(raw, key)
        return answered(await dispatcher.receive(source, topic, dedupe_key, {}, raw))

    return api
