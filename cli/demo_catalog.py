"""`starter.py demo --scenario catalog`: the ERP's catalogue published to every channel of
CATALOG_CHANNELS (the new diffuser, whose GTIN was typed wrong, refused as a listing
exception), and a sale of the wick trimmer in the ERP's price lists started and ended on each
channel on time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.client import Client

from activities.catalog import PriceChange, PublicationRequest, price_change_workflow_id
from bootstrap.catalog import catalog_channels, catalog_mappings
from canonical import Channel
from canonical.catalog import ListingState
from catalog.store import ListingStore
from infra.settings import Settings
from workflows.catalog_publish import (
    CatalogPublication,
    CatalogPublishWorkflow,
    PublicationSummary,
)

SALE_SKU, SALE_PRICE = "WICK-TRIM-01", "9.95"
REFUSED_SKU = "DIFFUSER-REED-100"  # its GTIN's check digit is wrong in the ERP
SALE_STARTS, SALE_LASTS = timedelta(seconds=10), timedelta(seconds=10)


async def publish_catalog(
    client: Client, settings: Settings, http: httpx.AsyncClient, console: Console
) -> bool:
    """Publish, show what each channel lists and refused, then watch the sale come and go;
    whether everything went as it should."""
    channels = catalog_channels(settings)
    mappings = catalog_mappings(settings)
    start = datetime.now(UTC).replace(microsecond=0) + SALE_STARTS
    end = start + SALE_LASTS
    for price_list in {mappings[channel].price_list for channel in channels}:
        sale = {"sku": SALE_SKU, "price_level": price_list, "price": SALE_PRICE,
                "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip
        response = await http.post(
            f"{settings.sandbox_url}/_sandbox/netsuite/items/schedules", json=sale
        )
        response.raise_for_status()
    console.print(
        f"A sale of {SALE_SKU} at {SALE_PRICE} in the ERP's price lists, "
        f"{start:%H:%M:%S} to {end:%H:%M:%S} UTC. Publishing the catalogue to "
        + ", ".join(c.value for c in channels)
        + "…"
    )
    summaries = await asyncio.gather(*(_publish(client, settings, c) for c in channels))
    table = Table(title="Catalogue publication")
    for column in ("Channel", "Sent", "Published", "Failed", "Pending", "Unchanged"):
        table.add_column(column, justify="left" if column == "Channel" else "right")
    for channel, s in zip(channels, summaries, strict=True):
        table.add_row(channel.value, *map(str, (s.sent, s.published, s.failed, s.pending,
                                                 s.unchanged)))  # fmt: skip
    console.print(table)
    failed = ListingStore.open(settings.database_url).status(state=ListingState.FAILED)
    for exception in failed:
        console.print(
            f"[red]listing exception[/red] {exception.channel.value} {exception.sku}: "
            f"{exception.message}"
        )
    as_expected = {(s.channel, s.sku) for s in failed} == {(c, REFUSED_SKU) for c in channels}
    as_expected &= all(s.pending == 0 and s.published == s.sent for s in summaries)
    for moment, what in ((start, "started"), (end, "ended")):
        ran = await asyncio.gather(
            *(_price_change(client, channel, moment) for channel in channels)
        )
        console.print(f"The sale {what} on " + ", ".join(
            f"{c.value} ({s.published} published)" for c, s in zip(channels, ran, strict=True)
        ))  # fmt: skip
        as_expected &= all(s.published == 1 for s in ran)
    return as_expected


async def _publish(client: Client, settings: Settings, channel: Channel) -> PublicationSummary:
    return await client.execute_workflow(
        CatalogPublishWorkflow.run,
        CatalogPublication(
            request=PublicationRequest(channel=channel), first_check=timedelta(seconds=1)
        ),
        id=f"catalog-publish-{channel.value}-demo-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
    )


async def _price_change(client: Client, channel: Channel, at: datetime) -> PublicationSummary:
    workflow_id = price_change_workflow_id(channel, PriceChange(sku=SALE_SKU, at=at))
    handle = client.get_workflow_handle(workflow_id, result_type=PublicationSummary)
    return await handle.result()
