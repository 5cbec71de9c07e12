"""Part of an order the customer will not get (not collected, or no node could ship it):
cancelled on the channel, which refunds it, while the rest of the order goes on."""

from __future__ import annotations

from pydantic import BaseModel, Field

from canonical.order import Order


class LineCancellation(BaseModel):
    cancellation_id: str = Field(min_length=1, description="Idempotency key at the channel")
    order: Order = Field(description="The order as placed")
    lines: dict[str, int] = Field(min_length=1, description="line id -> units cancelled now")
    before: dict[str, int] = Field(
        default_factory=dict, description="line id -> units cancelled by earlier cancellations"
    )
    reason: str
    out_of_stock: bool = Field(default=False, description="Else the customer's doing")
