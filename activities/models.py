"""Activity inputs that carry more than one value (one typed model per call)."""

from pydantic import BaseModel, Field

from canonical import ErpOrderRef, ItemRef, Order, Shipment


class ErpOrderInput(BaseModel):
    order: Order
    items: list[ItemRef]


class ChannelAck(BaseModel):
    order: Order
    erp_order: ErpOrderRef | None = Field(
        default=None, description="None since acknowledgement stopped waiting for the ERP"
    )


class ShipmentConfirmation(BaseModel):
    order: Order
    shipment: Shipment


class ChannelCancel(BaseModel):
    order: Order
    reason: str
