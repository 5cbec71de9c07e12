"""One node's part of a split order, as a child of its order-to-cash run: ask the node to ship
it (a warehouse through the WMS, a store through ship from store on its POS, a drop-ship
supplier through its fulfilment API) → wait for its shipments → confirm each to the channel
with its tracking, commit the stock, tell the order → SHIPPED.
A node that refuses or fails (its call is rejected, or it reports it cannot) ends the group
REJECTED: what it still held is cancelled there and released, and the order re-sources it.
A cancel from the order or support does the same while nothing of the group has shipped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.channel import ChannelActivities
    from activities.dropship import DropShipActivities
    from activities.inventory import InventoryActivities, LinesRelease, ShipmentCommit
    from activities.models import ShipmentConfirmation
    from activities.store import PickupRef, StoreActivities
    from activities.wms import WmsActivities
    from canonical import (
        FulfillmentLine,
        FulfillmentRequest,
        OrderStatus,
        Shipment,
        ShipmentGroupView,
        Step,
    )
    from canonical.fulfillment import shipped_quantities
    from canonical.inventory import NodeKind
    from canonical.pickup import PickLine, PickTask
    from workflows.order_inputs import (
        CancelRequest,
        GroupOutcome,
        GroupResult,
        NodeRejection,
        ShipmentGroupInput,
    )
    from workflows.saga import GoodsLeft, OrderCancelled, OrderSaga, SagaEnded, StepFailed

# The order's signal a group sends each shipment it confirmed to.
GROUP_SHIPPED = "group_shipped"


def group_key(order_key: str, group_id: str) -> str:
    """The key partners know a group by; it routes their events to the group's workflow."""
    return f"{order_key}~{group_id}"


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class ShipmentGroupWorkflow(OrderSaga):
    @workflow.init
    def __init__(self, input: ShipmentGroupInput) -> None:
        self._start_saga(input.order, input.retry, input.publish_search_attributes)
        self._group = input.group
        self._group_id = input.group_id
        self._sla = input.shipment_sla
        self._shipments: dict[str, Shipment] = {}
        self._unconfirmed: list[Shipment] = []
        self._rejection: NodeRejection | None = None
        self._rejected = ""  # why the node could not ship its part

    # --- the order's and the node's API ---------------------------------------------------

    @workflow.query
    def status(self) -> ShipmentGroupView:
        return self._view(ShipmentGroupView, shipments=list(self._shipments.values()))

    @workflow.signal
    def shipment_received(self, shipment: Shipment) -> None:
        """From the WMS, the store or the supplier; a redelivery changes nothing."""
        if shipment.voided:
            known = self._shipments.get(shipment.shipment_id)
            if known is not None and known in self._unconfirmed:
                self._unconfirmed.remove(known)
                del self._shipments[shipment.shipment_id]
            return
        if shipment.shipment_id not in self._shipments:
            self._shipments[shipment.shipment_id] = shipment
            self._unconfirmed.append(shipment)

    @workflow.signal
    def node_rejected(self, rejection: NodeRejection) -> None:
        if self._rejection is None and not self._status.is_final:
            self._rejection = rejection

    def _cancel_refused(self) -> str | None:
        return "a shipment group is cancelled through its order (cancel-group)"

    @workflow.signal
    def cancel_group(self, request: CancelRequest) -> None:
        """Sent by the order (whose `cancel_group` update checked that nothing shipped)."""
        if self._cancel is None and not self._shipments:
            self._cancel = request

    # --- the saga ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ShipmentGroupInput) -> GroupOutcome:
        """Ships its part, or unwinds what the node holds and puts its stock back; the order
        decides what becomes of the lines."""
        group = self._group
        self._push(
            "release_lines",
            lambda: self._undo(
                InventoryActivities.release_lines,
                LinesRelease(order_id=self._key, line_ids=sorted(self._lines()), node=group.node),
            ),
        )
        received = f"{group.node} ships {self._lines()}"
        await self._run_saga(self._order.external_id, received, lambda: self._ship(input))
        if self._status is OrderStatus.COMPLETED:
            return self._outcome(GroupResult.SHIPPED)
        if self._status is OrderStatus.CANCELLED:
            return self._outcome(GroupResult.CANCELLED, self._cancel_reason())
        return self._outcome(GroupResult.REJECTED, self._rejected)

    async def _ship(self, input: ShipmentGroupInput) -> None:
        node = self._group.node
        try:
            await self._ask_node()
            await self._await_shipments(input.shipment_sla)
        except OrderCancelled:
            self._exception = None  # a hold cancelled: nothing is wrong any more
            raise
        except StepFailed as failure:
            raise self._rejects(f"{node}: {failure.message}") from failure
        self._shipped_its_part()

    async def _ask_node(self) -> None:
        """A refusal after the node reported a shipment is moot: the goods left."""
        try:
            await self._run_step(Step.FULFILLMENT_REQUEST, self._request, self._withdrawal())
        except StepFailed as failure:
            if not self._shipments:
                raise
            self._note(f"{failure.message}; but {self._group.node} shipped: going on")

    def _shipped_its_part(self) -> None:
        self._step = Step.DONE
        self._set_status(OrderStatus.COMPLETED, f"{self._group.node} shipped its part")

    async def _goods_left(self, left: GoodsLeft) -> None:
        """The node refused to cancel because it shipped: the group ships after all."""
        self._rejection, self._rejected = None, ""
        kind = self._group.node_kind
        read: Any = WmsActivities.order_shipments
        key: Any = self._group_key
        if kind is NodeKind.DROPSHIP:
            read = DropShipActivities.dropship_shipments
        elif kind is NodeKind.STORE:
            read, key = StoreActivities.store_shipments, self._pickup()
        for shipment in await self._shipped_after_all(left, read, key):
            self.shipment_received(shipment)
        await self._await_shipments(self._sla)
        self._shipped_its_part()

    def _rejects(self, reason: str) -> SagaEnded:
        """The node cannot ship (the rest of) its part: the group unwinds as rejected."""
        self._exception = None
        self._rejected = reason
        return SagaEnded(OrderStatus.FAILED, reason)

    def _outcome(self, result: GroupResult, reason: str = "") -> GroupOutcome:
        shipped = shipped_quantities(list(self._shipments.values()))
        return GroupOutcome(
            group_id=self._group_id,
            node=self._group.node,
            result=result,
            shipped=shipped,
            unshipped={
                line: left
                for line, quantity in self._lines().items()
                if (left := quantity - shipped.get(line, 0)) > 0
            },
            reason=reason,
        )

    # --- the node ---------------------------------------------------------------------------

    async def _request(self) -> Any:
        """Ask the node to ship the group (an upsert on the group's key at every node)."""
        order, group, key = self._order, self._group, self._group_key
        assert order.ship_to is not None  # a shipped order has an address
        lines = [
            FulfillmentLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
            for line in group.lines
        ]
        number = f"{order.order_number}-{self._group_id}"
        if group.node_kind is NodeKind.STORE:
            task = PickTask(
                store=group.node,
                order_key=key,
                order_number=number,
                customer=order.customer,
                lines=[PickLine(**line.model_dump()) for line in lines],
                pick_by=workflow.now() + self._retry.step_timeout,
                ship_to=order.ship_to,
            )
            return await self._activity(StoreActivities.create_pick_task, task)
        request = FulfillmentRequest(
            order_key=key,
            order_number=number,
            ship_to=order.ship_to,
            lines=lines,
            warehouse=group.warehouse,
        )
        if group.node_kind is NodeKind.DROPSHIP:
            return await self._activity(DropShipActivities.request_dropship, request)
        return await self._activity(WmsActivities.request_fulfillment, request)

    def _withdrawal(self) -> tuple[str, Callable[[], Awaitable[Any]]]:
        """How the request is withdrawn from the node again."""
        key, kind = self._group_key, self._group.node_kind
        if kind is NodeKind.STORE:
            pickup = self._pickup()
            return "cancel_pick_task", lambda: self._undo(StoreActivities.cancel_pick_task, pickup)
        if kind is NodeKind.DROPSHIP:
            return "cancel_dropship", lambda: self._undo(DropShipActivities.cancel_dropship, key)
        return "cancel_fulfillment", lambda: self._undo(WmsActivities.cancel_fulfillment, key)

    async def _await_shipments(self, sla: timedelta) -> None:
        self._set_step(Step.AWAIT_SHIPMENT)
        self._set_status(OrderStatus.AWAITING_SHIPMENT, f"requested at {self._group.node}")
        deadline = workflow.now() + sla
        while not self._fully_shipped() or self._unconfirmed:
            if self._unconfirmed:
                await self._confirm(self._unconfirmed[0])
                continue
            self._checkpoint()
            if self._rejection is not None:
                raise self._rejects(f"{self._group.node}: {self._rejection.reason}")
            late = self._status is OrderStatus.DELAYED
            try:
                await workflow.wait_condition(
                    lambda: (
                        bool(self._unconfirmed)
                        or self._cancel is not None
                        or self._rejection is not None
                    ),
                    timeout=None if late else max(deadline - workflow.now(), timedelta(0)),
                )
            except TimeoutError:
                self._set_status(OrderStatus.DELAYED, f"no shipment within the SLA of {sla}")

    async def _confirm(self, shipment: Shipment) -> None:
        """Shipped: the channel gets the tracking, the stock leaves the node, the order
        hears of it. From the first shipment on, nothing of the group is undone."""
        await self._settle(
            Step.CONFIRM_SHIPMENT,
            lambda: self._activity(
                ChannelActivities.confirm_shipment,
                ShipmentConfirmation(order=self._order, shipment=shipment),
            ),
        )
        shipped = shipped_quantities([shipment])
        await self._settle(
            Step.CONFIRM_SHIPMENT,
            lambda: self._activity(
                InventoryActivities.commit_shipment,
                ShipmentCommit(
                    order_id=self._key,
                    shipment_id=shipment.shipment_id,
                    lines=shipped,
                    node=self._group.node,
                ),
            ),
        )
        self._unconfirmed.remove(shipment)
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                GROUP_SHIPPED, shipment
            )
        status = OrderStatus.SHIPPED if self._fully_shipped() else OrderStatus.PARTIALLY_SHIPPED
        self._set_status(status, f"{shipment.carrier} {shipment.tracking_number}")

    # --- helpers ----------------------------------------------------------------------------

    @property
    def _group_key(self) -> str:
        return group_key(self._key, self._group_id)

    def _pickup(self) -> PickupRef:
        """The group's task at its store (ship from store)."""
        return PickupRef(store=self._group.node, order_key=self._group_key)

    def _lines(self) -> dict[str, int]:
        lines: dict[str, int] = {}
        for line in self._group.lines:
            lines[line.line_id] = lines.get(line.line_id, 0) + line.quantity
        return lines

    def _fully_shipped(self) -> bool:
        shipped = shipped_quantities(list(self._shipments.values()))
        return all(shipped.get(line, 0) >= q for line, q in self._lines().items())

    def _checkpoint(self) -> None:
        """Once a shipment left, the group goes on whatever is asked."""
        if not self._shipments:
            super()._checkpoint()
