"""Returns: what the customer sends back, the return label they get, what the warehouse or
store receives and finds on inspection, and what is paid back."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical.address import Address
from canonical.money import Money
from canonical.order import Channel, Order


class ReturnSource(StrEnum):
    CHANNEL = "channel"  # the marketplace or web shop (e.g. Shopify refunds/create)
    STORE = "store"  # brought back to a store's counter: received there already
    SUPPORT = "support"  # entered by customer service


class ReturnLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(gt=0)
    reason: str = ""


class ReturnRequest(BaseModel):
    return_id: str = Field(min_length=1, description="Idempotency key: one workflow per return")
    channel: Channel
    external_order_id: str
    source: ReturnSource
    lines: list[ReturnLine] = Field(min_length=1)
    requested_at: datetime
    store: str | None = Field(default=None, description="Returned at this store's counter")
    refunded_by_channel: str | None = Field(
        default=None, description="The channel already paid it back (its refund id)"
    )
    label_by_channel: bool = Field(
        default=False, description="The channel gave the customer the return label (Walmart)"
    )

    @property
    def workflow_id(self) -> str:
        return self.workflow_id_of(self.channel, self.external_order_id, self.return_id)

    @staticmethod
    def workflow_id_of(channel: Channel, external_order_id: str, return_id: str) -> str:
        """One return = one workflow; its id is the RMA the returns desk quotes."""
        return f"return:{channel.value}:{external_order_id}:{return_id}"


class ReturnableOrder(BaseModel):
    """What an order workflow tells a return about the order: its lines and what shipped."""

    order: Order
    shipped: dict[str, int] = Field(description="line id -> units shipped or collected")
    shipped_on: date | None = None


class ReturnLabelRequest(BaseModel):
    rma: str = Field(min_length=1, description="Our return authorisation; the label's key")
    ship_from: Address = Field(description="The customer")
    warehouse: str | None = Field(default=None, description="The WMS's warehouse it goes to")
    lines: list[ReturnLine] = Field(min_length=1, description="What the parcel holds")
    weight_grams: int = 500


class ReturnLabel(BaseModel):
    rma: str
    label_id: str
    carrier: str
    tracking_number: str
    label_url: str


class Condition(StrEnum):
    RESALABLE = "resalable"  # back on the shelf, refunded
    DAMAGED = "damaged"  # refunded, written off
    WRONG_ITEM = "wrong_item"  # not what was sold: not refunded


class InspectedLine(BaseModel):
    line_id: str
    quantity: int = Field(gt=0)
    condition: Condition


class ReturnReceipt(BaseModel):
    """The parcel arrived (at a warehouse or store node)."""

    event_id: str
    node: str
    received_at: datetime


class Inspection(BaseModel):
    event_id: str
    lines: list[InspectedLine] = Field(min_length=1)
    note: str = ""


class ChannelRefund(BaseModel):
    """Pay returned units back through the channel, once per `refund_id`."""

    refund_id: str = Field(min_length=1)
    order: Order
    lines: dict[str, int] = Field(min_length=1, description="line id -> units refunded now")
    before: dict[str, int] = Field(
        default_factory=dict, description="line id -> units refunded by earlier returns"
    )
    reason: str = ""


class TaxRefund(BaseModel):
    """A partial refund of the order's committed tax document, once per `refund_code`."""

    refund_code: str = Field(min_length=1)
    document_code: str
    order: Order
    lines: dict[str, int] = Field(min_length=1)
    refund_date: date


class ReturnClaim(BaseModel):
    """What the returns ledger granted a return: units of each line it may take back."""

    granted: dict[str, int]
    before: dict[str, int] = Field(description="units of each line earlier returns took")
    refused: dict[str, str] = Field(default_factory=dict, description="line id -> why")


class RefundSummary(BaseModel):
    refund_id: str
    amount: Money | None = None


class ReturnPolicy(BaseModel):
    window_days: int = Field(default=30, ge=0, description="From the day the order shipped")
    non_returnable_skus: list[str] = Field(default_factory=list)
    receipt_days: int = Field(default=14, gt=0, description="The parcel must arrive by then")


def check_return(
    request: ReturnRequest, returnable: ReturnableOrder, policy: ReturnPolicy, today: date
) -> tuple[dict[str, int], dict[str, str]]:
    """The units the policy accepts per line, and why the others are refused."""
    lines = {line.line_id: line for line in returnable.order.lines}
    accepted: dict[str, int] = {}
    refused: dict[str, str] = {}
    shipped_on = returnable.shipped_on
    if shipped_on is not None and (today - shipped_on).days > policy.window_days:
        ended = shipped_on.toordinal() + policy.window_days
        reason = f"the {policy.window_days}-day return window ended {date.fromordinal(ended)}"
        return {}, {line.line_id: reason for line in request.lines}
    for line in request.lines:
        shipped = returnable.shipped.get(line.line_id, 0)
        if line.line_id not in lines:
            refused[line.line_id] = "not a line of this order"
        elif lines[line.line_id].sku in policy.non_returnable_skus:
            refused[line.line_id] = f"{lines[line.line_id].sku} cannot be returned"
        elif shipped == 0:
            refused[line.line_id] = "nothing of this line was shipped"
        else:
            accepted[line.line_id] = accepted.get(line.line_id, 0) + min(line.quantity, shipped)
            if line.quantity > shipped:
                refused[line.line_id] = f"only {shipped} shipped"
    return accepted, refused
