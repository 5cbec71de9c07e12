"""What we ask a warehouse to ship, and what it tells us it shipped."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from canonical.address import Address


class FulfillmentLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(gt=0)


class FulfillmentRequest(BaseModel):
    order_key: str
    order_number: str
    ship_to: Address
    lines: list[FulfillmentLine]
    service: str = "Standard"
    warehouse: str | None = Field(default=None, description="The WMS's warehouse to ship from")


class ShipmentLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(gt=0)


class Shipment(BaseModel):
    shipment_id: str = Field(description="Partner's shipment id; dedupe key")
    order_key: str
    carrier: str
    service: str | None = None
    tracking_number: str
    tracking_url: str | None = None
    ship_date: date | None = None
    lines: list[ShipmentLine]
    voided: bool = False


def shipped_quantities(shipments: list[Shipment]) -> dict[str, int]:
    """Quantity shipped per order line over the shipments that were not voided."""
    shipped: dict[str, int] = {}
    for shipment in shipments:
        if shipment.voided:
            continue
        for line in shipment.lines:
            shipped[line.line_id] = shipped.get(line.line_id, 0) + line.quantity
    return shipped
