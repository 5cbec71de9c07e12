"""`POST /webhooks/shopify`: HMAC-verified before anything is parsed, then handed to the ingest
service under `X-Shopify-Webhook-Id` and `X-Shopify-Topic`."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.shopify import signature_valid
from ingest.dispatcher import Dispatcher
from ingest.shopify import SOURCE
from webhooks.answer import answered

KEPT_HEADERS = ("topic", "shop-domain", "api-version", "webhook-id", "event-id", "triggered-at")


def header(request: Request, name: str) -> str | None:
    """Shopify header `name` in either naming (`X-Shopify-…` or the newer `Shopify-…`);
    Starlette already matches case-insensitively."""
    return request.headers.get(f"x-shopify-{name}") or request.headers.get(f"shopify-{name}")


def router(dispatcher: Dispatcher, secrets: list[str]) -> APIRouter:
    api = APIRouter(tags=["shopify"])

    @api.post(
        "/webhooks/shopify",
        status_code=202,
        responses={
            200: {"description": "duplicate delivery, or the order already settled it"},
            400: {"description": "malformed JSON or missing Shopify headers (stored)"},
            401: {"description": "bad or missing X-Shopify-Hmac-Sha256 (nothing stored)"},
            422: {"description": "not a valid payload for the topic (stored as rejected)"},
            503: {"description": "Temporal unreachable (stored, re-driven when it is back)"},
        },
    )
    async def shopify_webhook(request: Request) -> JSONResponse:
        """Shopify webhook topics `orders/create`, `orders/cancelled`, `refunds/create`,
        `fulfillments/create`, and the mandatory privacy topics `customers/data_request`,
        `customers/redact`, `shop/redact` (others are stored and ignored)."""
        raw = await request.body()
        if not signature_valid(raw, header(request, "hmac-sha256"), secrets):
            return JSONResponse({"detail": "invalid or missing HMAC signature"}, status_code=401)
        kept = {name: value for name in KEPT_HEADERS if (value := header(request, name))}
        webhook_id = kept.get("webhook-id") or f"no-webhook-id:{hashlib.sha256(raw).hexdigest()}"
        return answered(
            await dispatcher.receive(SOURCE, kept.get("topic", ""), webhook_id, kept, raw)
        )

    return api
