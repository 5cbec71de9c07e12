"""The ingestion benchmarks' load generator: signed Shopify `orders/create` deliveries sent
open-loop at a steady rate (a channel does not wait for answers), a share of them twice under
the same webhook id as Shopify does, each answer timed from request to body. aiohttp, not
httpx: at 100 deliveries/s httpx's own CPU showed up as ack latency."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from adapters.shopify import sign


@dataclass
class Deliveries:
    latencies: list[float] = field(default_factory=list)  # seconds, one per delivery
    answers: Counter[int] = field(default_factory=Counter)  # HTTP status -> deliveries
    statuses: Counter[str] = field(default_factory=Counter)  # the answer's `status`
    workflow_ids: set[str] = field(default_factory=set)  # named by a 200 or 202


async def place_orders(sandbox: str, count: int) -> list[dict[str, Any]]:
    """`count` new orders from the sandbox's Shopify, as its webhooks would carry them."""
    bodies: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=60) as http:
        while len(bodies) < count:
            batch = min(1000, count - len(bodies))
            response = await http.post(f"{sandbox}/_sandbox/shopify/orders", json={"count": batch})
            bodies += response.json()
    return bodies


async def deliver_orders(
    url: str,
    secret: str,
    bodies: list[dict[str, Any]],
    rate: float,
    redelivered: float = 0.0,
    connections: int = 200,
) -> Deliveries:
    done = Deliveries()
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def deliver(raw: bytes, webhook_id: str) -> None:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": sign(raw, secret),
                "X-Shopify-Webhook-Id": webhook_id,
            }
            began = time.perf_counter()
            async with session.post(url, data=raw, headers=headers) as response:
                answer = await response.json()
            done.latencies.append(time.perf_counter() - began)
            done.answers[response.status] += 1
            done.statuses[answer.get("status", "?")] += 1
            if response.status in (200, 202) and answer.get("workflow_id"):
                done.workflow_ids.add(answer["workflow_id"])

        tasks = []
        began = time.perf_counter()
        for n, body in enumerate(bodies):
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
            raw, webhook_id = json.dumps(body).encode(), str(uuid.uuid4())
            tasks.append(asyncio.create_task(deliver(raw, webhook_id)))
            if random.random() < redelivered:
                tasks.append(asyncio.create_task(deliver(raw, webhook_id)))
        await asyncio.gather(*tasks)
    return done
