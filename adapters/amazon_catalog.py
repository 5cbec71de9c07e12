"""Listings on Amazon (Listings Items API 2021-08-01): a few listings are each validated first
with `putListingsItem` in `VALIDATION_PREVIEW` mode (nothing saved; its errors refuse it), then
put; Amazon's "ACCEPTED" only means received: the listing stays pending until
`getListingsItem` shows its issues (an ERROR refuses it) or that it is live. Many at once
(more than BULK_FROM) go as one `JSON_LISTINGS_FEED` instead (the same payloads, one message
each): pending until the feed's processing report, which names the messages it refused."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any, ClassVar

from adapters.amazon import SpApiClient
from canonical.catalog import Listing, ListingOutcome, ListingState

PREVIEWS_PER_SECOND = 1.0  # VALIDATION_PREVIEW's usage plan (a burst of 1)
# Spaced a hair wider than the plan: with no burst to absorb it, a request that reaches Amazon
# a millisecond early (the network's jitter) is refused with a 429.
PREVIEW_INTERVAL = 1.05 / PREVIEWS_PER_SECOND
BULK_FROM = 20  # more listings than this in one call: one feed, not a call per SKU
FEED = "feed:"  # a listing's reference while its feed is processed: feed:{feed id}:{message}
LIVE = {"BUYABLE", "DISCOVERABLE"}


def listing_body(listing: Listing, marketplace_id: str) -> dict[str, Any]:
    """The listing in the product type's JSON attributes, every value for the marketplace."""

    def value(text: str) -> list[dict[str, Any]]:
        return [{"value": text, "language_tag": "en_US", "marketplace_id": marketplace_id}]

    attributes: dict[str, Any] = {
        "item_name": value(listing.title),
        "product_description": value(listing.description),
        "condition_type": [{"value": "new_new", "marketplace_id": marketplace_id}],
        "purchasable_offer": [
            {
                "currency": listing.price.currency,
                "our_price": [{"schedule": [{"value_with_tax": float(listing.price.amount)}]}],
                "marketplace_id": marketplace_id,
            }
        ],
        **{name: value(text) for name, text in listing.attributes.items()},
    }
    if listing.gtin:
        attributes["externally_assigned_product_identifier"] = [
            {"type": "ean", "value": listing.gtin, "marketplace_id": marketplace_id}
        ]
    return {
        "productType": listing.product_type or "PRODUCT",
        "requirements": "LISTING",
        "attributes": attributes,
    }


def _errors(answer: dict[str, Any]) -> str:
    """Amazon's own words for the ERROR issues of an answer ('' when none)."""
    return "; ".join(
        issue.get("message", "")
        for issue in answer.get("issues") or []
        if issue.get("severity") == "ERROR"
    )


class AmazonListings:
    """`ListingPort` of Amazon: one SKU per call; answers come later."""

    whole_products: ClassVar[bool] = False
    prices_apart: ClassVar[bool] = False  # a price rides with its listing
    batch_size: ClassVar[int] = 2_000  # a batch of many is one JSON_LISTINGS_FEED

    def __init__(self, sp_api: SpApiClient, seller_id: str) -> None:
        self._sp_api = sp_api
        self._seller_id = seller_id
        self._next_preview = 0.0

    async def _paced_preview(self) -> None:
        """At most PREVIEWS_PER_SECOND previews from this process."""
        wait = self._next_preview - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_preview = max(self._next_preview, time.monotonic()) + PREVIEW_INTERVAL

    async def publish(self, listings: list[Listing]) -> list[ListingOutcome]:
        if len(listings) > BULK_FROM:
            return await self._in_a_feed(listings)
        outcomes = []
        market = self._sp_api.marketplace_id
        for listing in listings:
            body = listing_body(listing, market)
            await self._paced_preview()
            preview = await self._sp_api.put_listing(self._seller_id, listing.sku, body, True)
            why = _errors(preview)
            if preview.get("status") == "INVALID" or why:
                outcomes.append(
                    ListingOutcome(sku=listing.sku, state=ListingState.FAILED, message=why)
                )
                continue
            put = await self._sp_api.put_listing(self._seller_id, listing.sku, body)
            why = _errors(put)
            state = ListingState.FAILED if put.get("status") == "INVALID" or why else None
            outcomes.append(
                ListingOutcome(
                    sku=listing.sku, state=state or ListingState.PENDING, message=why,
                    reference=put.get("submissionId", ""),
                )
            )  # fmt: skip
        return outcomes

    async def _in_a_feed(self, listings: list[Listing]) -> list[ListingOutcome]:
        market = self._sp_api.marketplace_id
        messages = [
            {"messageId": n, "sku": x.sku, "operationType": "UPDATE", **listing_body(x, market)}
            for n, x in enumerate(listings, start=1)
        ]
        header = {"sellerId": self._seller_id, "version": "2.0", "issueLocale": "en_US"}
        feed_id = await self._sp_api.submit_feed(
            "JSON_LISTINGS_FEED", {"header": header, "messages": messages}
        )
        return [
            ListingOutcome(sku=x.sku, state=ListingState.PENDING, reference=f"{FEED}{feed_id}:{n}")
            for n, x in enumerate(listings, start=1)
        ]

    async def _from_feeds(self, pending: list[ListingOutcome]) -> list[ListingOutcome]:
        """Listings sent in feeds, as each feed's processing report has them (if it is done)."""
        by_feed: dict[str, list[ListingOutcome]] = defaultdict(list)
        for outcome in pending:
            by_feed[outcome.reference.removeprefix(FEED).split(":")[0]].append(outcome)
        now = []
        for feed_id, waiting in by_feed.items():
            report = await self._sp_api.feed_report(feed_id)
            if report is None:
                now += waiting
                continue
            refused: dict[int, list[str]] = defaultdict(list)
            for issue in report.get("issues") or []:
                if issue.get("severity") == "ERROR":
                    refused[int(issue["messageId"])].append(issue.get("message", ""))
            for outcome in waiting:
                message = int(outcome.reference.rsplit(":", 1)[1])
                why = "; ".join(refused.get(message, []))
                state = ListingState.FAILED if why else ListingState.PUBLISHED
                now.append(outcome.model_copy(update={"state": state, "message": why}))
        return now

    publish_prices = publish

    async def check(self, pending: list[ListingOutcome]) -> list[ListingOutcome]:
        """Each pending listing as Amazon shows it now: refused by an ERROR issue, live once
        its summary says BUYABLE or DISCOVERABLE (or its feed's report took it), else still
        pending."""
        fed = [o for o in pending if o.reference.startswith(FEED)]
        now = await self._from_feeds(fed) if fed else []
        for outcome in (o for o in pending if not o.reference.startswith(FEED)):
            shown = await self._sp_api.get_listing(self._seller_id, outcome.sku)
            why = _errors(shown or {})
            statuses = {s for summary in (shown or {}).get("summaries") or [] for s in
                        summary.get("status") or []}  # fmt: skip
            if why:
                state = ListingState.FAILED
            elif statuses & LIVE:
                state = ListingState.PUBLISHED
            else:
                state = ListingState.PENDING
            now.append(outcome.model_copy(update={"state": state, "message": why}))
        return now
