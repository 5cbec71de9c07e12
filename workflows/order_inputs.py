"""Inputs of the order workflows, of their support updates and signals, and what a shipment
group reports back to its order."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical import Order
from canonical.returns import ReturnableOrder, ReturnPolicy, ReturnRequest
from canonical.sourcing import ShipmentGroup


class RetryBudget(BaseModel):
    """How long a call is retried. Attempts are unlimited within the budget: a throttled or
    briefly unavailable partner is not a failure, so it must not use up a count of attempts."""

    initial_interval: timedelta = timedelta(seconds=1)
    maximum_interval: timedelta = timedelta(minutes=1)
    step_timeout: timedelta = timedelta(seconds=30)
    transient_budget: timedelta = Field(
        default=timedelta(hours=1), description="forward step: then the order is held"
    )
    compensation_budget: timedelta = Field(
        default=timedelta(hours=1), description="compensation: then the order needs attention"
    )


class SettlementTerms(BaseModel):
    """The order (the return) completes once the channel's settlements paid what was invoiced
    (refunded), within `tolerance_minor_units` of its currency; past `overdue` it needs
    attention, still waiting."""

    overdue: timedelta = timedelta(days=14)
    tolerance_minor_units: int = Field(default=1, ge=0)


class SettlementResolution(BaseModel):
    note: str = Field(min_length=1, description="Why the difference is accepted")


class OrderToCashInput(BaseModel):
    order: Order
    shipment_sla: timedelta = timedelta(hours=48)
    backorder_retry: timedelta = Field(
        default=timedelta(hours=1),
        description="A backordered order (its missing units are inbound) tries again this often",
    )
    retry: RetryBudget = RetryBudget()
    publish_search_attributes: bool = Field(
        default=True,
        description="Off only on a server without the order search attributes registered "
        "(the time-skipping test server knows none of them)",
    )
    settlement: SettlementTerms | None = Field(
        default=None, description="None: the order completes at its invoice"
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
    done_by_hand: str | None = Field(
        default=None,
        description="The failed call was made by hand in the partner's own tool (e.g. a refund "
        "in Seller Central): its reference, and the step is not tried again",
    )


class ClickAndCollectInput(BaseModel):
    order: Order
    pick_sla: timedelta = Field(
        default=timedelta(hours=2), description="The store has this long to pick: then DELAYED"
    )
    pickup_window: timedelta = Field(
        default=timedelta(days=5), description="Not collected by then: cancelled, stock back"
    )
    retry: RetryBudget = RetryBudget()
    publish_search_attributes: bool = True
    settlement: SettlementTerms | None = Field(
        default=None, description="None: the order completes at its invoice"
    )


class ChangeStore(BaseModel):
    """Support moves a pickup order to another store (one that has the stock)."""

    store: str = Field(min_length=1)
    note: str = ""


class ShipmentGroupInput(BaseModel):
    """One node's part of a split order: its own child workflow ships it."""

    order: Order
    group_id: str = Field(description="g1, g2, … in the order; re-sourced groups follow")
    group: ShipmentGroup
    shipment_sla: timedelta = timedelta(hours=48)
    retry: RetryBudget = RetryBudget()
    publish_search_attributes: bool = True


class GroupResult(StrEnum):
    SHIPPED = "shipped"  # every unit left the node
    REJECTED = "rejected"  # the node refused or failed (some units may have shipped)
    CANCELLED = "cancelled"  # support or the order cancelled it before it shipped


class GroupOutcome(BaseModel):
    group_id: str
    node: str
    result: GroupResult
    shipped: dict[str, int] = Field(default_factory=dict, description="line id -> units")
    unshipped: dict[str, int] = Field(default_factory=dict, description="line id -> units")
    reason: str = ""


class NodeRejection(BaseModel):
    """The node cannot fulfil its part (the store's staff, the supplier or support says so)."""

    reason: str = Field(min_length=1)


class CancelGroup(BaseModel):
    """Support cancels one shipment group of a split order while nothing of it has shipped."""

    group_id: str
    reason: str = Field(min_length=1)


class ReturnInput(BaseModel):
    request: ReturnRequest
    returnable: ReturnableOrder
    policy: ReturnPolicy = ReturnPolicy()
    returns_node: str = Field(default="WH-EAST", description="The node parcels are sent to")
    returns_warehouse: str | None = Field(default="101", description="Its WMS warehouse id")
    retry: RetryBudget = RetryBudget()
    publish_search_attributes: bool = True
    settlement: SettlementTerms | None = Field(
        default=None, description="None: the return completes once refunded"
    )
