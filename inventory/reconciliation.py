"""Reconciliation: the ERP's and the WMS's counts against our positions. At a node the WMS
runs, its count is the truth; else the ERP's. Drift is booked as an adjustment, except on a
position that moved within the settle window (a shipment or sale still on its way to the
other system would look like drift)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from canonical import StockLevel
from canonical.inventory import InventoryEvent, InventoryEventKind
from canonical.reconciliation import DriftLine, ReconciliationReport
from inventory.store import RECONCILIATION, InventoryStore, Touched


def _by_node(
    levels: Iterable[StockLevel], nodes: dict[str, str], system: str, unmapped: set[str]
) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for level in levels:
        node = nodes.get(level.warehouse)
        if node is None:
            unmapped.add(f"{system}:{level.warehouse}")
            continue
        counts[level.sku, node] = counts.get((level.sku, node), 0) + level.on_hand
    return counts


def reconcile(
    store: InventoryStore,
    run_id: str,
    erp_levels: list[StockLevel],
    wms_levels: list[StockLevel],
    settle: timedelta,
    at: datetime,
) -> tuple[ReconciliationReport, Touched]:
    """Book the drift once per run (a retry finds the run's report and books nothing)."""
    done = store.reconciliation_report(run_id)
    if done is not None:
        return done, set()
    nodes = store.nodes()
    unmapped: set[str] = set()
    wms = _by_node(
        wms_levels,
        {n.wms_warehouse: c for c, n in nodes.items() if n.wms_warehouse},
        "wms",
        unmapped,
    )
    erp = _by_node(
        erp_levels,
        {n.erp_location: c for c, n in nodes.items() if n.erp_location},
        "erp",
        unmapped,
    )
    wms_nodes, erp_nodes = {node for _, node in wms}, {node for _, node in erp}
    positions = {(p.sku, p.node): p.on_hand for p in store.positions()}
    keys = {k for k in {*positions, *wms, *erp} if k[1] in wms_nodes | erp_nodes}
    moved = store.moved_since(at - settle)
    events, lines = [], []
    for sku, node in sorted(keys):
        truth, target = ("wms", wms) if node in wms_nodes else ("erp", erp)
        position = positions.get((sku, node), 0)
        delta = target.get((sku, node), 0) - position
        erp_count = erp.get((sku, node), 0) if node in erp_nodes else None
        wms_count = wms.get((sku, node), 0) if node in wms_nodes else None
        disagree = erp_count is not None and wms_count is not None and erp_count != wms_count
        if delta == 0 and not disagree:
            continue
        notes = []
        booked = delta != 0 and (sku, node) not in moved
        if delta and not booked:
            notes.append(f"moved in the last {settle}: checked again next run")
        if disagree:
            notes.append(f"ERP and WMS differ by {(erp_count or 0) - (wms_count or 0):+d}")
        if booked:
            events.append(
                InventoryEvent(
                    source=RECONCILIATION,
                    event_id=f"{run_id}:{sku}:{node}",
                    kind=InventoryEventKind.ADJUSTMENT,
                    sku=sku,
                    node=node,
                    quantity=delta,
                    reference=run_id,
                    occurred_at=at,
                )
            )
        lines.append(
            DriftLine(
                sku=sku,
                node=node,
                position=position,
                erp=erp_count,
                wms=wms_count,
                truth=truth,
                delta=delta,
                booked=booked,
                note="; ".join(notes),
            )
        )
    report = ReconciliationReport(
        run_id=run_id,
        at=at,
        positions_checked=len(keys),
        adjustments=len(events),
        units_adjusted=sum(e.quantity for e in events),
        lines=lines,
        unmapped=sorted(unmapped),
    )
    return report, store.save_reconciliation(report, events)
