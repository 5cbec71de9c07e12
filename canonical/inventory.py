"""Stock as the orchestrator sees it: nodes, inventory events, positions, what a channel sells."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator


class NodeKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    DROPSHIP = "dropship"  # a supplier that ships for us


class InventoryEventKind(StrEnum):
    """What moved stock. The quantity is positive except for ADJUSTMENT, which is signed."""

    RECEIPT = "receipt"  # goods received (ERP purchase receipt): on hand up
    ADJUSTMENT = "adjustment"  # WMS count/damage, reconciliation: on hand up or down
    PICK = "pick"  # picked by the WMS for an order we do not reserve: on hand down
    SALE = "sale"  # sold over the counter (POS): on hand down
    RETURN_RESTOCK = "return_restock"  # a resalable return back on the shelf: on hand up
    TRANSFER_OUT = "transfer_out"  # left `node` for `to_node`: on hand down there, in transit up
    TRANSFER_IN = "transfer_in"  # arrived at `node`: in transit down, on hand up
    SHIPMENT = "shipment"  # our reservation shipped (booked by the service itself)

    @property
    def on_hand_sign(self) -> int:
        return ON_HAND_SIGN[self]


ON_HAND_SIGN = {
    InventoryEventKind.RECEIPT: 1,
    InventoryEventKind.ADJUSTMENT: 1,
    InventoryEventKind.PICK: -1,
    InventoryEventKind.SALE: -1,
    InventoryEventKind.RETURN_RESTOCK: 1,
    InventoryEventKind.TRANSFER_OUT: -1,
    InventoryEventKind.TRANSFER_IN: 1,
    InventoryEventKind.SHIPMENT: -1,
}


class InventoryEvent(BaseModel):
    source: str = Field(min_length=1, description="System that reported it: erp, wms, pos, …")
    event_id: str = Field(min_length=1, description="The source's id; the ledger dedupes on it")
    kind: InventoryEventKind
    sku: str = Field(min_length=1)
    node: str = Field(min_length=1)
    quantity: int
    to_node: str | None = Field(default=None, description="Destination of a TRANSFER_OUT")
    occurred_at: datetime | None = None
    reference: str | None = Field(default=None, description="Order, receipt or document id")

    @model_validator(mode="after")
    def _quantity(self) -> InventoryEvent:
        if self.kind is InventoryEventKind.ADJUSTMENT:
            if self.quantity == 0:
                raise ValueError("an adjustment needs a non-zero quantity")
        elif self.quantity <= 0:
            raise ValueError(f"a {self.kind.value} needs a positive quantity")
        if self.to_node and self.kind is not InventoryEventKind.TRANSFER_OUT:
            raise ValueError("to_node is only for transfer_out")
        return self

    @property
    def on_hand_delta(self) -> int:
        return self.kind.on_hand_sign * self.quantity


class PositionView(BaseModel):
    sku: str
    node: str
    node_kind: NodeKind
    on_hand: int
    reserved: int
    in_transit: int
    safety_stock: int

    @property
    def atp(self) -> int:
        """Available to promise at this node."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class AvailableToSell(BaseModel):
    """What a channel may sell, pushed as an absolute quantity (idempotent by nature)."""

    sku: str = Field(min_length=1)
    quantity: int = Field(ge=0)
    push_id: str = Field(
        min_length=1, description="Idempotency key of this push (retries reuse it)"
    )
