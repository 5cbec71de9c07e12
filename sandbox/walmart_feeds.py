"""Walmart's feeds: `POST /v3/feeds?feedType=MP_ITEM` (items, spec 4.x) or
`PRICE_AND_PROMOTION` (prices) takes a file of at most 10,000 items and answers a feed id; the
feed is RECEIVED, then PROCESSED a moment later with each item's `ingestionStatus` (SUCCESS,
or DATA_ERROR with Walmart's words: a GTIN that is not one, no brand, a price that is not
positive, an item a price feed names that was never set up), read page by page with
`GET /v3/feeds/{feedId}?includeDetails=true`."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from stdnum import ean

from sandbox.vendor_errors import VendorError
from sandbox.walmart import WalmartState, check_token, error

FEED_TYPES = {"MP_ITEM", "PRICE_AND_PROMOTION"}
MAX_ITEMS = 10_000
PROCESSING_SECONDS = 0.5


def _data_error(code: str, field: str, description: str) -> dict[str, Any]:
    return {"type": "DATA_ERROR", "code": code, "field": field, "description": description}


class WalmartFeeds:
    def __init__(self, walmart: WalmartState) -> None:
        self.walmart = walmart
        self.feeds: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}  # set-up items by SKU
        self.prices: dict[str, dict[str, Any]] = {}  # SKU -> the price of the latest feedDate
        self.calls = 0  # feed submissions and status reads received

    def submit(self, feed_type: str, feed: dict[str, Any]) -> str:
        rows = feed.get("MPItem") if feed_type == "MP_ITEM" else feed.get("Price")
        if not isinstance(rows, list) or not rows:
            raise VendorError(error(400, "INVALID_REQUEST_CONTENT.GMP_ITEM_INGESTOR_API",
                                    "The feed file has no items"))  # fmt: skip
        if len(rows) > MAX_ITEMS:
            raise VendorError(error(400, "INVALID_REQUEST_CONTENT.GMP_ITEM_INGESTOR_API",
                                    f"A feed holds at most {MAX_ITEMS} items"))  # fmt: skip
        feed_id = uuid.uuid4().hex.upper()
        self.feeds[feed_id] = {"type": feed_type, "feed": feed, "received": time.monotonic(),
                               "status": None}  # fmt: skip
        return feed_id

    def status(self, feed_id: str) -> dict[str, Any]:
        feed = self.feeds[feed_id]
        if feed["status"] is None and time.monotonic() - feed["received"] >= PROCESSING_SECONDS:
            feed["status"] = self._process(feed)
        items = feed["status"] or []
        failed = sum(1 for i in items if i["ingestionStatus"] != "SUCCESS")
        return {
            "feedId": feed_id, "feedType": feed["type"],
            "feedStatus": "PROCESSED" if feed["status"] is not None else "RECEIVED",
            "itemsReceived": len(feed["feed"].get("MPItem") or feed["feed"].get("Price") or []),
            "itemsSucceeded": len(items) - failed, "itemsFailed": failed,
            "itemsProcessing": 0 if feed["status"] is not None else None, "items": items,
        }  # fmt: skip

    def _process(self, feed: dict[str, Any]) -> list[dict[str, Any]]:
        if feed["type"] == "MP_ITEM":
            return [self._item(n, row) for n, row in enumerate(feed["feed"]["MPItem"])]
        date = feed["feed"].get("PriceHeader", {}).get("feedDate", "")
        return [self._price(n, row, date) for n, row in enumerate(feed["feed"]["Price"])]

    def _item(self, index: int, row: dict[str, Any]) -> dict[str, Any]:
        orderable = row.get("Orderable") or {}
        sku = str(orderable.get("sku", ""))
        gtin = str((orderable.get("productIdentifiers") or {}).get("productId", ""))
        errors = []
        if not ean.is_valid(gtin):
            errors.append(_data_error("ERR_EXT_DATA_0101", "productId",
                                      f"The GTIN '{gtin}' is not a valid product ID."))  # fmt: skip
        if not str(orderable.get("brand", "")).strip():
            errors.append(_data_error("ERR_EXT_DATA_0100", "brand", "Brand is required."))
        if not isinstance(orderable.get("price"), int | float) or orderable["price"] <= 0:
            errors.append(_data_error("ERR_EXT_DATA_0102", "price", "Price must be positive."))
        if not errors:
            self.items[sku] = row
        return _status(index, sku, errors)

    def _price(self, index: int, row: dict[str, Any], feed_date: str) -> dict[str, Any]:
        sku = str((row.get("itemIdentifier") or {}).get("sku", ""))
        if sku not in self.items:
            return _status(index, sku, [_data_error("ERR_PDI_0034", "sku",
                                                    f"Item {sku} is not set up.")])  # fmt: skip
        current = self.prices.get(sku)
        if current is None or current["feedDate"] <= feed_date:  # the latest feedDate wins
            pricing = row["pricingList"]["pricing"][0]["currentPrice"]["value"]
            self.prices[sku] = {"feedDate": feed_date, "amount": pricing["amount"]}
        return _status(index, sku, [])


def _status(index: int, sku: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "martId": 0, "sku": sku, "index": index,
        "ingestionStatus": "DATA_ERROR" if errors else "SUCCESS",
        "ingestionErrors": {"ingestionError": errors} if errors else None,
    }  # fmt: skip


def router(feeds: WalmartFeeds) -> APIRouter:
    api = APIRouter(prefix="/walmart/v3/feeds")

    @api.post("")
    async def submit(request: Request, feedType: str, file: UploadFile) -> dict[str, Any]:
        check_token(feeds.walmart, request)
        feeds.calls += 1
        if feedType not in FEED_TYPES:
            raise VendorError(error(400, "INVALID_REQUEST_PARAM.GMP_ITEM_INGESTOR_API",
                                    f"Unsupported feedType {feedType}"))  # fmt: skip
        try:
            feed = json.loads(await file.read())
        except ValueError:
            raise VendorError(error(400, "INVALID_REQUEST_CONTENT.GMP_ITEM_INGESTOR_API",
                                    "The feed file is not JSON")) from None  # fmt: skip
        return {"feedId": feeds.submit(feedType, feed)}

    @api.get("/{feed_id}")
    async def status(
        request: Request, feed_id: str, includeDetails: bool = False, offset: int = 0,
        limit: int = 50,
    ) -> dict[str, Any]:  # fmt: skip
        check_token(feeds.walmart, request)
        feeds.calls += 1
        if feed_id not in feeds.feeds:
            raise VendorError(error(404, "CONTENT_NOT_FOUND.GMP_ITEM_INGESTOR_API",
                                    f"Feed {feed_id} not found"))  # fmt: skip
        answer = feeds.status(feed_id)
        items = answer.pop("items")
        if includeDetails:
            page = items[offset : offset + max(1, min(limit, 1000))]
            answer |= {"offset": offset, "limit": limit,
                       "itemDetails": {"itemIngestionStatus": page}}  # fmt: skip
        return answer

    return api


def control_router(feeds: WalmartFeeds) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/walmart", tags=["sandbox control"])

    @api.get("/items")
    async def items() -> dict[str, Any]:
        """The items set up through feeds, the feeds received, the prices in force."""
        return {"feeds": len(feeds.feeds), "items": feeds.items, "prices": feeds.prices}

    return api
