"""The SP-API Feeds API for `JSON_LISTINGS_FEED`: `createFeedDocument` gives a (pre-signed)
upload URL, `createFeed` names the uploaded document, the feed is IN_QUEUE, then DONE a moment
later (`PROCESSING_SECONDS`, whether or not anyone asks) with a processing report
(`getFeedDocument`): each UPDATE message checked as `putListingsItem` checks it, each PATCH
message applied as `patchListingsItem` applies it (a SKU not listed is refused), the ERROR
issues named by message id. Each call is held to its usage plan (createFeed: one every two
minutes, a burst of 15)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.amazon import AmazonState, error
from sandbox.amazon_listings import AmazonListings, check
from sandbox.catalog import BY_SKU
from sandbox.vendor_errors import VendorError

PROCESSING_SECONDS = 0.5


class AmazonFeeds:
    def __init__(self, amazon: AmazonState, listings: AmazonListings) -> None:
        self.amazon = amazon
        self.listings = listings
        self.documents: dict[str, str] = {}  # feed document id -> uploaded or report text
        self.feeds: dict[str, dict[str, Any]] = {}
        self.base_url = ""
        self.calls = 0  # Feeds API calls received

    def take(self, operation: str) -> None:
        self.calls += 1
        self.amazon.take(operation)  # its usage plan

    def process(self, feed: dict[str, Any]) -> None:
        """The feed's messages listed, patched or refused, and its processing report."""
        if feed["processingStatus"] == "DONE":
            return
        content = json.loads(self.documents.get(feed["inputFeedDocumentId"], "{}") or "{}")
        issues, accepted = [], 0
        for message in content.get("messages") or []:
            patching = message.get("operationType") == "PATCH"
            found = self._patch(message) if patching else check(message)
            issues += [{**issue, "messageId": message["messageId"]} for issue in found]
            if found:
                continue
            accepted += 1
            if not patching:
                self.listings.listings[message["sku"]] = {
                    "body": {k: message[k] for k in ("productType", "attributes") if k in message},
                    "submitted": time.monotonic(),
                }
                self.amazon.listed.add(message["sku"])
        report = {
            "header": {"sellerId": content.get("header", {}).get("sellerId"), "version": "2.0",
                       "feedId": feed["feedId"]},
            "issues": issues,
            "summary": {"errors": len(issues), "warnings": 0,
                        "messagesProcessed": len(content.get("messages") or []),
                        "messagesAccepted": accepted,
                        "messagesInvalid": len({i["messageId"] for i in issues})},
        }  # fmt: skip
        document_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}"
        self.documents[document_id] = json.dumps(report)
        feed |= {"processingStatus": "DONE", "resultFeedDocumentId": document_id}

    def _patch(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """A PATCH message applied as `patchListingsItem` applies it; its issues."""
        sku = message["sku"]
        if sku not in BY_SKU and sku not in self.amazon.listed:
            return [{"code": "4000004", "severity": "ERROR", "message": f"SKU {sku} not found."}]
        for patch in message.get("patches") or []:
            if patch["path"] == "/attributes/fulfillment_availability":
                self.amazon.availability[sku] = int(patch["value"][0]["quantity"])
                self.amazon.push_log.record(sku, self.amazon.availability[sku])
        return []

    def feed(self, feed_id: str) -> dict[str, Any]:
        feed = self.feeds[feed_id]
        if feed["processingStatus"] == "IN_QUEUE" and (
            time.monotonic() - feed["created"] >= PROCESSING_SECONDS
        ):
            self.process(feed)
        return {k: v for k, v in feed.items() if k != "created"}


def router(feeds: AmazonFeeds) -> APIRouter:
    api = APIRouter(prefix="/amazon/feeds/2021-06-30")

    @api.post("/documents", status_code=201)
    async def create_document() -> dict[str, str]:
        feeds.take("createFeedDocument")
        document_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}"
        feeds.documents[document_id] = ""
        return {"feedDocumentId": document_id,
                "url": f"{feeds.base_url}/_sandbox/amazon/feed-uploads/{document_id}"}  # fmt: skip

    @api.post("/feeds", status_code=202)
    async def create_feed(request: Request) -> dict[str, str]:
        feeds.take("createFeed")
        spec = await request.json()
        if spec.get("feedType") != "JSON_LISTINGS_FEED":
            message = f"Unsupported feedType {spec.get('feedType')}"
            raise VendorError(error(400, "InvalidInput", message))
        if spec.get("inputFeedDocumentId") not in feeds.documents:
            raise VendorError(error(400, "InvalidInput", "Unknown inputFeedDocumentId."))
        feed_id = str(uuid.uuid4().int % 10**11)
        feeds.feeds[feed_id] = {
            "feedId": feed_id, "feedType": spec["feedType"], "processingStatus": "IN_QUEUE",
            "marketplaceIds": spec.get("marketplaceIds", []),
            "inputFeedDocumentId": spec["inputFeedDocumentId"], "created": time.monotonic(),
        }  # fmt: skip
        # Amazon processes a feed on its own time: a moment later here, asked about or not.
        asyncio.get_running_loop().call_later(
            PROCESSING_SECONDS, feeds.process, feeds.feeds[feed_id]
        )
        return {"feedId": feed_id}

    @api.get("/feeds/{feed_id}")
    async def get_feed(feed_id: str) -> Response:
        feeds.take("getFeed")
        if feed_id not in feeds.feeds:
            return error(404, "NotFound", f"Feed {feed_id} was not found.")
        return JSONResponse(feeds.feed(feed_id))

    @api.get("/documents/{document_id}")
    async def get_document(document_id: str) -> Response:
        feeds.take("getFeedDocument")
        if document_id not in feeds.documents:
            return error(404, "NotFound", f"Document {document_id} was not found.")
        url = f"{feeds.base_url}/_sandbox/amazon/feed-uploads/{document_id}"
        return JSONResponse({"feedDocumentId": document_id, "url": url})

    return api


def upload_router(feeds: AmazonFeeds) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/amazon/feed-uploads", tags=["sandbox control"])

    @api.put("/{document_id}")
    async def upload(document_id: str, request: Request) -> Response:
        """The pre-signed upload URL of a feed document."""
        if document_id not in feeds.documents:
            return JSONResponse({"detail": "unknown document"}, status_code=404)
        feeds.documents[document_id] = (await request.body()).decode()
        return Response(status_code=200)

    @api.get("/{document_id}")
    async def download(document_id: str) -> Response:
        """The pre-signed download URL of a feed document (a processing report)."""
        text = feeds.documents.get(document_id)
        if text is None:
            return JSONResponse({"detail": "unknown document"}, status_code=404)
        return PlainTextResponse(text)

    return api
