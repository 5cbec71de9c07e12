"""Channel deliveries sent to a stack's webhooks service as the channels send them, for tests
and benchmarks: Shopify's signed the way Shopify signs them, Amazon's notifications with the
SQS bridge's token."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from adapters.shopify import sign
from infra.settings import Settings


def shopify_headers(
    raw: bytes, secret: str, topic: str, webhook_id: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(raw, secret),
        "X-Shopify-Shop-Domain": "northwick-candle-co.myshopify.com",
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


async def deliver_shopify(
    settings: Settings, body: dict[str, Any], topic: str = "orders/create"
) -> httpx.Response:
    """`body` delivered to the stack's webhooks service as Shopify does, signed with its
    (first) secret."""
    raw = json.dumps(body).encode()
    headers = shopify_headers(raw, settings.shopify_webhook_secrets[0], topic)
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify",
            content=raw,
            headers=headers,
        )


async def deliver_amazon(
    settings: Settings, notification: dict[str, Any], token: str | None = None
) -> httpx.Response:
    """An Amazon notification posted as the SQS-to-HTTP bridge does (with the stack's token,
    or `token`), without blocking the loop a worker may answer on."""
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            f"http://127.0.0.1:{settings.webhooks_port}/webhooks/amazon",
            params={"token": settings.amazon_webhook_token if token is None else token},
            json=notification,
        )
