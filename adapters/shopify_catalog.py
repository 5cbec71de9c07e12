"""Listings on Shopify: one `productSet` per product (GraphQL Admin API), upserted by the ERP
product's id as a custom id (an `id` metafield), so a repeat updates and never duplicates.
Its list fields are replaced wholesale: every call carries all the product's variants (matched
by SKU, so their ids stay) and all its metafields."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, ClassVar

from adapters.errors import RateLimitedError
from adapters.shopify import ShopifyMarketplace
from canonical.catalog import Listing, ListingOutcome, ListingState

NAMESPACE, KEY = "retail_orchestrator", "erp_product_id"
PRODUCT_SET = """
mutation ProductSet($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product { id variants(first: 250) { nodes { id sku } } }
    userErrors { field message code } } }
"""
DEFAULT_OPTION = {"optionName": "Title", "name": "Default Title"}  # a product of one variant
METAFIELDS = ("material", "color")  # listing attributes kept as product metafields


def product_input(group: list[Listing]) -> dict[str, Any]:
    """The whole product: its title, vendor and metafields, every variant of it."""
    first = group[0]
    names = list(dict.fromkeys(name for listing in group for name in listing.options))
    options = [
        {
            "name": name,
            "position": n,
            "values": [{"name": v} for v in dict.fromkeys(x.options[name] for x in group)],
        }
        for n, name in enumerate(names, start=1)
    ]
    metafields = [{"namespace": NAMESPACE, "key": KEY, "type": "id", "value": first.product_key}]
    metafields += [
        {"namespace": NAMESPACE, "key": name, "type": "single_line_text_field",
         "value": first.attributes[name]}
        for name in METAFIELDS
        if first.attributes.get(name) and len(group) == 1
    ]  # fmt: skip
    return {
        "title": first.title,
        "descriptionHtml": first.description,
        "vendor": first.attributes.get("vendor", ""),
        "status": "ACTIVE",
        **({"productOptions": options} if options else {}),
        "variants": [_variant(listing, names) for listing in group],
        "metafields": metafields,
    }


def _variant(listing: Listing, names: list[str]) -> dict[str, Any]:
    values = [{"optionName": n, "name": listing.options[n]} for n in names] or [DEFAULT_OPTION]
    measured = (
        {"measurement": {"weight": {"value": listing.weight_grams, "unit": "GRAMS"}}}
        if listing.weight_grams
        else {}
    )
    return {
        "optionValues": values,
        "price": str(listing.price.amount),
        "barcode": listing.gtin or "",
        "inventoryItem": {"sku": listing.sku, "tracked": True, **measured},
    }


class ShopifyListings:
    """`ListingPort` of Shopify: synchronous, one call per product."""

    whole_products: ClassVar[bool] = True  # a call replaces the product's variants
    prices_apart: ClassVar[bool] = False  # a price rides with its product
    batch_size: ClassVar[int] = 50  # a call per product: a batch is a few dozen

    def __init__(self, shopify: ShopifyMarketplace) -> None:
        self._shopify = shopify

    async def publish(self, listings: list[Listing]) -> list[ListingOutcome]:
        products: dict[str, list[Listing]] = defaultdict(list)
        for listing in listings:
            products[listing.product_key].append(listing)
        outcomes = []
        for product_key, group in products.items():
            identifier = {"customId": {"namespace": NAMESPACE, "key": KEY, "value": product_key}}
            variables = {"identifier": identifier, "input": product_input(group)}
            result = (await self._within_the_bucket(variables))["productSet"]
            if result["userErrors"]:
                why = "; ".join(e["message"] for e in result["userErrors"])
                outcomes += [ListingOutcome(sku=x.sku, state=ListingState.FAILED, message=why)
                             for x in group]  # fmt: skip
                continue
            product_id = result["product"]["id"]
            outcomes += [
                ListingOutcome(sku=x.sku, state=ListingState.PUBLISHED, reference=product_id)
                for x in group
            ]
        return outcomes

    async def _within_the_bucket(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The productSet, waiting as Shopify says while its cost bucket refills: a batch goes
        on where it was instead of starting again (and being throttled again) as a retry."""
        while True:
            try:
                return await self._shopify.graphql(PRODUCT_SET, variables)
            except RateLimitedError as throttled:
                await asyncio.sleep(throttled.retry_after)

    publish_prices = publish

    async def check(self, pending: list[ListingOutcome]) -> list[ListingOutcome]:
        return pending  # never pending: productSet answers synchronously
