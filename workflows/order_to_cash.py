"""Order-to-cash saga: validate → tax → source and reserve → acknowledge → ERP order → fulfil →
ship → confirm → ERP delivery → invoice. Every undoable step pushes its compensation before it runs;
a failure that retries cannot fix, or a support cancel, unwinds the stack in reverse."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.channel import ChannelActivities
    from activities.erp import ErpActivities
    from activities.inventory import InventoryActivities, shipment_commit
    from activities.models import ChannelAck, ErpOrderInput, ShipmentConfirmation
    from activities.stock import StockActivities
    from activities.tax import TaxActivities
    from activities.wms import WmsActivities
    from canonical import (
        ChannelEvent,
        ErpOrderRef,
        ExceptionCode,
        FulfillmentLine,
        FulfillmentMethod,
        FulfillmentRequest,
        OrderException,
        OrderStatus,
        OrderView,
        ReservationLine,
        ReservationRequest,
        Shipment,
        Step,
        TaxQuote,
    )
    from canonical.fulfillment import shipped_quantities
    from canonical.sourcing import DemandLine, SourcingPlan, SourcingRequest
    from workflows import search_attributes as sa
    from workflows.order_inputs import CancelRequest, OrderToCashInput, ResumeRequest
    from workflows.saga import CHANNEL_CALLS, ERP_CALLS, OrderCancelled, OrderSaga, StepFailed
    from workflows.task_queues import ERP_GOVERNANCE

# Channel calls moved to their channel's rate-limited task queue while orders were running.
CHANNEL_TASK_QUEUES = "channel-task-queues"
# Stock is sourced, reserved, released and committed by the inventory service (added while
# orders were running: their reservations stay with `StockActivities`).
INVENTORY_SERVICE = "inventory-service"
# ERP calls moved to the ERP's quota-limited queue with `ERP_GOVERNANCE`; since then the
# channel is acknowledged before the ERP order and the ERP records the delivery.


@workflow.defn
class OrderToCashWorkflow(OrderSaga):
    @workflow.init
    def __init__(self, input: OrderToCashInput) -> None:
        self._start_saga(input.order, input.retry, input.publish_search_attributes)
        self._shipments: dict[str, Shipment] = {}
        self._unconfirmed: list[Shipment] = []
        self._erp_order: ErpOrderRef | None = None
        self._channel_events: set[str] = set()
        self._erp_governed = False
        self._inventory_service = False
        self._plan: SourcingPlan | None = None

    # --- support API -----------------------------------------------------------------------

    @workflow.query
    def status(self) -> OrderView:
        return self._view(erp_order=self._erp_order, shipments=list(self._shipments.values()))

    @workflow.update
    async def cancel(self, request: CancelRequest) -> OrderView:
        """Cancel and wait until the compensations have run."""
        await self._cancelled(request)
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._shipped_lines():
            raise ValueError(
                f"order {self._order.order_number} has already shipped; start a return instead"
            )
        self._refuse_cancel_when_done()

    @workflow.update
    def resume(self, request: ResumeRequest) -> OrderView:
        """Release an order on hold (retry its step) or needing attention (retry the call)."""
        self._resume = request
        return self.status()

    @resume.validator
    def _validate_resume(self, request: ResumeRequest) -> None:
        self._refuse_resume_unless_held()

    @workflow.signal
    def channel_event(self, event: ChannelEvent) -> None:
        """A refund or fulfilment reported by the channel: kept on the timeline once."""
        if event.event_id not in self._channel_events:
            self._channel_events.add(event.event_id)
            self._note(f"channel {event.kind.value}: {event.summary}")

    @workflow.signal
    def shipment_received(self, shipment: Shipment) -> None:
        known = self._shipments.get(shipment.shipment_id)
        if shipment.voided:
            if known is not None and known in self._unconfirmed:
                self._unconfirmed.remove(known)
                del self._shipments[shipment.shipment_id]
            elif known is not None:
                self._note(f"shipment {shipment.shipment_id} voided after it was confirmed")
            return
        if known is None:
            self._shipments[shipment.shipment_id] = shipment
            self._unconfirmed.append(shipment)

    # --- the saga --------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: OrderToCashInput) -> OrderView:
        order = self._order
        self._upsert(
            sa.CHANNEL.value_set(order.channel.value),
            sa.EXTERNAL_ORDER_ID.value_set(order.external_id),
        )
        self._set_status(OrderStatus.RECEIVED, f"{order.channel.value} order {order.order_number}")
        # Undoing the sale itself on the channel is the last compensation of all.
        self._push("cancel_channel_order", self._cancel_on_channel)
        try:
            await self._forward(input)
        except OrderCancelled:
            await self._compensate(OrderStatus.CANCELLED, f"cancelled: {self._cancel_reason()}")
        except StepFailed as failure:
            self._exception = OrderException(
                code=failure.code, message=failure.message, step=failure.step, at=workflow.now()
            )
            self._set_search_exception(failure.code)
            # Nothing to sell is a cancellation the customer is told about, not a breakdown.
            final = (
                OrderStatus.CANCELLED
                if failure.code is ExceptionCode.OUT_OF_STOCK
                else OrderStatus.FAILED
            )
            await self._compensate(final, f"{failure.step.value}: {failure.message}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _forward(self, input: OrderToCashInput) -> None:
        self._erp_governed = workflow.patched(ERP_GOVERNANCE)
        self._inventory_service = workflow.patched(INVENTORY_SERVICE)
        self._set_status(OrderStatus.IN_PROGRESS)
        items = await self._validate()
        quote = await self._run_step(
            Step.TAX_QUOTE,
            lambda: self._activity(TaxActivities.quote_tax, self._order),
            compensation=("void_tax", lambda: self._undo(TaxActivities.void_tax, self._key)),
        )
        self._note(f"tax quoted: {quote.total_tax} on {quote.total_taxable}")
        # The marketplace fulfils from its own stock (Amazon AFN): nothing for our warehouse.
        ours = self._order.fulfillment is not FulfillmentMethod.CHANNEL
        if ours and self._inventory_service:
            await self._allocate(input.backorder_retry)
        elif ours:
            await self._run_step(
                Step.RESERVE_STOCK,
                lambda: self._activity(StockActivities.reserve_stock, self._reservation()),
                compensation=(
                    "release_stock",
                    lambda: self._undo(StockActivities.release_stock, self._key),
                ),
            )
        if self._erp_governed:
            await self._acknowledge(None)
        self._erp_order = await self._run_step(
            Step.ERP_ORDER,
            lambda: self._activity(
                ErpActivities.create_sales_order, ErpOrderInput(order=self._order, items=items)
            ),
            compensation=(
                "cancel_sales_order",
                lambda: self._undo(ErpActivities.cancel_sales_order, self._key),
            ),
        )
        self._note(f"ERP sales order {self._erp_order.number or self._erp_order.erp_id}")
        erp_order = self._erp_order
        if not self._erp_governed:
            await self._acknowledge(erp_order)
        if ours:
            await self._run_step(
                Step.FULFILLMENT_REQUEST,
                lambda: self._activity(WmsActivities.request_fulfillment, self._fulfillment()),
                compensation=(
                    "cancel_fulfillment",
                    lambda: self._undo(WmsActivities.cancel_fulfillment, self._key),
                ),
            )
            await self._await_shipments(input.shipment_sla)
        else:
            self._set_status(OrderStatus.SHIPPED, f"fulfilled by {self._order.channel.value}")
        # Shipped: nothing can be undone any more; failures from here need attention, not rollback.
        self._compensations.clear()
        if ours and self._erp_governed:
            await self._settle(
                Step.ERP_DELIVERY,
                lambda: self._activity(ErpActivities.fulfil_sales_order, erp_order),
            )
        if ours and not self._inventory_service:
            await self._settle(
                Step.INVOICE, lambda: self._activity(StockActivities.commit_stock, self._key)
            )
        await self._settle(
            Step.INVOICE, lambda: self._activity(TaxActivities.commit_tax, quote.document_code)
        )
        invoice = await self._settle(
            Step.INVOICE, lambda: self._activity(ErpActivities.invoice_sales_order, erp_order)
        )
        self._step = Step.DONE
        self._set_status(OrderStatus.COMPLETED, f"invoiced as {invoice.erp_id}")

    async def _allocate(self, backorder_retry: timedelta) -> None:
        """Source and reserve through the inventory service. Missing units that are on their
        way: the order waits, backordered, and tries again. Else it is cancelled."""
        self._push(
            "release_order", lambda: self._undo(InventoryActivities.release_order, self._key)
        )
        while True:
            self._plan = await self._run_step(
                Step.RESERVE_STOCK,
                lambda: self._activity(InventoryActivities.allocate_order, self._sourcing()),
            )
            if not self._plan.shortfalls:
                break
            if not self._plan.backorderable:
                raise StepFailed(
                    Step.RESERVE_STOCK,
                    ExceptionCode.OUT_OF_STOCK,
                    f"out of stock: {self._plan.reason()}",
                )
            await self._hold(
                Step.RESERVE_STOCK,
                ExceptionCode.OUT_OF_STOCK,
                f"backordered: {self._plan.reason()}",
                retry_after=backorder_retry,
            )
            self._resume = None
        nodes = ", ".join(f"{g.node} ({len(g.lines)} line(s))" for g in self._plan.groups)
        self._note(f"reserved at {nodes}")

    def _sourcing(self) -> SourcingRequest:
        order = self._order
        return SourcingRequest(
            order_id=self._key,
            channel=order.channel,
            lines=[
                DemandLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
                for line in order.lines
            ],
            ship_to=order.ship_to,
            pickup_node=order.pickup_store
            if order.fulfillment is FulfillmentMethod.PICKUP
            else None,
        )

    async def _acknowledge(self, erp_order: ErpOrderRef | None) -> None:
        await self._run_step(
            Step.CHANNEL_ACK,
            lambda: self._activity(
                ChannelActivities.acknowledge_order,
                ChannelAck(order=self._order, erp_order=erp_order),
            ),
        )

    async def _await_shipments(self, sla: timedelta) -> None:
        self._set_step(Step.AWAIT_SHIPMENT)
        self._set_status(OrderStatus.AWAITING_SHIPMENT)
        deadline = workflow.now() + sla
        delayed = False
        while not self._fully_shipped() or self._unconfirmed:
            self._checkpoint()
            if self._unconfirmed:
                shipment = self._unconfirmed[0]
                await self._settle(
                    Step.CONFIRM_SHIPMENT,
                    lambda shipment=shipment: self._activity(  # type: ignore[misc]
                        ChannelActivities.confirm_shipment,
                        ShipmentConfirmation(order=self._order, shipment=shipment),
                    ),
                )
                if self._inventory_service:  # the shipped units leave our stock
                    await self._settle(
                        Step.CONFIRM_SHIPMENT,
                        lambda shipment=shipment: self._activity(  # type: ignore[misc]
                            InventoryActivities.commit_shipment, shipment_commit(shipment)
                        ),
                    )
                if shipment in self._unconfirmed:
                    self._unconfirmed.remove(shipment)
                status = (
                    OrderStatus.SHIPPED if self._fully_shipped() else OrderStatus.PARTIALLY_SHIPPED
                )
                self._set_status(status, f"{shipment.carrier} {shipment.tracking_number}")
                continue
            timeout = None if delayed else max(deadline - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda: bool(self._unconfirmed) or self._cancel is not None, timeout=timeout
                )
            except TimeoutError:
                delayed = True
                self._set_status(OrderStatus.DELAYED, f"no shipment within the SLA of {sla}")

    # --- step machinery --------------------------------------------------------------------

    def _task_queue(self, fn: Callable[..., Awaitable[Any]]) -> str | None:
        """Runs started before a queue existed keep their calls on the workflow's queue."""
        if fn in CHANNEL_CALLS and not workflow.patched(CHANNEL_TASK_QUEUES):
            return None
        if fn in ERP_CALLS and not self._erp_governed:
            return None
        return super()._task_queue(fn)

    def _checkpoint(self) -> None:
        """Once anything shipped, a cancel is a return: the saga goes on."""
        if not self._shipped_lines():
            super()._checkpoint()

    # --- compensation ----------------------------------------------------------------------

    # --- state helpers ---------------------------------------------------------------------

    def _reservation(self) -> ReservationRequest:
        quantities: dict[str, int] = {}
        for line in self._order.lines:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
        return ReservationRequest(
            reservation_key=self._key,
            lines=[ReservationLine(sku=sku, quantity=q) for sku, q in sorted(quantities.items())],
        )

    def _fulfillment(self) -> FulfillmentRequest:
        assert self._order.ship_to is not None  # guaranteed by Order validation for SHIP
        groups = self._plan.groups if self._plan else []
        return FulfillmentRequest(
            order_key=self._key,
            order_number=self._order.order_number,
            ship_to=self._order.ship_to,
            lines=[
                FulfillmentLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
                for line in self._order.lines
            ],
            # One node ships it all: tell the WMS which of its warehouses.
            warehouse=groups[0].warehouse if len(groups) == 1 else None,
        )

    def _shipped_lines(self) -> dict[str, int]:
        return shipped_quantities(list(self._shipments.values()))

    def _fully_shipped(self) -> bool:
        shipped = self._shipped_lines()
        return all(shipped.get(line.line_id, 0) >= line.quantity for line in self._order.lines)


# Exported for the worker and tests; `TaxQuote` is referenced by the activity return types.
__all__ = ["OrderToCashWorkflow", "TaxQuote"]
