"""Amazon's Listings Items API as a seller meets it: `putListingsItem` checks what it can at
once (the product type's required attributes, a positive price, the GTIN's check digit) —
in `VALIDATION_PREVIEW` mode without saving — and answers ACCEPTED; what it finds later (a
brand not approved for the account) shows as an ERROR issue on `getListingsItem` once the
submission is processed, else the listing is BUYABLE. Each call is held to its usage plan."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from stdnum import ean

from sandbox.amazon import AmazonState, error
from sandbox.vendor_errors import VendorError

REQUIRED = {
    "HOME": ["item_name", "brand", "color", "material", "purchasable_offer"],
    "PRODUCT": ["item_name", "brand", "purchasable_offer"],
}
APPROVED_BRANDS = {"Northwick"}
PROCESSING_SECONDS = 0.5  # a submission's issues are known this long after it was accepted


def _issue(code: str, message: str, *attributes: str) -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "ERROR",
            "attributeNames": list(attributes)}  # fmt: skip


def _first(attributes: dict[str, Any], name: str) -> Any:
    values = attributes.get(name) or [{}]
    return values[0]


def check(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The issues Amazon finds at once."""
    product_type = body.get("productType", "")
    if product_type not in REQUIRED:
        return [_issue("4000003", f"The product type '{product_type}' is not supported.")]
    attributes = body.get("attributes") or {}
    issues = [
        _issue("90220", f"'{name}' is required but not supplied.", name)
        for name in REQUIRED[product_type]
        if not _first(attributes, name)
    ]
    offer = _first(attributes, "purchasable_offer")
    prices = [s.get("value_with_tax") for p in offer.get("our_price") or [] for s in p["schedule"]]
    if offer and not all(isinstance(p, int | float) and p > 0 for p in prices or [None]):
        issues.append(_issue("8541", "The price must be greater than 0.", "purchasable_offer"))
    gtin = _first(attributes, "externally_assigned_product_identifier").get("value")
    if gtin and not ean.is_valid(str(gtin)):
        issues.append(
            _issue("8560", f"The product ID '{gtin}' is invalid.",
                   "externally_assigned_product_identifier")
        )  # fmt: skip
    return issues


class AmazonListings:
    def __init__(self, amazon: AmazonState) -> None:
        self.amazon = amazon
        self.listings: dict[str, dict[str, Any]] = {}  # by SKU
        self.calls: dict[str, int] = {}  # operation -> calls received

    def take(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        self.amazon.take(operation)  # its usage plan

    def put(self, sku: str, body: dict[str, Any], preview: bool) -> dict[str, Any]:
        self.take("validationPreview" if preview else "putListingsItem")
        issues = check(body)
        submission = uuid.uuid4().hex
        if issues:
            return {"sku": sku, "status": "INVALID", "submissionId": submission, "issues": issues}
        if preview:
            return {"sku": sku, "status": "VALID", "submissionId": submission, "issues": []}
        self.listings[sku] = {"body": body, "submitted": time.monotonic()}
        self.amazon.listed.add(sku)
        return {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}

    def shown(self, sku: str) -> dict[str, Any] | None:
        self.take("getListingsItem")
        listing = self.listings.get(sku)
        if listing is None:
            return None
        if time.monotonic() - listing["submitted"] < PROCESSING_SECONDS:
            return {"sku": sku, "summaries": [{"status": []}], "issues": []}
        brand = _first(listing["body"]["attributes"], "brand").get("value")
        if brand not in APPROVED_BRANDS:
            issue = _issue("18027", f"The brand '{brand}' is not approved for your account.",
                           "brand")  # fmt: skip
            return {"sku": sku, "summaries": [{"status": []}], "issues": [issue]}
        return {"sku": sku, "summaries": [{"status": ["BUYABLE", "DISCOVERABLE"]}], "issues": []}


def router(listings: AmazonListings) -> APIRouter:
    api = APIRouter(prefix="/amazon/listings/2021-08-01/items")

    @api.put("/{seller_id}/{sku}")
    async def put(seller_id: str, sku: str, request: Request, mode: str = "") -> dict[str, Any]:
        return listings.put(sku, await request.json(), mode == "VALIDATION_PREVIEW")

    @api.get("/{seller_id}/{sku}")
    async def get(seller_id: str, sku: str) -> dict[str, Any]:
        shown = listings.shown(sku)
        if shown is None:
            raise VendorError(error(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace."))
        return shown

    return api


def control_router(listings: AmazonListings) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/amazon", tags=["sandbox control"])

    @api.get("/listings")
    async def listed() -> dict[str, Any]:
        bodies = {sku: listing["body"] for sku, listing in listings.listings.items()}
        return {"calls": listings.calls, "listings": bodies}

    return api
