"""Shopify's products as `productSet` makes them: upserted by a custom id (an `id` metafield),
its variants replaced wholesale (matched by SKU, so a variant keeps its id), refused with
Shopify's user errors (a price that is not a positive amount, two variants of one SKU, no
title). `GET /_sandbox/shopify/products` shows them; `productVariants(query:
"sku:…")` finds the inventory item of a variant it made."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter

from sandbox.catalog import BY_SKU
from sandbox.shopify import ITEM_GID, ShopifyState


class ShopifyProducts:
    def __init__(self, shop: ShopifyState) -> None:
        self.shop = shop
        self.products: dict[str, dict[str, Any]] = {}  # by custom id value
        self.calls = 0  # productSet mutations received
        shop.graphql_handlers.append(self.answer)

    def answer(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        if "productSet(" in query:
            self.calls += 1
            return {"productSet": self._set(variables["identifier"], variables["input"])}
        if "productVariants(" in query:
            sku = variables["query"].removeprefix("sku:").strip("'\"")
            for product in self.products.values():
                for variant in product["variants"]:
                    if variant["sku"] == sku:
                        item = {"id": variant["inventoryItemId"]}
                        return {"productVariants": {"nodes": [{"sku": sku, "inventoryItem": item}]}}
        return None

    def _set(self, identifier: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        key = identifier["customId"]["value"]
        existing = self.products.get(key)
        errors = self._errors(spec)
        if errors:
            return {"product": None, "userErrors": errors}
        product_id = existing["id"] if existing else f"gid://shopify/Product/{self.shop.new_id()}"
        old = {v["sku"]: v for v in (existing or {}).get("variants", [])}
        variants = []
        for given in spec["variants"]:
            sku = given["inventoryItem"]["sku"]
            number = self.shop.new_id()
            item = BY_SKU[sku].erp_item_id if sku in BY_SKU else number  # the shop's own
            kept = old.get(sku) or {
                "id": f"gid://shopify/ProductVariant/{number}",
                "inventoryItemId": f"{ITEM_GID}{item}",
            }
            variants.append(
                {**kept, "sku": sku, "price": given["price"], "barcode": given.get("barcode", ""),
                 "selectedOptions": given["optionValues"]}
            )  # fmt: skip
        self.products[key] = {
            "id": product_id, "title": spec["title"], "vendor": spec.get("vendor", ""),
            "descriptionHtml": spec.get("descriptionHtml", ""), "status": spec.get("status"),
            "options": spec.get("productOptions", []), "variants": variants,
            "metafields": spec.get("metafields", []),
        }  # fmt: skip
        nodes = [{"id": v["id"], "sku": v["sku"]} for v in variants]
        return {"product": {"id": product_id, "variants": {"nodes": nodes}}, "userErrors": []}

    def _errors(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        skus = [v["inventoryItem"]["sku"] for v in spec.get("variants", [])]
        for n, variant in enumerate(spec.get("variants", [])):
            try:
                price = Decimal(str(variant.get("price")))
            except InvalidOperation:
                price = Decimal(-1)
            if price < 0:
                errors.append(_error(["variants", str(n), "price"], "Price must be positive"))
        if len(set(skus)) != len(skus):
            errors.append(_error(["variants"], "Variants must have unique SKUs"))
        if not spec.get("title"):
            errors.append(_error(["title"], "Title can't be blank"))
        return errors


def _error(field: list[str], message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": "INVALID"}


def control_router(products: ShopifyProducts) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/shopify", tags=["sandbox control"])

    @api.get("/products")
    async def listed() -> dict[str, Any]:
        return {"calls": products.calls, "products": list(products.products.values())}

    return api
