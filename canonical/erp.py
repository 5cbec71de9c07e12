"""References the ERP hands back, and what we ask of it beyond the order; the ERP stays the
system of record."""

from pydantic import BaseModel, Field

from canonical.money import Money
from canonical.order import Order


class ItemRef(BaseModel):
    """A channel SKU resolved to the ERP item."""

    sku: str
    erp_item_id: str


class ErpOrderRef(BaseModel):
    external_id: str
    erp_id: str
    number: str | None = None
    status: str | None = None
    shipment_state: str | None = Field(
        default=None, description="The ERP's own delivery state, e.g. waiting, sent"
    )


class ErpInvoiceRef(BaseModel):
    erp_id: str
    order_erp_id: str
    number: str | None = None


class CreditLine(BaseModel):
    sku: str
    quantity: int = Field(gt=0)
    unit_price: Money | None = Field(
        default=None, description="Refunded per unit; the ERP order's price when absent"
    )


class CreditNoteRequest(BaseModel):
    """A return or refund to credit against an order the ERP already invoiced."""

    credit_key: str = Field(min_length=1, description="Idempotency key, e.g. the return's id")
    order_key: str
    lines: list[CreditLine] = Field(min_length=1)
    reason: str = ""


class ErpStockMove(BaseModel):
    """Units of a SKU that left or came back at one of the ERP's locations, so its books move
    stock where the goods did."""

    sku: str
    quantity: int = Field(gt=0)
    location: str | None = Field(
        default=None, description="The ERP's id of the location; None: the ERP's default one"
    )


class ErpRestock(BaseModel):
    """Returned goods found fit to sell again, back on the shelf of the node that received
    them: booked in the ERP once per `restock_key`."""

    restock_key: str = Field(min_length=1)
    order_key: str
    node: str
    lines: dict[str, int] = Field(description="SKU -> units back on the shelf")


class OrderReduction(BaseModel):
    """Units taken off an order's lines before delivery (not collected, or no node could ship
    them): the ERP will neither ship nor bill them. The quantities are what each line keeps,
    so a retry changes nothing."""

    order: Order
    keep: dict[str, int] = Field(description="line id -> units the line keeps (0: none)")


class StockLevel(BaseModel):
    """What the ERP holds of a SKU in one warehouse (for reconciliation, not for selling)."""

    sku: str
    warehouse: str
    on_hand: int
    forecast: int
