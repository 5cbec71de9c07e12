"""Activity inputs that carry more than one value (one typed model per call)."""

from pydantic import BaseModel

from canonical import ItemRef, Order, Shipment
from canonical.pickup import Handover


class ErpOrderInput(BaseModel):
    order: Order
    items: list[ItemRef]


class ShipmentConfirmation(BaseModel):
    order: Order
    shipment: Shipment


class CollectionConfirmation(BaseModel):
    order: Order
    handover: Handover


class ChannelCancel(BaseModel):
    order: Order
    reason: str
    by_buyer: bool = False  # the buyer asked for it (each channel has its reason code for that)
