"""Order lifecycle as ops and support see it: status, step, timeline, exception."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from canonical.erp import ErpOrderRef
from canonical.fulfillment import Shipment
from canonical.money import Money
from canonical.settlement import OrderSettlement


class OrderStatus(StrEnum):
    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    DELAYED = "DELAYED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    AWAITING_SETTLEMENT = "AWAITING_SETTLEMENT"  # invoiced; the channel has not paid it out yet
    AWAITING_RETURN = "AWAITING_RETURN"  # a return label is out; the parcel is on its way
    INSPECTING = "INSPECTING"  # the returned goods arrived and wait for their inspection
    ON_HOLD = "ON_HOLD"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    COMPLETED = "COMPLETED"
    REFUSED = "REFUSED"  # a return the policy does not allow

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.REFUSED}
)


class Step(StrEnum):
    VALIDATE = "validate"
    TAX_QUOTE = "tax_quote"
    RESERVE_STOCK = "reserve_stock"
    ERP_ORDER = "erp_order"
    CHANNEL_ACK = "channel_ack"
    FULFILLMENT_REQUEST = "fulfillment_request"
    AWAIT_SHIPMENT = "await_shipment"
    CONFIRM_SHIPMENT = "confirm_shipment"
    ERP_DELIVERY = "erp_delivery"
    STORE_PICK = "store_pick"
    AWAIT_PICKUP = "await_pickup"
    HANDOVER = "handover"
    INVOICE = "invoice"
    RETURN_POLICY = "return_policy"
    RETURN_LABEL = "return_label"
    AWAIT_RETURN = "await_return"
    INSPECTION = "inspection"
    REFUND = "refund"
    CREDIT_NOTE = "credit_note"
    SETTLEMENT = "settlement"  # invoiced, waiting for the channel to pay it out
    TAX_REFUND = "tax_refund"
    RESTOCK = "restock"
    COMPENSATE = "compensate"
    DONE = "done"


class ExceptionCode(StrEnum):
    """Why an order stopped. Holdable: data problems support can fix, and partners that stayed
    unavailable beyond the retry budget; the order waits for resume or cancel. The others are
    refusals by a partner: the saga compensates."""

    UNKNOWN_SKU = "UNKNOWN_SKU"
    ADDRESS_REJECTED = "ADDRESS_REJECTED"
    INVALID_ORDER = "INVALID_ORDER"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    ERP_REJECTED = "ERP_REJECTED"
    TAX_REJECTED = "TAX_REJECTED"
    WMS_REJECTED = "WMS_REJECTED"
    CHANNEL_REJECTED = "CHANNEL_REJECTED"
    NOTIFICATION_REJECTED = "NOTIFICATION_REJECTED"
    STORE_REJECTED = "STORE_REJECTED"
    SUPPLIER_REJECTED = "SUPPLIER_REJECTED"
    PARTNER_UNAVAILABLE = "PARTNER_UNAVAILABLE"
    STEP_FAILED = "STEP_FAILED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"
    # The partner cannot withdraw what it was asked because the goods already left: the
    # order goes on to completion instead of unwinding.
    ALREADY_SHIPPED = "ALREADY_SHIPPED"
    ALREADY_COLLECTED = "ALREADY_COLLECTED"  # the same, for goods the customer took in store
    # A reconciliation found the ERP's and the WMS's counts apart (not an order's exception:
    # the reconciliation run carries it, so ops find it where they find stuck orders).
    STOCK_DRIFT = "STOCK_DRIFT"
    # A node the network does not have (a returned parcel booked at a mistyped node): support
    # corrects it (`return-received` with the right node) and resumes.
    UNKNOWN_NODE = "UNKNOWN_NODE"
    # The channel's settlement of an invoiced order: not in after SETTLEMENT_OVERDUE_DAYS, or
    # in but not what was due (support resolves it: `settlement resolve`).
    SETTLEMENT_OVERDUE = "SETTLEMENT_OVERDUE"
    SHORT_PAID = "SHORT_PAID"
    OVER_PAID = "OVER_PAID"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"

    @property
    def holdable(self) -> bool:
        return self in HOLDABLE_CODES


HOLDABLE_CODES = frozenset(
    {
        ExceptionCode.UNKNOWN_SKU,
        ExceptionCode.ADDRESS_REJECTED,
        ExceptionCode.INVALID_ORDER,
        ExceptionCode.TOTALS_MISMATCH,
        ExceptionCode.OUT_OF_STOCK,
        ExceptionCode.PARTNER_UNAVAILABLE,
        ExceptionCode.STEP_FAILED,
        ExceptionCode.UNKNOWN_NODE,
    }
)


class OrderException(BaseModel):
    code: ExceptionCode
    message: str
    step: Step
    at: datetime


class StatusChange(BaseModel):
    at: datetime
    status: OrderStatus
    step: Step
    note: str = ""


class GroupView(BaseModel):
    """One shipment group of a split order, as its order shows it."""

    group_id: str
    workflow_id: str
    node: str
    lines: dict[str, int]
    status: str = Field(description="running, shipped, rejected or cancelled")
    reason: str = ""


class ReturnDetails(BaseModel):
    """A return, as its status query shows it."""

    return_id: str
    accepted: dict[str, int] = Field(default_factory=dict, description="line id -> units")
    refused: dict[str, str] = Field(default_factory=dict, description="line id -> why")
    rma: str | None = None
    label_url: str | None = None
    tracking_number: str | None = None
    received_at_node: str | None = None
    inspected: dict[str, str] = Field(
        default_factory=dict, description="line id -> units and condition, e.g. '1 resalable'"
    )
    refunded: dict[str, int] = Field(default_factory=dict)
    refund_id: str | None = Field(None, description="The refund's id on the channel")
    refund_amount: Money | None = Field(
        None, description="What was refunded, as the channel settles it (negative)"
    )
    credit_note: str | None = None


class SagaView(BaseModel):
    """What every saga's `status` query shares; each workflow type answers with its own view
    (`kind` tells them apart)."""

    workflow_id: str
    order_number: str
    status: OrderStatus
    step: Step
    timeline: list[StatusChange]
    exception: OrderException | None = None
    compensations_done: list[str] = []
    cancel_reason: str | None = None
    settlement_due: Money | None = Field(
        None, description="What it waits for the channel to settle (a refund: negative)"
    )
    settlement: OrderSettlement | None = Field(
        None, description="Its channel settlements so far, weighed against what was due"
    )


class OrderView(SagaView):
    """An order shipped to the customer (order-to-cash)."""

    kind: Literal["order"] = "order"
    erp_order: ErpOrderRef | None = None
    shipments: list[Shipment] = []
    groups: list[GroupView] = Field(default_factory=list, description="Split: shipment groups")
    cancelled_lines: dict[str, int] = Field(
        default_factory=dict, description="line id -> units cancelled (and refunded)"
    )


class PickupView(SagaView):
    """An order collected in store (click-and-collect)."""

    kind: Literal["pickup"] = "pickup"
    erp_order: ErpOrderRef | None = None
    pickup_store: str


class ReturnView(SagaView):
    """A return."""

    kind: Literal["return"] = "return"
    return_details: ReturnDetails


class ShipmentGroupView(SagaView):
    """One node's part of a split order (a child of its order)."""

    kind: Literal["group"] = "group"
    shipments: list[Shipment] = []


# Any saga's status, as a client reads it without knowing the workflow type.
AnyView = Annotated[
    OrderView | PickupView | ReturnView | ShipmentGroupView, Field(discriminator="kind")
]
