"""Inventory service activities: allocate (source and reserve), release, commit shipments,
reconcile. The store is ours: a database error is retried like a transient partner
error; a shortfall is a result (the saga decides), not an error."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from canonical import ExceptionCode, Shipment, StockLevel
from canonical.inventory import InventoryEvent, InventoryEventKind
from canonical.reconciliation import ReconciliationReport
from canonical.sourcing import SourcingPlan, SourcingRequest
from inventory.reconciliation import reconcile
from inventory.service import InventoryService
from inventory.store import Touched, UnknownNode


class ChangeNotifier(Protocol):
    async def changed(self, touched: Touched, resync: bool = False) -> None:
        """Tell the channels selling from these positions that their ATP may have changed."""
        ...


class ShipmentCommit(BaseModel):
    order_id: str
    shipment_id: str
    lines: dict[str, int] | None = None  # shipped per order line; None: all still reserved
    node: str | None = None  # the node it left from; None: wherever the lines are reserved


def shipment_commit(shipment: Shipment) -> ShipmentCommit:
    lines: dict[str, int] = {}
    for line in shipment.lines:
        lines[line.line_id] = lines.get(line.line_id, 0) + line.quantity
    return ShipmentCommit(
        order_id=shipment.order_key, shipment_id=shipment.shipment_id, lines=lines
    )


class LinesRelease(BaseModel):
    order_id: str
    line_ids: list[str]
    node: str | None = None  # only what these lines hold there


class ReturnRestock(BaseModel):
    """Resalable returned units back on a node's shelf, booked once per return and line."""

    return_id: str
    order_id: str
    node: str
    lines: dict[str, int]
    skus: dict[str, str]  # line id -> SKU


class ReconcileRequest(BaseModel):
    run_id: str
    erp: list[StockLevel]
    wms: list[StockLevel]
    settle: timedelta
    at: datetime


class InventoryActivities:
    def __init__(self, service: InventoryService, notifier: ChangeNotifier) -> None:
        self._service = service
        self._notifier = notifier

    @activity.defn
    async def allocate_order(self, request: SourcingRequest) -> SourcingPlan:
        plan = await asyncio.to_thread(self._service.allocate, request)
        await self._notifier.changed(
            {(line.sku, group.node) for group in plan.groups for line in group.lines}
        )
        return plan

    @activity.defn
    async def stores_with_stock(self, request: SourcingRequest) -> list[str]:
        return await asyncio.to_thread(self._service.stores_with_stock, request)

    @activity.defn
    async def release_order(self, order_id: str) -> None:
        await self._notifier.changed(await asyncio.to_thread(self._service.store.release, order_id))

    @activity.defn
    async def release_lines(self, request: LinesRelease) -> None:
        """Put back what some lines still hold (the rest of the order stays reserved)."""
        touched = await asyncio.to_thread(
            self._service.store.release, request.order_id, request.line_ids, request.node
        )
        await self._notifier.changed(touched)

    @activity.defn
    async def restock_return(self, request: ReturnRestock) -> None:
        events = [
            InventoryEvent(
                source="returns",
                event_id=f"{request.return_id}:{line_id}",
                kind=InventoryEventKind.RETURN_RESTOCK,
                sku=request.skus[line_id],
                node=request.node,
                quantity=quantity,
                reference=request.order_id,
            )
            for line_id, quantity in sorted(request.lines.items())
        ]
        try:
            await asyncio.to_thread(self._service.store.record, events)
        except UnknownNode as exc:  # no retry makes a node exist: support corrects the receipt
            raise ApplicationError(
                f"{request.node} is not a node of the network ({exc})",
                type=ExceptionCode.UNKNOWN_NODE.value,
                non_retryable=True,
            ) from exc
        await self._notifier.changed({(event.sku, event.node) for event in events})

    @activity.defn
    async def commit_shipment(self, request: ShipmentCommit) -> None:
        touched = await asyncio.to_thread(
            self._service.store.commit,
            request.order_id,
            request.shipment_id,
            request.lines,
            request.node,
        )
        await self._notifier.changed(touched)

    @activity.defn
    async def inventory_skus(self) -> list[str]:
        positions = await asyncio.to_thread(self._service.store.positions)
        return sorted({p.sku for p in positions})

    @activity.defn
    async def reconcile_inventory(self, request: ReconcileRequest) -> ReconciliationReport:
        report, _ = await asyncio.to_thread(
            reconcile,
            self._service.store,
            request.run_id,
            request.erp,
            request.wms,
            request.settle,
            request.at,
        )
        # Every position is re-published after a run: a change whose signal was lost (the
        # process died between the booking and the signal) reaches the channels here.
        positions = await asyncio.to_thread(self._service.store.positions)
        await self._notifier.changed({(p.sku, p.node) for p in positions}, resync=True)
        return report

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.allocate_order,
            self.stores_with_stock,
            self.release_order,
            self.release_lines,
            self.restock_return,
            self.commit_shipment,
            self.inventory_skus,
            self.reconcile_inventory,
        ]
