"""A customer's (or a shop's) privacy request, as a channel sends it: to see what we hold on
them, or to be forgotten. What travels in workflows names the customer by reference only: who
they are stays in the request's inbox entry, which the erasure empties last."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical.customer import customer_ref
from canonical.order import Channel


class PrivacyRequestKind(StrEnum):
    DATA_REQUEST = "data_request"  # what do you hold on me
    CUSTOMER_REDACT = "customer_redact"  # forget me
    SHOP_REDACT = "shop_redact"  # the shop left: forget what it sent


class PrivacySubject(BaseModel):
    """Who a request is about, as the channel names them (personal data: never in a
    workflow's input)."""

    email: str | None = None
    phone: str | None = None

    @property
    def names(self) -> list[str]:
        """What their data is found by, as written in deliveries."""
        return [name for name in (self.email, self.phone) if name]

    @property
    def subject_ref(self) -> str | None:
        return customer_ref(self.email, self.phone)


class PrivacyRequest(BaseModel):
    kind: PrivacyRequestKind
    channel: Channel
    shop: str
    delivery_id: str = Field(description="The delivery (its webhook id), which says who")
    # The customer's reference. Not named `customer_ref`: a payload naming a customer is
    # sealed with their key, and this workflow must read its own history after destroying it.
    subject_ref: str | None = None
    order_ids: list[str] = Field(default_factory=list, description="The channel's order ids")
    received_at: datetime

    @property
    def workflow_id(self) -> str:
        return f"privacy:{self.channel.value}:{self.delivery_id}"


class CustomerDataFound(BaseModel):
    """What we hold on a customer, by reference only (support reads the entries themselves)."""

    inbox_entries: list[int] = Field(default_factory=list)
    workflows: list[str] = Field(default_factory=list)
    erp_reference: str | None = None
    key_destroyed: bool = False


class PrivacyOutcome(BaseModel):
    """The request's audit record: what was done, never the data itself."""

    request: PrivacyRequest
    found: CustomerDataFound | None = None  # a data request's answer
    entries_erased: int = 0
    erp_anonymized: str | None = None  # the ERP's id of the record anonymized
    keys_destroyed: int = 0
    completed_at: datetime
