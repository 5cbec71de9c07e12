"""Listings on Walmart: a batch of items is one `MP_ITEM` feed (spec 4.x, at most 10,000
items), a batch of price changes alone one `PRICE_AND_PROMOTION` feed; then the feed's status
is read — `GET /v3/feeds/{feedId}?includeDetails=true`, page by page — until each item's
`ingestionStatus` is known: SUCCESS publishes it, an error refuses it with Walmart's words,
INPROGRESS keeps it pending."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, ClassVar

from adapters.walmart import FEED_PAGE, WalmartClient
from canonical.catalog import Listing, ListingOutcome, ListingState

MAX_FEED_ITEMS = 10_000
HEADER = {
    "version": "4.2", "processMode": "REPLACE", "subset": "EXTERNAL", "locale": "en",
    "sellingChannel": "marketplace", "mart": "WALMART_US",
}  # fmt: skip
DONE = {"PROCESSED", "ERROR"}


def item_feed(listings: list[Listing]) -> dict[str, Any]:
    return {"MPItemFeedHeader": HEADER, "MPItem": [_item(listing) for listing in listings]}


def price_feed(listings: list[Listing], at: datetime) -> dict[str, Any]:
    return {
        "PriceHeader": {"version": "1.7", "feedDate": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
        "Price": [
            {
                "itemIdentifier": {"sku": listing.sku},
                "pricingList": {
                    "pricing": [
                        {
                            "currentPrice": {
                                "value": {
                                    "currency": listing.price.currency,
                                    "amount": float(listing.price.amount),
                                }
                            },
                            "currentPriceType": "BASE",
                        }
                    ]
                },
            }
            for listing in listings
        ],
    }


def _item(listing: Listing) -> dict[str, Any]:
    orderable: dict[str, Any] = {
        "sku": listing.sku,
        "productName": listing.title,
        "brand": listing.attributes.get("brand", ""),
        "price": float(listing.price.amount),
        "productIdentifiers": {"productIdType": "GTIN", "productId": listing.gtin or ""},
    }
    if listing.weight_grams:
        orderable["ShippingWeight"] = round(listing.weight_grams / 453.59237, 3)  # pounds
    visible = {k: v for k, v in listing.attributes.items() if k != "brand"}
    visible["shortDescription"] = listing.description
    return {"Orderable": orderable, "Visible": {listing.product_type or "Home": visible}}


def _ingested(item: dict[str, Any]) -> tuple[ListingState, str]:
    status = item.get("ingestionStatus")
    if status == "SUCCESS":
        return ListingState.PUBLISHED, ""
    if status in (None, "INPROGRESS"):
        return ListingState.PENDING, ""
    errors = ((item.get("ingestionErrors") or {}).get("ingestionError")) or []
    why = "; ".join(e.get("description", "") for e in errors) or str(status)
    return ListingState.FAILED, why


class WalmartListings:
    """`ListingPort` of Walmart: one feed per batch; answers come with the feed's status."""

    whole_products: ClassVar[bool] = False
    prices_apart: ClassVar[bool] = True  # a price change is a PRICE_AND_PROMOTION feed
    batch_size: ClassVar[int] = 10_000  # one MP_ITEM feed holds 10,000 items

    def __init__(self, walmart: WalmartClient) -> None:
        self._walmart = walmart

    async def publish(self, listings: list[Listing]) -> list[ListingOutcome]:
        outcomes = []
        for start in range(0, len(listings), MAX_FEED_ITEMS):
            part = listings[start : start + MAX_FEED_ITEMS]
            feed_id = await self._walmart.submit_feed("MP_ITEM", item_feed(part))
            outcomes += [
                ListingOutcome(sku=x.sku, state=ListingState.PENDING, reference=feed_id)
                for x in part
            ]
        return outcomes

    async def publish_prices(self, listings: list[Listing]) -> list[ListingOutcome]:
        """Prices alone, as one PRICE_AND_PROMOTION feed (its `feedDate` in UTC: the latest
        one wins at Walmart)."""
        feed = price_feed(listings, datetime.now(UTC))
        feed_id = await self._walmart.submit_feed("PRICE_AND_PROMOTION", feed)
        return [
            ListingOutcome(sku=x.sku, state=ListingState.PENDING, reference=feed_id)
            for x in listings
        ]

    async def check(self, pending: list[ListingOutcome]) -> list[ListingOutcome]:
        by_feed: dict[str, list[ListingOutcome]] = defaultdict(list)
        for outcome in pending:
            by_feed[outcome.reference].append(outcome)
        now = []
        for feed_id, waiting in by_feed.items():
            items = await self._items(feed_id)
            for outcome in waiting:
                state, why = _ingested(items.get(outcome.sku, {}))
                now.append(outcome.model_copy(update={"state": state, "message": why}))
        return now

    async def _items(self, feed_id: str) -> dict[str, dict[str, Any]]:
        """Every item of the feed's status by SKU (none while the feed is not processed)."""
        items: dict[str, dict[str, Any]] = {}
        while True:
            status = await self._walmart.feed_status(feed_id, len(items))
            if status.get("feedStatus") not in DONE:
                return {}
            page = (status.get("itemDetails") or {}).get("itemIngestionStatus") or []
            items |= {item["sku"]: item for item in page}
            if len(page) < FEED_PAGE:
                return items
