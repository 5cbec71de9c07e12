"""Canonical retail model: channel payloads are normalized into these. No I/O, no vendor names."""

from canonical.address import Address, Customer
from canonical.channel_event import ChannelEvent, ChannelEventKind
from canonical.erp import (
    CreditLine,
    CreditNoteRequest,
    ErpInvoiceRef,
    ErpOrderRef,
    ErpRestock,
    ErpStockMove,
    ItemRef,
    OrderReduction,
    StockLevel,
)
from canonical.fulfillment import (
    FulfillmentLine,
    FulfillmentRequest,
    Shipment,
    ShipmentLine,
)
from canonical.money import Money
from canonical.order import Channel, FulfillmentMethod, Order, OrderLine
from canonical.status import (
    AnyView,
    ExceptionCode,
    GroupView,
    OrderException,
    OrderStatus,
    OrderView,
    PickupView,
    ReturnDetails,
    ReturnView,
    SagaView,
    ShipmentGroupView,
    StatusChange,
    Step,
)
from canonical.tax import TaxLine, TaxQuote

__all__ = [
    "Address",
    "AnyView",
    "Channel",
    "ChannelEvent",
    "ChannelEventKind",
    "CreditLine",
    "CreditNoteRequest",
    "Customer",
    "ErpInvoiceRef",
    "ErpOrderRef",
    "ErpRestock",
    "ErpStockMove",
    "ExceptionCode",
    "FulfillmentLine",
    "FulfillmentMethod",
    "FulfillmentRequest",
    "GroupView",
    "ItemRef",
    "Money",
    "Order",
    "OrderException",
    "OrderLine",
    "OrderReduction",
    "OrderStatus",
    "OrderView",
    "PickupView",
    "ReturnDetails",
    "ReturnView",
    "SagaView",
    "Shipment",
    "ShipmentGroupView",
    "ShipmentLine",
    "StatusChange",
    "Step",
    "StockLevel",
    "TaxLine",
    "TaxQuote",
]
