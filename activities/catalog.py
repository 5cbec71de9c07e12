"""Catalogue publication activities: plan what changed since the last publication (the ERP's
items mapped to the channel's listings, checked, hashed and compared with what was sent), send
a batch of it to the channel, and ask the channel about listings it answers later. Each
listing's outcome is kept (`catalog/store.py`): one bad SKU is a listing exception of its own
and never stops the batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import activity

from activities.errors import partner_call
from adapters.ports import CatalogPort, ListingPort
from canonical import Channel
from canonical.catalog import (
    Listing,
    ListingOutcome,
    ListingState,
    content_hash,
    listing_problems,
)
from catalog.mapping import ChannelMapping
from catalog.store import ListingStore


class PublicationRequest(BaseModel):
    channel: Channel
    skus: list[str] | None = Field(None, description="None: the whole catalogue")
    # A price change publishes the prices in force from its moment on, whatever the clock of
    # the worker that runs it says (a timer may fire a hair before the worker's clock agrees).
    as_of: datetime | None = Field(None, description="Prices in force at; None: now")


class PriceChange(BaseModel):
    """A moment a SKU's price in the channel's list changes (a scheduled price starts or
    ends): its listing is published again then."""

    sku: str
    at: datetime


class PriceChangeInput(BaseModel):
    channel: Channel
    change: PriceChange
    first_check: timedelta = Field(
        timedelta(seconds=30), description="The publication's first check of pending listings"
    )


def price_change_workflow_id(channel: Channel, change: PriceChange) -> str:
    return f"price-change:{channel.value}:{change.sku}:{change.at:%Y%m%dT%H%M%SZ}"


class PublicationPlan(BaseModel):
    batches: list[list[str]] = Field(description="SKUs to send, whole products together")
    unchanged: int = 0
    refused: dict[str, str] = Field(
        default_factory=dict, description="SKU -> why it was refused before sending"
    )
    price_changes: list[PriceChange] = Field(default_factory=list)


class ListingBatch(BaseModel):
    channel: Channel
    skus: list[str]
    as_of: datetime | None = None


class PendingListings(BaseModel):
    channel: Channel
    pending: list[ListingOutcome]


class Prepared(BaseModel):
    """The channel's listings of the items asked for, and those that cannot be listed."""

    listings: dict[str, Listing]
    refused: dict[str, tuple[str, str]]  # SKU -> (content hash, why)
    price_changes: list[PriceChange]


class CatalogActivities:
    def __init__(
        self,
        catalog: CatalogPort,
        listings: Callable[[Channel], ListingPort],
        store: ListingStore,
        mappings: dict[Channel, ChannelMapping],
    ) -> None:
        self._catalog = catalog
        self._listings = listings
        self._store = store
        self._mappings = mappings

    async def _prepare(
        self, channel: Channel, skus: list[str] | None, as_of: datetime | None
    ) -> Prepared:
        mapping = self._mappings[channel]
        with partner_call():
            items = await self._catalog.items([mapping.price_list], skus)
        listings: dict[str, Listing] = {}
        refused: dict[str, tuple[str, str]] = {}
        changes: list[PriceChange] = []
        now = max(datetime.now(UTC), as_of) if as_of else datetime.now(UTC)
        for item in items:
            if not item.active:
                continue
            for scheduled in item.price_changes(mapping.price_list, now):
                moments = [scheduled.start] + ([scheduled.end] if scheduled.end else [])
                changes += [PriceChange(sku=item.sku, at=at) for at in moments if at > now]
            made = mapping.listing(channel, item, now)
            if isinstance(made, str):
                refused[item.sku] = (content_hash(item), made)
                continue
            problems = listing_problems(item, made, mapping.rules)
            if problems:
                refused[item.sku] = (made.content_hash, "; ".join(problems))
            else:
                listings[item.sku] = made
        return Prepared(listings=listings, refused=refused, price_changes=changes)

    def _refuse(self, channel: Channel, refused: dict[str, tuple[str, str]]) -> None:
        self._store.record(
            channel,
            [(sku, digest, ListingState.FAILED, why, "") for sku, (digest, why) in refused.items()],
        )

    @activity.defn
    async def plan_publication(self, request: PublicationRequest) -> PublicationPlan:
        """What to send: listings new or changed since last sent (a product's every variant
        when the channel takes whole products). Items that cannot be listed are refused here,
        each with why, once per change."""
        channel = request.channel
        prepared = await self._prepare(channel, request.skus, request.as_of)
        new_refusals = self._store.changed(
            channel, {sku: digest for sku, (digest, _) in prepared.refused.items()}
        )
        self._refuse(channel, {sku: prepared.refused[sku] for sku in new_refusals})
        hashes = {sku: listing.content_hash for sku, listing in prepared.listings.items()}
        changed = set(self._store.changed(channel, hashes))
        port = self._listings(channel)
        if port.whole_products:
            products = {prepared.listings[sku].product_key for sku in changed}
            changed |= {sku for sku, x in prepared.listings.items() if x.product_key in products}
        by_product: dict[str, list[str]] = defaultdict(list)
        for sku in sorted(changed):
            by_product[prepared.listings[sku].product_key].append(sku)
        batches: list[list[str]] = []
        for group in by_product.values():
            if not batches or len(batches[-1]) + len(group) > port.batch_size:
                batches.append([])
            batches[-1] += group
        return PublicationPlan(
            batches=batches,
            unchanged=len(prepared.listings) - len(changed),
            refused={sku: prepared.refused[sku][1] for sku in new_refusals},
            price_changes=prepared.price_changes,
        )

    @activity.defn
    async def publish_listings(self, batch: ListingBatch) -> list[ListingOutcome]:
        """Send the batch's listings (read from the ERP again: as they are now); returns
        every outcome, pending ones to be asked about later."""
        channel = batch.channel
        prepared = await self._prepare(channel, batch.skus, batch.as_of)
        self._refuse(channel, prepared.refused)
        listings = [prepared.listings[sku] for sku in batch.skus if sku in prepared.listings]
        if not listings:
            return []
        port = self._listings(channel)
        shapes = {listing.sku: listing.shape_hash for listing in listings}
        priced = self._store.price_only(channel, shapes) if port.prices_apart else set()
        whole = [x for x in listings if x.sku not in priced]
        prices = [x for x in listings if x.sku in priced]
        with partner_call():
            outcomes = (await port.publish(whole) if whole else []) + (
                await port.publish_prices(prices) if prices else []
            )
        hashes = {listing.sku: listing.content_hash for listing in listings}
        self._store.record(
            channel,
            [(o.sku, hashes[o.sku], o.state, o.message, o.reference) for o in outcomes],
            shapes,
        )
        return outcomes

    @activity.defn
    async def check_listings(self, pending: PendingListings) -> list[ListingOutcome]:
        """Ask the channel about listings it had not answered for: what it says now of each."""
        with partner_call():
            now = await self._listings(pending.channel).check(pending.pending)
        for outcome in now:
            if outcome.state is not ListingState.PENDING:
                self._store.settle(pending.channel, outcome.sku, outcome.state, outcome.message)
        return now

    def activities(self) -> list[Callable[..., object]]:
        return [self.plan_publication, self.publish_listings, self.check_listings]
