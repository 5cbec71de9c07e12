"""Signing Shopify deliveries the way Shopify does, for tests and benchmarks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid


def shopify_headers(
    raw: bytes, secret: str, topic: str, webhook_id: str | None = None
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": "northwick-candle-co.myshopify.com",
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }
