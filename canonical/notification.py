"""A message to a customer about their order: which template, to whom, with what data."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class NotificationTemplate(StrEnum):
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKUP_REMINDER = "pickup_reminder"
    PICKUP_EXPIRED = "pickup_expired"
    ORDER_CANCELLED = "order_cancelled"
    RETURN_LABEL = "return_label"
    RETURN_EXPIRED = "return_expired"
    REFUND_ISSUED = "refund_issued"


class Notification(BaseModel):
    notification_id: str = Field(
        min_length=1, description="Ours, e.g. `<order key>:ready_for_pickup`; sent with it"
    )
    template: NotificationTemplate
    to_email: str = Field(min_length=3)
    to_name: str = ""
    data: dict[str, str] = Field(default_factory=dict, description="The template's variables")
