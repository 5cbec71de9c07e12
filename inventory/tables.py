"""The inventory store's tables. They live in their own metadata: alembic migrates them
(`inventory/migrations`), the inbox's `create_all` never touches them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Table, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


def now() -> datetime:
    return datetime.now(UTC)


class InventoryTable(SQLModel, registry=registry()):
    pass


class Node(InventoryTable, table=True):
    """A place stock sits: a warehouse, a store, a drop-ship supplier."""

    __tablename__ = "inventory_node"

    code: str = Field(primary_key=True)
    name: str
    kind: str
    country: str = "US"
    postal_code: str = ""
    erp_location: str | None = None
    wms_warehouse: str | None = None
    safety_stock: int = Field(default=0, description="Default for new positions")
    active: bool = True


class Position(InventoryTable, table=True):
    __tablename__ = "inventory_position"
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="ck_position_reserved"),
        CheckConstraint("in_transit >= 0", name="ck_position_in_transit"),
        CheckConstraint("safety_stock >= 0", name="ck_position_safety_stock"),
    )

    sku: str = Field(primary_key=True)
    node: str = Field(primary_key=True, foreign_key="inventory_node.code")
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    safety_stock: int = 0
    updated_at: datetime = Field(default_factory=now)


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"  # cancelled: what was not shipped went back to ATP
    COMMITTED = "committed"  # shipped in full


class Reservation(InventoryTable, table=True):
    """Units held for one order line at one node. `committed` counts the units shipped."""

    __tablename__ = "inventory_reservation"
    __table_args__ = (
        UniqueConstraint("order_id", "line_id", "node", name="uq_reservation_order_line_node"),
        Index("ix_reservation_sku_status", "sku", "status"),
        CheckConstraint("committed <= quantity", name="ck_reservation_committed"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True)
    line_id: str
    node: str = Field(foreign_key="inventory_node.code")
    sku: str
    quantity: int
    committed: int = 0
    status: str = ReservationStatus.ACTIVE.value
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)


class LedgerEntry(InventoryTable, table=True):
    """Append-only: every change of on hand or in transit, once per source event."""

    __tablename__ = "inventory_ledger"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_ledger_source_event"),
        Index("ix_ledger_sku_node", "sku", "node"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str
    event_id: str
    kind: str
    sku: str
    node: str = Field(foreign_key="inventory_node.code")
    on_hand_delta: int = 0
    in_transit_delta: int = 0
    reference: str | None = None
    occurred_at: datetime | None = None
    recorded_at: datetime = Field(default_factory=now)


class ChannelAllocation(InventoryTable, table=True):
    """Which nodes a channel may sell from, and how much of their ATP it is offered."""

    __tablename__ = "inventory_channel_allocation"

    channel: str = Field(primary_key=True)
    nodes: str = Field(description="Comma-separated node codes")
    cap_percent: int = 100
    cap_units: int | None = None
    safety_buffer: int = 0


class ReconciliationRun(InventoryTable, table=True):
    __tablename__ = "inventory_reconciliation_run"

    id: str = Field(primary_key=True)
    started_at: datetime = Field(default_factory=now)
    positions_checked: int = 0
    adjustments: int = 0
    units_adjusted: int = 0
    unmapped: str = Field(default="", description="Comma-separated snapshot locations")


class ReconciliationLine(InventoryTable, table=True):
    __tablename__ = "inventory_reconciliation_line"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="inventory_reconciliation_run.id", index=True)
    sku: str
    node: str
    position: int
    erp: int | None = None
    wms: int | None = None
    truth: str
    delta: int
    booked: bool
    note: str = ""


METADATA = InventoryTable.metadata


def _table(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for the store's conditional UPDATEs and upserts."""
    return model.__table__  # type: ignore[attr-defined]


NODES = _table(Node)
POSITIONS = _table(Position)
RESERVATIONS = _table(Reservation)
LEDGER = _table(LedgerEntry)
ALLOCATIONS = _table(ChannelAllocation)
RECONCILIATION_RUNS = _table(ReconciliationRun)
RECONCILIATION_LINES = _table(ReconciliationLine)
