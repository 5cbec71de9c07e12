"""Listings on Amazon (Listings Items API 2021-08-01): each listing validated first with
`putListingsItem` in `VALIDATION_PREVIEW` mode (nothing saved; its errors refuse it), then put.
Amazon's "ACCEPTED" only means received: the listing stays pending until `getListingsItem`
shows its issues (an ERROR refuses it) or that it is live."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

from adapters.amazon import SpApiClient
from canonical.catalog import Listing, ListingOutcome, ListingState

PREVIEWS_PER_SECOND = 1.0  # VALIDATION_PREVIEW's usage plan
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

    def __init__(self, sp_api: SpApiClient, seller_id: str) -> None:
        self._sp_api = sp_api
        self._seller_id = seller_id
        self._next_preview = 0.0

    async def _paced_preview(self) -> None:
        """At most PREVIEWS_PER_SECOND previews from this process."""
        wait = self._next_preview - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._next_preview = max(self._next_preview, time.monotonic()) + 1 / PREVIEWS_PER_SECOND

    async def publish(self, listings: list[Listing]) -> list[ListingOutcome]:
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

    async def check(self, pending: list[ListingOutcome]) -> list[ListingOutcome]:
        """Each pending listing as Amazon shows it now: refused by an ERROR issue, live once
        its summary says BUYABLE or DISCOVERABLE, else still pending."""
        now = []
        for outcome in pending:
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
