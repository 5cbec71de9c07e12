"""The canonical sales order every channel is normalized into."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from canonical.address import Address, Customer
from canonical.money import Money, total


class Channel(StrEnum):
    SHOPIFY = "shopify"
    AMAZON = "amazon"
    WALMART = "walmart"
    POS = "pos"
    WEB = "web"


class FulfillmentMethod(StrEnum):
    SHIP = "ship"  # our warehouse ships it
    PICKUP = "pickup"  # the customer collects it in a store
    CHANNEL = "channel"  # the marketplace fulfils it (Amazon AFN): never sent to our WMS


class OrderLine(BaseModel):
    line_id: str = Field(description="Channel's line id; kept for ship/cancel calls")
    sku: str
    title: str = ""
    quantity: int = Field(gt=0)
    unit_price: Money
    extended_price: Money | None = Field(
        default=None, description="Line total as the channel states it (Amazon ItemPrice)"
    )
    discount: Money | None = None
    tax: Money | None = None
    channel_lines: dict[str, int] = Field(
        default_factory=dict,
        description="The channel's own line numbers and quantities behind this line "
        "(Walmart splits one purchase into quantity-1 lines; ship and cancel name them)",
    )

    @property
    def gross(self) -> Money:
        """The channel's own line total when it gives one: unit x quantity may not round to it."""
        return self.extended_price or self.unit_price * self.quantity

    @property
    def net(self) -> Money:
        """Line amount after discounts, before tax."""
        return self.gross - self.discount if self.discount else self.gross

    def keeping(self, quantity: int) -> OrderLine:
        """The line with fewer units; its stated amounts shrink in proportion."""
        share = Decimal(quantity) / Decimal(self.quantity)

        def scaled(amount: Money | None) -> Money | None:
            return (amount * share).rounded() if amount is not None else None

        return self.model_copy(
            update={
                "quantity": quantity,
                "extended_price": scaled(self.extended_price),
                "discount": scaled(self.discount),
                "tax": scaled(self.tax),
            }
        )


class Order(BaseModel):
    channel: Channel
    external_id: str = Field(min_length=1, description="Channel's order id")
    order_number: str = Field(description="Human-facing number, e.g. #1042")
    channel_ref: str | None = Field(default=None, description="Channel API id, e.g. a GID")
    placed_at: datetime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    customer: Customer = Customer()
    ship_to: Address | None = None
    lines: list[OrderLine] = Field(min_length=1)
    shipping: Money
    order_discount: Money | None = None
    tax_total: Money
    taxes_included: bool = False
    tax_collected_by_channel: bool = Field(
        default=False, description="Marketplace facilitator: the channel remits the sales tax"
    )
    total: Money
    fulfillment: FulfillmentMethod = FulfillmentMethod.SHIP
    pickup_store: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        amounts = [self.shipping, self.tax_total, self.total]
        amounts += [self.order_discount] if self.order_discount else []
        for line in self.lines:
            amounts += [line.unit_price]
            amounts += [m for m in (line.extended_price, line.discount, line.tax) if m]
        wrong = {m.currency for m in amounts} - {self.currency}
        if wrong:
            raise ValueError(f"amounts in {sorted(wrong)} on a {self.currency} order")
        if self.fulfillment is FulfillmentMethod.SHIP and self.ship_to is None:
            raise ValueError("a shipped order needs a ship-to address")
        if self.fulfillment is FulfillmentMethod.PICKUP and not self.pickup_store:
            raise ValueError("a pickup order needs a pickup store")
        return self

    @property
    def key(self) -> str:
        """Idempotency key shared with partners (ERP external id, WMS order key, tax doc)."""
        return order_key(self.channel, self.external_id)

    @property
    def workflow_id(self) -> str:
        return order_workflow_id(self.channel, self.external_id)

    @property
    def subtotal(self) -> Money:
        return total([line.net for line in self.lines], self.currency)

    def expected_total(self) -> Money:
        """What the customer should have been charged, from lines, shipping, tax, discounts."""
        amount = self.subtotal + self.shipping
        if not self.taxes_included:
            amount = amount + self.tax_total
        if self.order_discount:
            amount = amount - self.order_discount
        return amount.rounded()

    def keeping(self, keep: dict[str, int]) -> Order:
        """The order once lines gave up units (`keep`: line id -> units left; lines not named
        keep theirs, lines left with none are dropped), with its tax and total recomputed."""
        lines = [
            line.keeping(keep[line.line_id]) if line.line_id in keep else line
            for line in self.lines
            if keep.get(line.line_id, line.quantity) > 0
        ]
        if not lines:
            raise ValueError(f"order {self.order_number} would keep no line")
        kept = self.model_copy(update={"lines": lines})
        taxes = [line.tax for line in lines if line.tax is not None]
        if len(taxes) == len(lines):
            kept.tax_total = total(taxes, self.currency)
        kept.total = kept.expected_total()
        return kept

    def skus(self) -> list[str]:
        return sorted({line.sku for line in self.lines})

    def value_of(self, units: dict[str, int]) -> Money:
        """What these units (line id -> units) cost the customer: their net, with their tax
        unless prices include it — what a return of them refunds."""
        by_id = {line.line_id: line for line in self.lines}
        value = Money.zero(self.currency)
        for line_id, quantity in units.items():
            line = by_id[line_id].keeping(quantity)
            value += line.net
            if line.tax is not None and not self.taxes_included:
                value += line.tax
        return value.rounded()


def order_key(channel: Channel | str, external_id: str) -> str:
    """`Order.key` of the channel's order `external_id`."""
    return f"{Channel(channel).value}-{external_id}"


def order_workflow_id(channel: Channel | str, external_id: str) -> str:
    """One order = one workflow execution, whatever the source or how often it arrives."""
    return f"order:{Channel(channel).value}:{external_id}"


def order_key_of_workflow(workflow_id: str) -> str | None:
    """The key (`Order.key`) of the order a workflow serves: the order's own, one of its
    shipment groups' (`order:…~g1`) or one of its returns' (`return:{channel}:{id}:{rma}`)."""
    kind, _, rest = workflow_id.partition(":")
    if kind == "order":
        channel, _, external_id = rest.partition("~")[0].partition(":")
    elif kind == "return":
        channel, _, rest = rest.partition(":")
        external_id = rest.rpartition(":")[0]
    else:
        return None
    return f"{channel}-{external_id}" if channel and external_id else None


def parse_order_key(key: str) -> tuple[Channel, str]:
    """Inverse of `Order.key`: channel names contain no dash, external ids may."""
    channel, _, external_id = key.partition("-")
    return Channel(channel), external_id
