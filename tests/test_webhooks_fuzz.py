"""Property-based fuzzing of every webhook endpoint over HTTP, bounded: whatever arrives,
nothing is accepted without a valid signature or token, nothing answers 500, and every
authenticated delivery is kept in the inbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from inbox.store import Inbox
from testing.harness import Harness, order_harness
from tests.signing import shopify_headers

SECRET = "fuzz-secret"
TOKENS = {"WMS_WEBHOOK_TOKEN": "wms-t", "AMAZON_WEBHOOK_TOKEN": "amz-t", "POS_API_KEY": "pos-t"}
BOUNDED = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
# What an HTTP header can carry: visible ASCII.
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60)
TOPICS = st.sampled_from(
    ["orders/create", "orders/cancelled", "refunds/create", "fulfillments/create"]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# Bodies that look like the real thing, with fields broken at random.
ORDERISH = st.fixed_dictionaries(
    {
        "id": st.integers(1, 2**53) | st.text(max_size=5),
        "currency": st.sampled_from(["USD", "EUR", "usd", ""]),
        "created_at": st.just("2026-03-14T10:22:41-04:00") | st.text(max_size=5),
        "total_price": st.sampled_from(["10.00", "x", "-1"]),
        "line_items": st.lists(JSON, max_size=2),
        "shipping_address": JSON,
        "order_id": st.integers(1, 10**6),
    }
)


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(
        dev_env.client, None, SHOPIFY_WEBHOOK_SECRET=SECRET, **TOKENS
    ) as harness:
        yield harness


def fuzz(h: Harness) -> None:
    base = f"http://127.0.0.1:{h.settings.webhooks_port}/webhooks"
    inbox = Inbox.of(h.settings)
    client = httpx.Client(timeout=30)

    @BOUNDED
    @given(body=st.binary(max_size=300), signature=HEADER_TEXT, topic=TOPICS)
    def unsigned_is_refused(body: bytes, signature: str, topic: str) -> None:
        before = len(inbox.latest(limit=10_000))
        headers = {**shopify_headers(body, SECRET, topic), "X-Shopify-Hmac-Sha256": signature}
        assert client.post(f"{base}/shopify", content=body, headers=headers).status_code == 401
        for path, token in (("wms", "x"), ("amazon", "x")):
            assert (
                client.post(f"{base}/{path}", params={"token": token}, content=body).status_code
                == 401
            )
        assert (
            client.post(
                f"{base}/pos", content=body, headers={"Authorization": "Bearer x"}
            ).status_code
            == 401
        )
        assert len(inbox.latest(limit=10_000)) == before

    @BOUNDED
    @given(body=JSON | ORDERISH, topic=TOPICS | HEADER_TEXT)
    def signed_never_crashes(body: Any, topic: str) -> None:
        raw = json.dumps(body).encode()
        before = len(inbox.latest(limit=10_000))
        responses = [
            client.post(
                f"{base}/shopify", content=raw, headers=shopify_headers(raw, SECRET, topic)
            ),
            client.post(f"{base}/wms", params={"token": "wms-t"}, content=raw),
            client.post(f"{base}/amazon", params={"token": "amz-t"}, content=raw),
            client.post(f"{base}/pos", content=raw, headers={"Authorization": "Bearer pos-t"}),
        ]
        for response in responses:
            assert response.status_code < 500, (response.request.url, response.text)
        assert len(inbox.latest(limit=10_000)) >= before + 1  # kept (redeliveries dedupe)

    try:
        unsigned_is_refused()
        signed_never_crashes()
    finally:
        client.close()


async def test_webhooks_fuzz(stack: Harness) -> None:
    await asyncio.to_thread(fuzz, stack)  # the worker keeps running on this event loop
