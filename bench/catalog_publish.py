"""Catalogue publication at scale: the ERP's item master grown to 10,000 SKUs (the sandbox
NetSuite, read through SuiteQL page by page) published to Shopify (a productSet per product),
Amazon (JSON_LISTINGS_FEED) and Walmart (MP_ITEM feeds) at once; then 5 % of the prices
change in the ERP and the catalogue is published again.

Prints, per channel and run, the time to published, the listings sent, the calls made, the
calls the channel refused for its limits (Shopify THROTTLED, Amazon 429), and what the delta
avoided: the listings not sent again, and the calls (a publication of everything again would
have made the first run's). Shopify is on a Plus plan (a 10,000-point bucket refilled at 1,000
points/s), as a shop with such a catalogue is.
Target: the delta run sends only the changed SKUs, on every channel.
The stack runs in this process as the tests run it, Temporal's dev server beside it.
Usage: python bench/catalog_publish.py [--skus 10000] [--changed 0.05]"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from temporalio.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.catalog import PublicationRequest
from canonical import Channel
from sandbox.shopify import ShopifyPlan
from testing.dev_server import start_dev_server
from testing.harness import order_harness
from workflows.catalog_publish import (
    CatalogPublication,
    CatalogPublishWorkflow,
    PublicationSummary,
)

CHANNELS = (Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART)
LIMITS = {
    Channel.SHOPIFY: "Plus cost bucket: 10,000 points, 1,000/s",
    Channel.AMAZON: "createFeed 1 per 2 min (burst 15)",
    Channel.WALMART: "feeds of ≤ 10,000 items",
}


def calls(sandbox: Any) -> dict[Channel, int]:
    """Calls each channel's catalogue API received so far."""
    catalogs = sandbox.state.catalogs
    amazon = catalogs["amazon"]
    return {
        Channel.SHOPIFY: catalogs["shopify"].calls,
        Channel.AMAZON: amazon.calls + sum(amazon.listings.calls.values()),
        Channel.WALMART: catalogs["walmart"].calls,
    }


def refused(sandbox: Any) -> dict[Channel, int]:
    amazon = sandbox.state.partners["amazon"].refused
    return {
        Channel.SHOPIFY: sandbox.state.partners["shopify"].throttled,
        Channel.AMAZON: sum(amazon.values()),
        Channel.WALMART: 0,
    }


async def publish_all(
    client: Client, queue: str
) -> tuple[dict[Channel, PublicationSummary], float]:
    async def one(channel: Channel) -> PublicationSummary:
        return await client.execute_workflow(
            CatalogPublishWorkflow.run,
            CatalogPublication(request=PublicationRequest(channel=channel)),
            id=f"catalog-bench-{channel.value}-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )

    began = time.perf_counter()
    done = await asyncio.gather(*(one(channel) for channel in CHANNELS))
    return dict(zip(CHANNELS, done, strict=True)), time.perf_counter() - began


async def main(skus: int, changed: float) -> int:
    env = await start_dev_server()
    try:
        async with order_harness(env.client, CATALOG_CHANNELS="amazon,shopify,walmart") as h:
            shop = h.sandbox.state.partners["shopify"]  # on Plus, as such a catalogue is
            shop.plan = ShopifyPlan(maximum_available=10_000, restore_rate=1_000)
            shop.bucket = shop.plan.maximum_available
            items = h.sandbox.state.partners["netsuite_items"]
            added = items.add(max(0, skus - len(items.items)))
            print(f"{len(items.items)} items in the ERP; publishing to every channel …", flush=True)
            queue = h.settings.task_queue
            before, refused_before = calls(h.sandbox), refused(h.sandbox)
            full, full_time = await publish_all(h.client, queue)
            after_full, refused_full = calls(h.sandbox), refused(h.sandbox)
            moved = random.Random(7).sample(added, int(len(added) * changed))
            for sku in moved:
                record = items.items[sku]
                items.set_price(
                    record["id"], items.prices[(record["id"], "Base Price")] + Decimal(1)
                )
            print(f"{len(moved)} prices changed in the ERP; publishing again …", flush=True)
            delta, delta_time = await publish_all(h.client, queue)
            after_delta, refused_delta = calls(h.sandbox), refused(h.sandbox)
    finally:
        await env.shutdown()

    table = Table(title=f"Catalogue publication: {skus} SKUs, {len(moved)} changed")
    columns = ("channel", "run", "sent", "published", "failed", "calls", "limit reached, waited",
               "not sent again", "calls avoided", "limit")  # fmt: skip
    for column in columns:
        table.add_column(
            column, justify="left" if column in ("channel", "run", "limit") else "right"
        )
    met = True
    for channel in CHANNELS:
        first = after_full[channel] - before[channel]
        again = after_delta[channel] - after_full[channel]
        for run, summary, made, limited, kept, avoided in (
            (f"full {full_time:.0f} s", full[channel], first,
             refused_full[channel] - refused_before[channel], "", ""),
            (f"delta {delta_time:.0f} s", delta[channel], again,
             refused_delta[channel] - refused_full[channel], str(delta[channel].unchanged),
             str(max(0, first - again))),
        ):  # fmt: skip
            table.add_row(
                channel.value, run, str(summary.sent), str(summary.published),
                str(summary.failed), str(made), str(limited), kept, avoided, LIMITS[channel],
            )  # fmt: skip
        met &= delta[channel].sent == len(moved) and delta[channel].published == len(moved)
    Console(width=170).print(table)
    print("target met: the delta run sent only the changed SKUs" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.05)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.skus, arguments.changed)))
