"""Orders a store fulfils: picked for collection at its counter (buy online, pick up in store)
or shipped from the store. The pick task it receives, what its staff and the customer report
back, and the handover at the counter."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical.address import Address, Customer
from canonical.fulfillment import Shipment, ShipmentLine


class PickLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(gt=0)


class PickTask(BaseModel):
    """Idempotent per (store, order key): sending it again changes nothing."""

    store: str
    order_key: str
    order_number: str
    customer: Customer
    lines: list[PickLine] = Field(min_length=1)
    pick_by: datetime = Field(description="When the pick SLA runs out")
    ship_to: Address | None = Field(
        default=None, description="Ship from store: pack and ship here. None: collected"
    )


class StoreEventKind(StrEnum):
    READY_FOR_PICKUP = "ready_for_pickup"  # picked and waiting at the counter
    PICKED_UP = "picked_up"  # the customer collected (some or all) lines
    SHIPPED = "shipped"  # ship from store: the parcel left with a carrier
    REJECTED = "rejected"  # the store cannot fulfil the task (goods missing or damaged)


class StoreEvent(BaseModel):
    event_id: str = Field(min_length=1, description="The POS's id; the dedupe key")
    store: str
    order_key: str
    kind: StoreEventKind
    lines: list[PickLine] = Field(
        default_factory=list,
        description="picked_up: what the customer took; shipped: what the parcel holds "
        "(all when empty)",
    )
    occurred_at: datetime
    carrier: str | None = Field(default=None, description="shipped: the carrier's code")
    tracking_number: str | None = None
    reason: str | None = Field(default=None, description="rejected: why")


class Handover(BaseModel):
    """The POS records the collection (and takes the units out of the store's stock count)."""

    handover_id: str = Field(min_length=1, description="Ours; the POS dedupes on it")
    store: str
    order_key: str
    lines: list[PickLine] = Field(min_length=1)


def store_parcel(
    store: str,
    order_key: str,
    lines: list[PickLine],
    carrier: str | None,
    tracking_number: str,
    shipped_on: date | None,
) -> Shipment:
    """A parcel shipped from a store, as a shipment of the group it belongs to. Its id is the
    store and the tracking number: the `shipped` event and the task read back from the POS
    name the same parcel alike."""
    return Shipment(
        shipment_id=f"{store}-{tracking_number}",
        order_key=order_key,
        carrier=carrier or "other",
        tracking_number=tracking_number,
        ship_date=shipped_on,
        lines=[ShipmentLine(**line.model_dump()) for line in lines],
    )
