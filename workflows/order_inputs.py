"""Inputs of the order-to-cash workflow and of its support updates."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical import Order


class RetryBudget(BaseModel):
    """How hard a step tries before the saga treats its failure as permanent."""

    initial_interval: timedelta = timedelta(seconds=1)
    maximum_interval: timedelta = timedelta(seconds=30)
    step_attempts: int = Field(default=8, ge=1)
    compensation_attempts: int = Field(default=20, ge=1)
    step_timeout: timedelta = timedelta(seconds=30)


class OrderToCashInput(BaseModel):
    order: Order
    shipment_sla: timedelta = timedelta(hours=48)
    retry: RetryBudget = RetryBudget()
    publish_search_attributes: bool = Field(
        default=True,
        description="Off only on a server without the order search attributes registered "
        "(the time-skipping test server knows none of them)",
    )


class CancelSource(StrEnum):
    SUPPORT = "support"
    CHANNEL = "channel"
    CUSTOMER = "customer"


class CancelRequest(BaseModel):
    reason: str = Field(min_length=1)
    source: CancelSource = CancelSource.SUPPORT


class ResumeRequest(BaseModel):
    note: str = ""
    sku_overrides: dict[str, str] = Field(
        default_factory=dict, description="Replace channel SKUs (old -> new) before retrying"
    )
