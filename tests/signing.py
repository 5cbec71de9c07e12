"""Shopify deliveries signed the way Shopify signs them, for tests and benchmarks."""

from __future__ import annotations

import uuid

from adapters.shopify import sign


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
