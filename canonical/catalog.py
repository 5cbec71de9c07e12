"""The catalogue as the ERP keeps it (items, their variants and prices), a channel's listing
of one item, and the checks a listing must pass before it is sent."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field
from stdnum import ean

from canonical.money import Money
from canonical.order import Channel


def content_hash(model: BaseModel) -> str:
    """SHA-256 of the model's content, the same for the same content."""
    body = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


class ScheduledPrice(BaseModel):
    """A price of a price list for a while (a sale): from `start` to `end`, then the list's
    regular price again."""

    price_list: str
    price: Money
    start: datetime
    end: datetime | None = None


class CatalogItem(BaseModel):
    """One sellable SKU of the ERP's item master: a variant of its product when the product
    has several (they share `product_id` and differ by `options`)."""

    sku: str = Field(min_length=1)
    product_id: str = Field(description="The ERP's product (template, matrix parent)")
    title: str
    description: str = ""
    attributes: dict[str, str] = Field(default_factory=dict, description="brand, material, …")
    options: dict[str, str] = Field(
        default_factory=dict, description="What sets this variant apart, e.g. Colour: Sage"
    )
    gtin: str | None = None
    prices: dict[str, Money] = Field(default_factory=dict, description="price list -> price")
    scheduled: list[ScheduledPrice] = Field(default_factory=list)
    cost: Money | None = None
    below_cost_ok: bool = Field(False, description="Sold under its cost on purpose")
    weight_grams: int | None = None
    active: bool = True

    def price_at(self, price_list: str, at: datetime) -> Money | None:
        """The item's price in `price_list` at `at`: a scheduled price in force then, else the
        list's regular price (None when the list has none); never another list's."""
        for scheduled in self.scheduled:
            running = scheduled.start <= at and (scheduled.end is None or at < scheduled.end)
            if scheduled.price_list == price_list and running:
                return scheduled.price
        return self.prices.get(price_list)

    def price_changes(self, price_list: str, after: datetime) -> list[ScheduledPrice]:
        """The scheduled prices of `price_list` that start or end after `after`."""
        return [
            s
            for s in self.scheduled
            if s.price_list == price_list and (s.start > after or (s.end and s.end > after))
        ]


class Listing(BaseModel):
    """An item as one channel lists it: what is sent, and what its content hash is taken of."""

    channel: Channel
    sku: str
    product_key: str = Field(description="The channel product its variants are grouped under")
    title: str
    description: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)
    options: dict[str, str] = Field(default_factory=dict)
    gtin: str | None = None
    price: Money
    weight_grams: int | None = None
    product_type: str | None = Field(None, description="The channel's category of the item")

    @property
    def content_hash(self) -> str:
        """Changes whenever anything the channel is sent changes."""
        return content_hash(self)

    @property
    def shape_hash(self) -> str:
        """Changes whenever anything but the price changes: the same shape with another hash
        is a price change only."""
        return content_hash(self.model_copy(update={"price": self.price.model_copy(
            update={"amount": Decimal(0)})}))  # fmt: skip


class ListingState(StrEnum):
    PUBLISHED = "published"  # the channel took it
    PENDING = "pending"  # sent; the channel has not said yet (issues, a feed in progress)
    FAILED = "failed"  # refused, here or by the channel: a listing exception


class ListingOutcome(BaseModel):
    """What a channel said of one listing sent (or will say: `reference` to ask it by)."""

    sku: str
    state: ListingState
    message: str = ""
    reference: str = ""


class ListingRules(BaseModel):
    """What a channel requires of a listing (from its mapping file)."""

    currency: str
    required_attributes: list[str] = Field(default_factory=list)
    gtin_required: bool = False


def gtin_problem(gtin: str) -> str | None:
    """Why `gtin` is no GTIN (8, 12, 13 or 14 digits with a valid check digit), or None."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return f"GTIN {gtin!r} is not 8, 12, 13 or 14 digits"
    if not ean.is_valid(gtin):
        return f"GTIN {gtin} has a wrong check digit"
    return None


def listing_problems(item: CatalogItem, listing: Listing, rules: ListingRules) -> list[str]:
    """Why the listing cannot be sent (empty: it can), each reason a sentence support acts on
    in the ERP."""
    problems = [
        f"required attribute {name!r} is missing"
        for name in rules.required_attributes
        if not listing.attributes.get(name, "").strip()
    ]
    if listing.gtin:
        if problem := gtin_problem(listing.gtin):
            problems.append(problem)
    elif rules.gtin_required:
        problems.append("a GTIN is required")
    price = listing.price
    if price.currency != rules.currency:
        problems.append(f"priced in {price.currency}, the channel sells in {rules.currency}")
    if price.amount <= Decimal(0):
        problems.append(f"price {price} is not above zero")
    elif (
        item.cost is not None
        and item.cost.currency == price.currency
        and price.amount < item.cost.amount
        and not item.below_cost_ok
    ):
        problems.append(f"price {price} is below its cost {item.cost} (not marked as allowed)")
    return problems
