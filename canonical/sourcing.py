"""Where an order's lines ship from: one group per node, and what no node can cover."""

from __future__ import annotations

from pydantic import BaseModel, Field

from canonical.address import Address
from canonical.inventory import NodeKind
from canonical.order import Channel


class DemandLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(gt=0)


class SourcingRequest(BaseModel):
    """Reserve an order's lines: `order_id` keys the reservations (retries reserve once)."""

    order_id: str
    channel: Channel
    lines: list[DemandLine] = Field(min_length=1)
    ship_to: Address | None = None
    pickup_node: str | None = Field(default=None, description="Pickup orders: only this store")
    exclude_nodes: list[str] = Field(
        default_factory=list, description="Re-sourcing: nodes that failed or already hold lines"
    )


class PlannedLine(BaseModel):
    line_id: str
    sku: str
    quantity: int = Field(gt=0)


class ShipmentGroup(BaseModel):
    node: str
    node_kind: NodeKind
    lines: list[PlannedLine]
    warehouse: str | None = Field(default=None, description="The WMS's id of the node")


class Shortfall(BaseModel):
    line_id: str
    sku: str
    requested: int
    available: int = Field(description="Units the order's nodes could promise")
    inbound: int = Field(description="Units in transit to those nodes")

    @property
    def reason(self) -> str:
        inbound = f", {self.inbound} inbound" if self.inbound else ""
        return f"{self.sku}: requested {self.requested}, available {self.available}{inbound}"


class SourcingPlan(BaseModel):
    groups: list[ShipmentGroup] = []
    shortfalls: list[Shortfall] = []

    @property
    def reserved(self) -> bool:
        return bool(self.groups) and not self.shortfalls

    @property
    def split(self) -> bool:
        return len(self.groups) > 1

    @property
    def backorderable(self) -> bool:
        """Every missing unit is on its way: the order can wait instead of being cancelled."""
        return bool(self.shortfalls) and all(
            s.available + s.inbound >= s.requested for s in self.shortfalls
        )

    def reason(self) -> str:
        return "; ".join(s.reason for s in self.shortfalls)
