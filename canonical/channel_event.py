"""Something the channel reports about an order after the fact (refund, fulfilment, …)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from canonical.money import Money


class ChannelEventKind(StrEnum):
    REFUND = "refund"
    FULFILLMENT = "fulfillment"
    CANCEL_REQUEST = "cancel request"  # the buyer asked to cancel once it was too late


class ChannelEvent(BaseModel):
    kind: ChannelEventKind
    event_id: str
    occurred_at: datetime
    summary: str
    amount: Money | None = None
