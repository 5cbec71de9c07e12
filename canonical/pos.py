"""Store sales as the POS reports them; each becomes one ERP cash sale."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from canonical.money import Money, total


class PosSaleLine(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price: Money


class PosSale(BaseModel):
    transaction_id: str = Field(min_length=1, description="POS transaction id: the dedupe key")
    store_id: str = Field(min_length=1)
    occurred_at: datetime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[PosSaleLine] = Field(min_length=1)
    tax: Money
    total: Money
    tender: str = "card"

    @model_validator(mode="after")
    def _adds_up(self) -> PosSale:
        expected = total([line.unit_price * line.quantity for line in self.lines], self.currency)
        if (expected + self.tax).rounded() != self.total.rounded():
            raise ValueError(f"total {self.total} is not lines {expected} + tax {self.tax}")
        return self

    @property
    def business_day(self) -> date:
        return self.occurred_at.date()

    @property
    def key(self) -> str:
        """The ERP external id of the cash sale."""
        return f"pos-{self.store_id}-{self.transaction_id}"


class ErpSaleRef(BaseModel):
    external_id: str
    erp_id: str
