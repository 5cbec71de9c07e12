"""The inventory store: positions, reservations and the ledger, on SQLite or PostgreSQL.

Every write is one transaction. A reservation is a conditional UPDATE
(`on_hand - reserved - safety_stock >= quantity`): PostgreSQL re-checks the condition on the
row's latest version after waiting for its lock, SQLite runs one writer at a time, so no
interleaving of orders can promise a unit twice."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from canonical.inventory import InventoryEvent, InventoryEventKind, NodeKind, PositionView
from canonical.reconciliation import DriftLine, ReconciliationReport
from canonical.sourcing import PlannedLine
from infra.database import write_lock
from inventory.allocation import AllocationRule
from inventory.network import Network
from inventory.tables import (
    ALLOCATIONS,
    LEDGER,
    NODES,
    POSITIONS,
    RECONCILIATION_LINES,
    RECONCILIATION_RUNS,
    RESERVATIONS,
    LedgerEntry,
    Node,
    Reservation,
    ReservationStatus,
    now,
)

ORCHESTRATOR = "orchestrator"  # ledger source of the service's own bookings (shipments)
RECONCILIATION = "reconciliation"  # ledger source of drift adjustments
ACTIVE = ReservationStatus.ACTIVE.value
NETWORK_TTL = 10.0  # seconds a process trusts its copy of nodes and allocations

Touched = set[tuple[str, str]]  # (sku, node) whose ATP may have changed


class UnknownNode(ValueError):
    pass


class OutOfStock(Exception):
    def __init__(self, sku: str, node: str, requested: int) -> None:
        super().__init__(f"{sku} at {node}: cannot reserve {requested}")
        self.sku, self.node, self.requested = sku, node, requested


@dataclass(frozen=True)
class Reserve:
    line_id: str
    sku: str
    node: str
    quantity: int


@dataclass
class Recorded:
    new: list[InventoryEvent]
    duplicates: int
    touched: Touched


class _AlreadyBooked(Exception):
    """A concurrent call booked the same shipment first: this transaction must not."""


class InventoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = write_lock(engine)
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._network_cache: tuple[float, dict[str, Node], dict[str, AllocationRule]] | None = None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction (serialised in-process on SQLite)."""
        with self._lock, self.engine.begin() as conn:
            yield conn

    # --- network -------------------------------------------------------------------------

    def apply_network(self, network: Network) -> None:
        """Upsert nodes and allocations; safety stock of listed positions. Idempotent."""
        self._network_cache = None
        with self._write() as conn:
            for node in network.nodes:
                values = node.model_dump()
                values["kind"] = node.kind.value
                self._upsert(conn, NODES, values, ["code"])
            for allocation in network.allocations:
                values = {
                    "channel": allocation.channel.value,
                    "nodes": ",".join(network.allocation_nodes(allocation)),
                    "cap_percent": allocation.cap_percent,
                    "cap_units": allocation.cap_units,
                    "safety_buffer": allocation.safety_buffer,
                }
                self._upsert(conn, ALLOCATIONS, values, ["channel"])
            for item in network.safety_stock:
                values = {"sku": item.sku, "node": item.node, "safety_stock": item.quantity}
                self._upsert(conn, POSITIONS, {**values, "updated_at": now()}, ["sku", "node"])

    def _upsert(
        self, conn: Connection, table: Any, values: dict[str, Any], keys: list[str]
    ) -> None:
        statement = self._dialect.insert(table).values(**values)
        changes = {k: statement.excluded[k] for k in values if k not in keys}
        conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))

    def nodes(self) -> dict[str, Node]:
        """The network's nodes; read at most every NETWORK_TTL seconds (it changes when a
        process applies its network file, not per order)."""
        return self._network()[0]

    def allocation_rules(self) -> dict[str, AllocationRule]:
        return self._network()[1]

    def _network(self) -> tuple[dict[str, Node], dict[str, AllocationRule]]:
        cached = self._network_cache
        if cached is None or time.monotonic() - cached[0] > NETWORK_TTL:
            with self.engine.connect() as conn:
                nodes = conn.execute(select(NODES)).mappings().all()
                rules = conn.execute(select(ALLOCATIONS)).mappings().all()
            cached = (time.monotonic(), self._nodes(nodes), self._rules(rules))
            self._network_cache = cached
        return cached[1], cached[2]

    @staticmethod
    def _nodes(rows: Sequence[Any]) -> dict[str, Node]:
        return {row["code"]: Node.model_validate(dict(row)) for row in rows}

    @staticmethod
    def _rules(rows: Sequence[Any]) -> dict[str, AllocationRule]:
        return {
            row["channel"]: AllocationRule(
                channel=row["channel"],
                nodes=frozenset(filter(None, row["nodes"].split(","))),
                cap_percent=row["cap_percent"],
                cap_units=row["cap_units"],
                safety_buffer=row["safety_buffer"],
            )
            for row in rows
        }

    # --- events --------------------------------------------------------------------------

    def record(self, events: Sequence[InventoryEvent]) -> Recorded:
        """Book events once each (by source and event id), all or none. `UnknownNode` when an
        event names a node the network does not have."""
        known = set(self.nodes())
        unknown = {e.node for e in events} | {e.to_node for e in events if e.to_node}
        if unknown - known:
            raise UnknownNode(f"unknown node(s) {sorted(unknown - known)}")
        with self._write() as conn:
            return self._record(conn, events)

    def _record(self, conn: Connection, events: Sequence[InventoryEvent]) -> Recorded:
        recorded = Recorded(new=[], duplicates=0, touched=set())
        for event in events:
            if self._book(conn, event):
                recorded.new.append(event)
                recorded.touched.add((event.sku, event.node))
            else:
                recorded.duplicates += 1
        return recorded

    def _book(self, conn: Connection, event: InventoryEvent) -> bool:
        in_transit = -event.quantity if event.kind is InventoryEventKind.TRANSFER_IN else 0
        if not self._ledger(
            conn, event, event.event_id, event.node, event.on_hand_delta, in_transit
        ):
            return False
        self._move(conn, event.sku, event.node, on_hand=event.on_hand_delta, in_transit=in_transit)
        if event.to_node:  # a transfer: in transit at the destination until it arrives
            self._ledger(conn, event, f"{event.event_id}:to", event.to_node, 0, event.quantity)
            self._move(conn, event.sku, event.to_node, in_transit=event.quantity)
        return True

    def _ledger(
        self,
        conn: Connection,
        event: InventoryEvent,
        event_id: str,
        node: str,
        on_hand: int,
        in_transit: int,
    ) -> bool:
        statement = self._dialect.insert(LEDGER).values(
            source=event.source,
            event_id=event_id,
            kind=event.kind.value,
            sku=event.sku,
            node=node,
            on_hand_delta=on_hand,
            in_transit_delta=in_transit,
            reference=event.reference,
            occurred_at=event.occurred_at,
            recorded_at=now(),
        )
        statement = statement.on_conflict_do_nothing(index_elements=["source", "event_id"])
        return _inserted(conn, statement.returning(LEDGER.c.id))

    def _move(
        self, conn: Connection, sku: str, node: str, *, on_hand: int = 0, in_transit: int = 0
    ) -> None:
        """Add to a position, creating it with the node's default safety stock. In transit
        never drops below zero (a transfer may arrive that we never saw leave)."""
        default_safety = select(NODES.c.safety_stock).where(NODES.c.code == node).scalar_subquery()
        statement = self._dialect.insert(POSITIONS).values(
            sku=sku,
            node=node,
            on_hand=on_hand,
            in_transit=max(0, in_transit),
            safety_stock=func.coalesce(default_safety, 0),
            updated_at=now(),
        )
        current = POSITIONS.c
        statement = statement.on_conflict_do_update(
            index_elements=["sku", "node"],
            set_={
                "on_hand": current.on_hand + on_hand,
                "in_transit": case(
                    (current.in_transit + in_transit < 0, 0),
                    else_=current.in_transit + in_transit,
                ),
                "updated_at": now(),
            },
        )
        conn.execute(statement)

    # --- reservations --------------------------------------------------------------------

    def reserve(self, order_id: str, lines: Iterable[Reserve]) -> None:
        """All lines or none. A line already reserved (a retried call) is left as it is.
        `OutOfStock` when a node cannot promise a line any more."""
        # Rows are locked in one order (SKU, node) so that two orders cannot deadlock.
        ordered = sorted(lines, key=lambda r: (r.sku, r.node, r.line_id))
        with self._write() as conn:
            for line in ordered:
                claimed = conn.execute(
                    self._dialect.insert(RESERVATIONS)
                    .values(
                        order_id=order_id,
                        line_id=line.line_id,
                        node=line.node,
                        sku=line.sku,
                        quantity=line.quantity,
                        committed=0,
                        status=ACTIVE,
                        created_at=now(),
                        updated_at=now(),
                    )
                    .on_conflict_do_nothing(index_elements=["order_id", "line_id", "node"])
                    .returning(RESERVATIONS.c.id)
                )
                if claimed.first() is None:  # already reserved
                    continue
                held = conn.execute(
                    update(POSITIONS)
                    .where(
                        and_(
                            POSITIONS.c.sku == line.sku,
                            POSITIONS.c.node == line.node,
                            POSITIONS.c.on_hand - POSITIONS.c.reserved - POSITIONS.c.safety_stock
                            >= line.quantity,
                        )
                    )
                    .values(reserved=POSITIONS.c.reserved + line.quantity, updated_at=now())
                )
                if not held.rowcount:
                    raise OutOfStock(line.sku, line.node, line.quantity)

    def release(
        self, order_id: str, line_ids: Iterable[str] | None = None, node: str | None = None
    ) -> Touched:
        """What was not shipped goes back to ATP (of these lines, at this node, when given);
        a second call changes nothing."""
        touched: Touched = set()
        with self._write() as conn:
            for reservation in self._active(conn, order_id, line_ids):
                if node and reservation["node"] != node:
                    continue
                row = conn.execute(
                    update(RESERVATIONS)
                    .where(
                        RESERVATIONS.c.id == reservation["id"],
                        RESERVATIONS.c.status == ACTIVE,
                    )
                    .values(status=ReservationStatus.RELEASED.value, updated_at=now())
                    .returning(RESERVATIONS.c.quantity, RESERVATIONS.c.committed)
                ).first()
                if row is None:
                    continue
                self._unreserve(conn, reservation["sku"], reservation["node"], row[0] - row[1])
                touched.add((reservation["sku"], reservation["node"]))
        return touched

    def commit(
        self,
        order_id: str,
        shipment_id: str,
        lines: dict[str, int] | None = None,
        node: str | None = None,
    ) -> Touched:
        """A shipment left: its units stop being reserved and leave on hand, booked in the
        ledger as this shipment (so a second call for it changes nothing). `lines`: shipped
        quantity per order line, all that is still reserved when None."""
        touched: Touched = set()
        try:
            with self._write() as conn:
                if self._shipment_booked(conn, shipment_id, order_id):
                    return touched
                wanted = dict(lines) if lines is not None else None
                for reservation in self._active(conn, order_id, lines.keys() if lines else None):
                    if node and reservation["node"] != node:
                        continue
                    open_units = reservation["quantity"] - reservation["committed"]
                    take = (
                        open_units
                        if wanted is None
                        else min(open_units, wanted.get(reservation["line_id"], 0))
                    )
                    if take <= 0:
                        continue
                    if wanted is not None:
                        wanted[reservation["line_id"]] -= take
                    event = InventoryEvent(
                        source=ORCHESTRATOR,
                        event_id=f"{shipment_id}:{reservation['line_id']}:{reservation['node']}",
                        kind=InventoryEventKind.SHIPMENT,
                        sku=reservation["sku"],
                        node=reservation["node"],
                        quantity=take,
                        reference=order_id,
                    )
                    if not self._ledger(conn, event, event.event_id, event.node, -take, 0):
                        raise _AlreadyBooked()
                    conn.execute(
                        update(RESERVATIONS)
                        .where(RESERVATIONS.c.id == reservation["id"])
                        .values(
                            committed=RESERVATIONS.c.committed + take,
                            status=case(
                                (
                                    RESERVATIONS.c.committed + take >= RESERVATIONS.c.quantity,
                                    ReservationStatus.COMMITTED.value,
                                ),
                                else_=RESERVATIONS.c.status,
                            ),
                            updated_at=now(),
                        )
                    )
                    self._unreserve(conn, event.sku, event.node, take, shipped=True)
                    touched.add((event.sku, event.node))
        except _AlreadyBooked:
            return set()
        return touched

    def _shipment_booked(self, conn: Connection, shipment_id: str, order_id: str) -> bool:
        found = conn.execute(
            select(LEDGER.c.id)
            .where(
                LEDGER.c.source == ORCHESTRATOR,
                LEDGER.c.reference == order_id,
                LEDGER.c.event_id.startswith(f"{shipment_id}:"),
            )
            .limit(1)
        ).first()
        return found is not None

    def _active(self, conn: Connection, order_id: str, line_ids: Iterable[str] | None) -> list[Any]:
        statement = (
            select(RESERVATIONS)
            .where(RESERVATIONS.c.order_id == order_id, RESERVATIONS.c.status == ACTIVE)
            .order_by(RESERVATIONS.c.sku, RESERVATIONS.c.node, RESERVATIONS.c.line_id)
        )
        if line_ids is not None:
            statement = statement.where(RESERVATIONS.c.line_id.in_(list(line_ids)))
        return list(conn.execute(statement).mappings().all())

    def _unreserve(
        self, conn: Connection, sku: str, node: str, quantity: int, *, shipped: bool = False
    ) -> None:
        values: dict[str, Any] = {"reserved": POSITIONS.c.reserved - quantity, "updated_at": now()}
        if shipped:
            values["on_hand"] = POSITIONS.c.on_hand - quantity
        conn.execute(
            update(POSITIONS)
            .where(POSITIONS.c.sku == sku, POSITIONS.c.node == node)
            .values(**values)
        )

    # --- reconciliation ------------------------------------------------------------------

    def moved_since(self, cutoff: datetime) -> Touched:
        """Positions whose stock moved (other than by reconciliation) or whose reservations
        changed since `cutoff`."""
        ledger = select(LEDGER.c.sku, LEDGER.c.node).where(
            LEDGER.c.recorded_at >= cutoff,
            LEDGER.c.source != RECONCILIATION,
        )
        held = select(RESERVATIONS.c.sku, RESERVATIONS.c.node).where(
            RESERVATIONS.c.updated_at >= cutoff
        )
        with self.engine.connect() as conn:
            rows = [*conn.execute(ledger.distinct()), *conn.execute(held.distinct())]
        return {(row[0], row[1]) for row in rows}

    def save_reconciliation(
        self, report: ReconciliationReport, events: Sequence[InventoryEvent]
    ) -> Touched:
        """Book the run's adjustments and keep its report, in one transaction."""
        with self._write() as conn:
            touched = self._record(conn, events).touched
            conn.execute(
                insert(RECONCILIATION_RUNS).values(
                    id=report.run_id,
                    started_at=report.at,
                    positions_checked=report.positions_checked,
                    adjustments=report.adjustments,
                    units_adjusted=report.units_adjusted,
                    unmapped=",".join(report.unmapped),
                )
            )
            if report.lines:
                conn.execute(
                    insert(RECONCILIATION_LINES),
                    [{"run_id": report.run_id, **line.model_dump()} for line in report.lines],
                )
        return touched

    def reconciliation_report(self, run_id: str | None = None) -> ReconciliationReport | None:
        """A run's report; the latest run's without `run_id`."""
        runs = select(RECONCILIATION_RUNS).order_by(RECONCILIATION_RUNS.c.started_at.desc())
        if run_id is not None:
            runs = runs.where(RECONCILIATION_RUNS.c.id == run_id)
        with self.engine.connect() as conn:
            run = conn.execute(runs.limit(1)).mappings().first()
            if run is None:
                return None
            lines = conn.execute(
                select(RECONCILIATION_LINES)
                .where(RECONCILIATION_LINES.c.run_id == run["id"])
                .order_by(RECONCILIATION_LINES.c.id)
            ).mappings()
            return ReconciliationReport(
                run_id=run["id"],
                at=run["started_at"],
                positions_checked=run["positions_checked"],
                adjustments=run["adjustments"],
                units_adjusted=run["units_adjusted"],
                lines=[DriftLine.model_validate(dict(line)) for line in lines],
                unmapped=[u for u in run["unmapped"].split(",") if u],
            )

    # --- reads ---------------------------------------------------------------------------

    def positions(
        self, skus: Iterable[str] | None = None, nodes: Iterable[str] | None = None
    ) -> list[PositionView]:
        statement = (
            select(POSITIONS, NODES.c.kind)
            .join(NODES, NODES.c.code == POSITIONS.c.node)
            .where(NODES.c.active)
            .order_by(POSITIONS.c.sku, POSITIONS.c.node)
        )
        if skus is not None:
            statement = statement.where(POSITIONS.c.sku.in_(list(skus)))
        if nodes is not None:
            statement = statement.where(POSITIONS.c.node.in_(list(nodes)))
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [
            PositionView(
                sku=row["sku"],
                node=row["node"],
                node_kind=NodeKind(row["kind"]),
                on_hand=row["on_hand"],
                reserved=row["reserved"],
                in_transit=row["in_transit"],
                safety_stock=row["safety_stock"],
            )
            for row in rows
        ]

    def reservations(
        self, *, order_id: str | None = None, sku: str | None = None, active_only: bool = False
    ) -> list[Reservation]:
        statement = select(RESERVATIONS).order_by(RESERVATIONS.c.id)
        if order_id is not None:
            statement = statement.where(RESERVATIONS.c.order_id == order_id)
        if sku is not None:
            statement = statement.where(RESERVATIONS.c.sku == sku)
        if active_only:
            statement = statement.where(RESERVATIONS.c.status == ACTIVE)
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [Reservation.model_validate(dict(row)) for row in rows]

    def ledger(self, sku: str | None = None, limit: int = 50) -> list[LedgerEntry]:
        statement = select(LEDGER).order_by(LEDGER.c.id.desc()).limit(limit)
        if sku is not None:
            statement = statement.where(LEDGER.c.sku == sku)
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [LedgerEntry.model_validate(dict(row)) for row in rows]

    def planned(self, order_id: str) -> list[tuple[str, PlannedLine]]:
        """(node, line) of the order's reservations that are not released."""
        return [
            (r.node, PlannedLine(line_id=r.line_id, sku=r.sku, quantity=r.quantity))
            for r in self.reservations(order_id=order_id)
            if r.status != ReservationStatus.RELEASED.value
        ]


def _inserted(conn: Connection, statement: Any) -> bool:
    """Whether an `INSERT … ON CONFLICT DO NOTHING RETURNING` inserted (psycopg gives no
    row count for it)."""
    return conn.execute(statement).first() is not None
