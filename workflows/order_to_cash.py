"""Order-to-cash saga: validate → tax → source and reserve → acknowledge → ERP order → fulfil →
ship → confirm → ERP delivery → invoice. Every undoable step pushes its compensation before it runs;
a failure that retries cannot fix, or a support cancel, unwinds the stack in reverse.
An order sourced from several nodes (or from a store or a drop-ship supplier) ships in one child
workflow per node (`ShipmentGroupWorkflow`). A node that fails its part is replaced once by
re-sourcing those lines; when that finds no stock either, only those lines are cancelled (ERP
order reduced, channel cancels and refunds them) and the rest ships. The order invoices what
shipped."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.channel import ChannelActivities
    from activities.erp import ErpActivities
    from activities.inventory import InventoryActivities, shipment_commit
    from activities.models import ErpOrderInput, ShipmentConfirmation
    from activities.tax import TaxActivities
    from activities.wms import WmsActivities
    from canonical import (
        ChannelEvent,
        ErpOrderRef,
        ExceptionCode,
        FulfillmentLine,
        FulfillmentMethod,
        FulfillmentRequest,
        GroupView,
        OrderStatus,
        OrderView,
        Shipment,
        Step,
        TaxQuote,
    )
    from canonical.cancellation import LineCancellation
    from canonical.fulfillment import shipped_quantities
    from canonical.inventory import NodeKind
    from canonical.returns import ReturnableOrder
    from canonical.sourcing import DemandLine, ShipmentGroup, SourcingPlan, SourcingRequest
    from workflows.order_inputs import (
        CancelGroup,
        CancelRequest,
        GroupOutcome,
        GroupResult,
        OrderToCashInput,
        ShipmentGroupInput,
    )
    from workflows.saga import GoodsLeft, OrderCancelled, StepFailed
    from workflows.settlement_wait import SettledSaga
    from workflows.shipment_group import GROUP_SHIPPED, ShipmentGroupWorkflow, group_key


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class OrderToCashWorkflow(SettledSaga):
    @workflow.init
    def __init__(self, input: OrderToCashInput) -> None:
        self._start_saga(input.order, input.retry, input.publish_search_attributes)
        self._input = input
        self._quote: TaxQuote | None = None
        self._shipments: dict[str, Shipment] = {}
        self._unconfirmed: list[Shipment] = []
        self._erp_order: ErpOrderRef | None = None
        self._channel_events: set[str] = set()
        self._plan: SourcingPlan | None = None
        self._groups: dict[str, GroupView] = {}
        self._group_handles: dict[str, workflow.ChildWorkflowHandle[Any, GroupOutcome]] = {}
        self._group_runs: dict[str, asyncio.Task[GroupOutcome]] = {}
        self._failed_nodes: set[str] = set()
        self._cancelled_lines: dict[str, int] = {}
        self._line_cancellations = 0

    # --- support API -----------------------------------------------------------------------

    @workflow.query
    def status(self) -> OrderView:
        return self._view(
            OrderView,
            erp_order=self._erp_order,
            shipments=list(self._shipments.values()),
            groups=list(self._groups.values()),
            cancelled_lines=self._cancelled_lines,
        )

    @workflow.query
    def returnable(self) -> ReturnableOrder:
        return self._returnable(self._shipped_lines())

    def _cancel_refused(self) -> str | None:
        if self._shipped_lines():
            return f"order {self._order.order_number} has already shipped; start a return instead"
        return None

    async def _cancelling(self, request: CancelRequest) -> None:
        """The shipment groups are cancelled first."""
        for group_id in self._running_groups():
            await self._group_handles[group_id].signal(ShipmentGroupWorkflow.cancel_group, request)

    @workflow.update
    async def cancel_group(self, request: CancelGroup) -> OrderView:
        """Cancel one shipment group of a split order; its lines are cancelled and refunded,
        the other groups ship."""
        request_to_group = CancelRequest(reason=request.reason)
        await self._group_handles[request.group_id].signal(
            ShipmentGroupWorkflow.cancel_group, request_to_group
        )
        await workflow.wait_condition(
            lambda: (
                request.group_id not in self._running_groups()
                and request.group_id not in self._group_runs
            )
        )
        return self.status()

    @cancel_group.validator
    def _validate_cancel_group(self, request: CancelGroup) -> None:
        key = group_key(self._key, request.group_id)
        if any(s.order_key == key for s in self._shipments.values()):
            raise ValueError(f"group {request.group_id} has shipped; start a return instead")
        if request.group_id not in self._running_groups():
            running = ", ".join(self._running_groups()) or "none"
            raise ValueError(f"no running group {request.group_id}; running: {running}")
        self._refuse_cancel_when_done()

    @workflow.signal(name=GROUP_SHIPPED)
    def group_shipped(self, shipment: Shipment) -> None:
        """A shipment group confirmed a shipment (to the channel, with its tracking)."""
        if shipment.shipment_id not in self._shipments:
            self._shipments[shipment.shipment_id] = shipment
            self._set_status(
                OrderStatus.PARTIALLY_SHIPPED, f"{shipment.carrier} {shipment.tracking_number}"
            )

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
        # Undoing the sale itself on the channel is the last compensation of all.
        self._push("cancel_channel_order", self._cancel_on_channel)
        received = f"{order.channel.value} order {order.order_number}"
        await self._run_saga(order.external_id, received, lambda: self._forward(input))
        return self.status()

    def _failed(self, failure: StepFailed) -> OrderStatus:
        """Nothing to sell is a cancellation the customer is told about, not a breakdown."""
        if failure.code is ExceptionCode.OUT_OF_STOCK:
            return OrderStatus.CANCELLED
        return OrderStatus.FAILED

    async def _forward(self, input: OrderToCashInput) -> None:
        self._set_status(OrderStatus.IN_PROGRESS)
        items = await self._validate()
        self._quote = quote = await self._run_step(
            Step.TAX_QUOTE,
            lambda: self._activity(TaxActivities.quote_tax, self._order),
            compensation=("void_tax", lambda: self._undo(TaxActivities.void_tax, self._key)),
        )
        self._note(f"tax quoted: {quote.total_tax} on {quote.total_taxable}")
        # The marketplace fulfils from its own stock (Amazon AFN): nothing for our warehouse.
        ours = self._order.fulfillment is not FulfillmentMethod.CHANNEL
        if ours:
            await self._allocate(input.backorder_retry)
        # The channel hears at once; the ERP's queue may be minutes long in a flash sale.
        await self._run_step(
            Step.CHANNEL_ACK,
            lambda: self._activity(ChannelActivities.acknowledge_order, self._order),
        )
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
        if ours and self._ships_in_groups():
            self._quote = await self._ship_in_groups(input) or quote
        elif ours:
            await self._request_fulfillment()
            await self._await_shipments(input.shipment_sla)
        else:
            self._set_status(OrderStatus.SHIPPED, f"fulfilled by {self._order.channel.value}")
        await self._complete(ours)

    async def _complete(self, ours: bool) -> None:
        """Shipped: nothing can be undone any more; failures from here need attention, not
        rollback. The ERP records the delivery (of our goods), tax is committed, invoiced."""
        self._compensations.clear()
        erp_order, quote = self._erp_order, self._quote
        assert erp_order is not None and quote is not None
        if ours:
            await self._settle(
                Step.ERP_DELIVERY,
                lambda: self._activity(ErpActivities.fulfil_sales_order, erp_order),
            )
        await self._settle(
            Step.INVOICE, lambda: self._activity(TaxActivities.commit_tax, quote.document_code)
        )
        invoice = await self._settle(
            Step.INVOICE, lambda: self._activity(ErpActivities.invoice_sales_order, erp_order)
        )
        done = f"invoiced as {invoice.erp_id}"
        if self._input.settlement is not None:  # a channel whose payouts are imported
            keep = {
                line.line_id: line.quantity - self._cancelled_lines[line.line_id]
                for line in self._order.lines
                if line.line_id in self._cancelled_lines
            }
            due = self._order.keeping(keep).total if keep else self._order.total
            done = await self._await_settlement(self._input.settlement, due, "the invoice", done)
        self._step = Step.DONE
        self._set_status(OrderStatus.COMPLETED, done)

    async def _request_fulfillment(self) -> None:
        """A refusal after the warehouse reported a shipment is moot: the goods left, so the
        order goes on instead of unwinding."""
        try:
            await self._run_step(
                Step.FULFILLMENT_REQUEST,
                lambda: self._activity(WmsActivities.request_fulfillment, self._fulfillment()),
                compensation=(
                    "cancel_fulfillment",
                    lambda: self._undo(WmsActivities.cancel_fulfillment, self._key),
                ),
            )
        except StepFailed as failure:
            if not self._shipped_lines():
                raise
            self._note(f"{failure.message}; but the warehouse shipped it: going on")

    async def _goods_left(self, left: GoodsLeft) -> None:
        """The warehouse refused to cancel because it shipped: confirm what it shipped, wait
        for the rest, and complete the order."""
        read = WmsActivities.order_shipments
        for shipment in await self._shipped_after_all(left, read, self._key):
            self.shipment_received(shipment)
        await self._await_shipments(self._input.shipment_sla)
        await self._complete(ours=True)

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

    def _sourcing(
        self, lines: dict[str, int] | None = None, exclude: set[str] | None = None
    ) -> SourcingRequest:
        """The order's lines (or `lines`: line id -> units, to re-source), away from
        `exclude`."""
        order = self._order
        wanted = lines or {line.line_id: line.quantity for line in order.lines}
        return SourcingRequest(
            order_id=self._key,
            channel=order.channel,
            lines=[
                DemandLine(line_id=line.line_id, sku=line.sku, quantity=wanted[line.line_id])
                for line in order.lines
                if line.line_id in wanted
            ],
            ship_to=order.ship_to,
            pickup_node=order.pickup_store
            if order.fulfillment is FulfillmentMethod.PICKUP
            else None,
            exclude_nodes=sorted(exclude or ()),
        )

    # --- shipment groups (a split order) ------------------------------------------------------

    def _ships_in_groups(self) -> bool:
        """Several nodes, or one that is no warehouse: one child workflow per node."""
        groups = self._plan.groups if self._plan else []
        needed = len(groups) > 1 or any(g.node_kind is not NodeKind.WAREHOUSE for g in groups)
        return needed

    async def _ship_in_groups(self, input: OrderToCashInput) -> TaxQuote | None:
        """Start a group per node and wait until every group ended, re-sourcing or cancelling
        what a group could not ship. Returns the tax quoted again when lines were cancelled."""
        assert self._plan is not None
        self._set_step(Step.AWAIT_SHIPMENT)
        nodes = ", ".join(group.node for group in self._plan.groups)
        self._set_status(OrderStatus.AWAITING_SHIPMENT, f"shipping from {nodes}")
        for group in self._plan.groups:
            await self._start_group(group, input)
        resourced: set[str] = set()
        while self._group_runs:
            await workflow.wait(
                list(self._group_runs.values()), return_when=asyncio.FIRST_COMPLETED
            )
            for group_id, run in list(self._group_runs.items()):
                if run.done():
                    await self._group_ended(run.result(), resourced, input)
                    del self._group_runs[group_id]
        self._checkpoint()  # a cancel of the whole order unwinds it now
        shipped = self._shipped_lines()
        if shipped and self._cancel is not None:
            await self._cancel_unshipped(shipped)
        if not shipped:
            reasons = "; ".join(g.reason for g in self._groups.values() if g.reason)
            self._cancel = CancelRequest(reason=f"no node could ship it: {reasons}")
            raise OrderCancelled()
        self._set_status(OrderStatus.SHIPPED, f"{len(self._shipments)} shipment(s)")
        if not self._cancelled_lines:
            return None
        return await self._settle(
            Step.INVOICE,
            lambda: self._activity(
                TaxActivities.quote_tax,
                self._order.keeping(
                    shipped
                    | {line.line_id: 0 for line in self._order.lines if line.line_id not in shipped}
                ),
            ),
        )

    async def _start_group(self, group: ShipmentGroup, input: OrderToCashInput) -> None:
        group_id = f"g{len(self._groups) + 1}"
        workflow_id = f"{workflow.info().workflow_id}~{group_id}"
        lines = {line.line_id: line.quantity for line in group.lines}
        self._groups[group_id] = GroupView(
            group_id=group_id, workflow_id=workflow_id, node=group.node, lines=lines,
            status="running",
        )  # fmt: skip
        handle = await workflow.start_child_workflow(
            ShipmentGroupWorkflow.run,
            ShipmentGroupInput(
                order=self._order,
                group_id=group_id,
                group=group,
                shipment_sla=input.shipment_sla,
                retry=self._retry,
                publish_search_attributes=self._publish,
            ),
            id=workflow_id,
            static_summary=f"{group.node} ({group.node_kind.value}) ships {lines}",
        )
        self._group_handles[group_id] = handle
        self._group_runs[group_id] = asyncio.create_task(self._outcome(handle))
        if self._cancel is not None:  # the order was cancelled while the group started
            await handle.signal(ShipmentGroupWorkflow.cancel_group, self._cancel)

    @staticmethod
    async def _outcome(handle: workflow.ChildWorkflowHandle[Any, GroupOutcome]) -> GroupOutcome:
        return await handle

    async def _group_ended(
        self, outcome: GroupOutcome, resourced: set[str], input: OrderToCashInput
    ) -> None:
        """What a group could not ship is re-sourced once (when its node failed), else
        cancelled, unless the whole order is being cancelled."""
        view = self._groups[outcome.group_id]
        view.status, view.reason = outcome.result.value, outcome.reason
        lines = outcome.unshipped
        if not lines or self._cancel is not None:
            return
        reason = outcome.reason
        if outcome.result is GroupResult.REJECTED:
            self._failed_nodes.add(outcome.node)
            if not set(lines) & resourced:
                resourced |= set(lines)
                plan = await self._settle(
                    Step.RESERVE_STOCK,
                    lambda: self._activity(
                        InventoryActivities.allocate_order,
                        self._sourcing(lines, self._failed_nodes | self._nodes_holding(lines)),
                    ),
                )
                if plan.reserved:
                    self._note(f"re-sourced {lines} after {reason}")
                    for group in plan.groups:
                        await self._start_group(group, input)
                    return
                reason = f"{reason}; no other node has it ({plan.reason()})"
        await self._cancel_lines(lines, reason, outcome.result is GroupResult.REJECTED)

    async def _cancel_lines(self, lines: dict[str, int], reason: str, out_of_stock: bool) -> None:
        """Take the units off the ERP order and cancel (refund) them on the channel; the rest
        of the order goes on. When no unit is left, the whole order is cancelled instead."""
        before = dict(self._cancelled_lines)
        self._line_cancellations += 1
        cancellation_id = f"{self._key}~cancel-{self._line_cancellations}"
        for line_id, units in lines.items():
            self._cancelled_lines[line_id] = self._cancelled_lines.get(line_id, 0) + units
        self._note(f"cancelled {lines}: {reason}")
        keep = {
            line.line_id: line.quantity - self._cancelled_lines.get(line.line_id, 0)
            for line in self._order.lines
        }
        if not any(keep.values()):
            return
        await self._drop_lines(
            (Step.AWAIT_SHIPMENT, Step.AWAIT_SHIPMENT),
            keep,
            LineCancellation(
                cancellation_id=cancellation_id,
                order=self._order,
                lines=lines,
                before=before,
                reason=reason,
                out_of_stock=out_of_stock,
            ),
        )

    async def _cancel_unshipped(self, shipped: dict[str, int]) -> None:
        """A cancel that came too late for a group that shipped: the order keeps what shipped
        and cancels the rest (the other groups' lines) on the ERP and the channel."""
        left = {
            line.line_id: units
            for line in self._order.lines
            if (
                units := line.quantity
                - shipped.get(line.line_id, 0)
                - self._cancelled_lines.get(line.line_id, 0)
            )
            > 0
        }
        if left:
            await self._cancel_lines(left, f"cancelled: {self._cancel_reason()}", False)

    def _running_groups(self) -> list[str]:
        return [gid for gid, view in self._groups.items() if view.status == "running"]

    def _nodes_holding(self, lines: dict[str, int]) -> set[str]:
        """Nodes of other groups with some of these lines (re-sourcing must not pick them:
        their reservation of the line is another group's)."""
        return {
            view.node
            for view in self._groups.values()
            if view.status != GroupResult.REJECTED.value and set(view.lines) & set(lines)
        }

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
                await self._settle(  # the shipped units leave our stock
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

    def _checkpoint(self) -> None:
        """Once anything shipped, a cancel is a return: the saga goes on."""
        if not self._shipped_lines():
            super()._checkpoint()

    # --- state helpers ---------------------------------------------------------------------

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
