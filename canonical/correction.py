"""A correction support makes to an order delivery the channel sent incomplete (a draft order
without a shipping address, a line without a SKU), so that it can be admitted."""

from __future__ import annotations

from pydantic import BaseModel, Field

from canonical.address import Address


class OrderCorrection(BaseModel):
    ship_to: Address | None = Field(default=None, description="The address to ship to")
    skus: dict[str, str] = Field(default_factory=dict, description="line id -> SKU")

    def summary(self) -> str:
        """What changed, for the entry's history: no customer data (the address is in the
        corrected body, sealed like the rest)."""
        changes = ["ship-to address set"] if self.ship_to else []
        changes += [f"line {line} SKU set to {sku}" for line, sku in self.skus.items()]
        return "; ".join(changes)
