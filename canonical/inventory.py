"""What a channel may sell, pushed as an absolute quantity (idempotent by nature)."""

from pydantic import BaseModel, Field


class AvailableToSell(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=0)
    push_id: str = Field(
        min_length=1, description="Idempotency key of this push (retries reuse it)"
    )
