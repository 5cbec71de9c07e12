"""`starter.py catalog publish|status`: publish the ERP's catalogue to a channel now (all of it
that changed, or some SKUs), and what each channel lists of each SKU — the listing exceptions
with the channel's own words."""

from __future__ import annotations

import uuid

from rich.table import Table

from activities.catalog import PublicationRequest
from bootstrap.catalog import catalog_channels
from canonical import Channel
from canonical.catalog import ListingState
from catalog.mapping import MappingError
from catalog.store import ListingStore
from cli.output import console, print_json, whole_column
from cli.support import support_client
from infra.settings import Settings
from workflows.catalog_publish import CatalogPublication, CatalogPublishWorkflow


class CatalogError(Exception):
    """A problem to tell the user in one sentence."""


async def publish(settings: Settings, channel: Channel, skus: list[str]) -> None:
    """One publication to the channel now, as its schedule runs it; prints what it did."""
    try:
        channels = catalog_channels(settings)
    except MappingError as exc:
        raise CatalogError(str(exc)) from None
    if channel not in channels:
        named = ", ".join(c.value for c in channels) or "none"
        raise CatalogError(f"{channel.value} is not in CATALOG_CHANNELS ({named})")
    client = await support_client(settings)
    request = PublicationRequest(channel=channel, skus=skus or None)
    summary = await client.execute_workflow(
        CatalogPublishWorkflow.run,
        CatalogPublication(request=request),
        id=f"catalog-publish-{channel.value}-now-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
    )
    console.print(
        f"{channel.value}: {summary.sent} sent, {summary.published} published, "
        f"{summary.failed} failed, {summary.pending} pending, {summary.unchanged} unchanged"
    )
    if summary.failed:
        console.print(f"`catalog status --channel {channel.value} --failed` says why.")


def status(settings: Settings, channel: Channel | None, failed: bool, as_json: bool) -> None:
    state = ListingState.FAILED if failed else None
    found = ListingStore.open(settings.database_url).status(channel, state)
    if as_json:
        print_json(found)
        return
    what = "listing exceptions" if failed else "listings"
    table = Table(title=f"{len(found)} {what}")
    table.add_column("Channel")
    whole_column(table, "SKU", (s.sku for s in found))
    table.add_column("State")
    table.add_column("Why", overflow="fold")
    table.add_column("Updated")
    for s in found:
        style = {"failed": "red", "pending": "yellow"}.get(s.state.value, "green")
        table.add_row(
            s.channel.value, s.sku, f"[{style}]{s.state.value}[/{style}]", s.message,
            s.updated_at.strftime("%Y-%m-%d %H:%M"),
        )  # fmt: skip
    console.print(table)
