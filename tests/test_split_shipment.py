"""A split order on the time-skipping test server with fake partners: one shipment group
workflow per node, re-sourcing a group whose node fails, cancelling only the lines nobody can
ship, support cancelling one group or the whole order, the shipment SLA of a group."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from canonical import ExceptionCode, OrderLine, OrderStatus, Shipment, ShipmentGroupView
from canonical.inventory import NodeKind
from canonical.sourcing import PlannedLine, ShipmentGroup, Shortfall, SourcingPlan
from testing.eventually import eventually, reaches
from tests.fake_partners import FakePartners, business
from tests.test_order_workflow import Saga
from workflows.order_inputs import (
    CancelGroup,
    CancelRequest,
    GroupOutcome,
    NodeRejection,
    ResumeRequest,
)
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.shipment_group import ShipmentGroupWorkflow


class Split(Saga):
    """An order whose candles ship from the east warehouse and whose mug from a store."""

    def group(self, node: str, kind: NodeKind, *indexes: int) -> ShipmentGroup:
        return ShipmentGroup(
            node=node,
            node_kind=kind,
            warehouse="101" if kind is NodeKind.WAREHOUSE else None,
            lines=[
                PlannedLine(
                    line_id=self.order.lines[n].line_id,
                    sku=self.order.lines[n].sku,
                    quantity=self.order.lines[n].quantity,
                )
                for n in indexes
            ],
        )

    def plan(self, *groups: ShipmentGroup) -> None:
        self.partners.plans.append(SourcingPlan(groups=list(groups)))

    def mug_only_at_the_store(self) -> OrderLine:
        """Candles from the east warehouse, the mug from Boston; re-sourced, nobody has it."""
        self.plan(self.group(EAST, NodeKind.WAREHOUSE, 0), self.group(BOS, NodeKind.STORE, 1))
        mug = self.order.lines[1]
        self.partners.plans.append(
            SourcingPlan(
                shortfalls=[
                    Shortfall(line_id=mug.line_id, sku=mug.sku, requested=1, available=0, inbound=0)
                ]
            )
        )
        return mug

    def child(self, group_id: str) -> WorkflowHandle[ShipmentGroupWorkflow, GroupOutcome]:
        return self.env.client.get_workflow_handle_for(
            ShipmentGroupWorkflow.run, f"{self.order.workflow_id}~{group_id}"
        )

    async def group_status(self, group_id: str, *statuses: OrderStatus) -> ShipmentGroupView:
        async def view() -> ShipmentGroupView | None:
            try:
                return await self.child(group_id).query(ShipmentGroupWorkflow.status)
            except (RPCError, WorkflowQueryFailedError):  # not started yet
                return None

        found = await eventually(
            view, lambda v: v is not None and v.status in statuses, what=f"group {group_id}"
        )
        assert found is not None
        return found

    async def ship_group(self, group_id: str, *indexes: int) -> Shipment:
        await self.group_status(group_id, OrderStatus.AWAITING_SHIPMENT, OrderStatus.DELAYED)
        lines = [(n, self.order.lines[n].quantity) for n in indexes]
        shipment = self.shipment(f"sh-{group_id}", lines).model_copy(
            update={"order_key": f"{self.order.key}~{group_id}"}
        )
        await self.child(group_id).signal(ShipmentGroupWorkflow.shipment_received, shipment)
        return shipment

    async def reject_group(self, group_id: str, reason: str = "goods not found") -> None:
        await self.group_status(group_id, OrderStatus.AWAITING_SHIPMENT)
        await self.child(group_id).signal(
            ShipmentGroupWorkflow.node_rejected, NodeRejection(reason=reason)
        )

    def args(self, name: str) -> list[Any]:
        return self.partners.args.get(name, [])


@pytest.fixture
async def split(time_env: WorkflowEnvironment) -> AsyncIterator[Split]:
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(
        time_env.client, task_queue, [OrderToCashWorkflow, ShipmentGroupWorkflow]
    ):
        yield Split(time_env, partners, task_queue)


EAST, BOS, WEST = "WH-EAST", "STORE-BOS", "WH-WEST"


async def test_each_group_ships_on_its_own_and_the_order_is_invoiced_once(split: Split) -> None:
    split.plan(split.group(EAST, NodeKind.WAREHOUSE, 0), split.group(BOS, NodeKind.STORE, 1))
    await split.start()
    await split.ship_group("g1", 0)
    view = await split.wait_for(OrderStatus.PARTIALLY_SHIPPED)
    assert [g.status for g in view.groups] == ["shipped", "running"]
    with pytest.raises(WorkflowUpdateFailedError):  # a shipped group cannot be cancelled
        await split.handle.execute_update(
            OrderToCashWorkflow.cancel_group, CancelGroup(group_id="g1", reason="changed mind")
        )
    with pytest.raises(WorkflowUpdateFailedError) as on_its_own:  # only through its order
        await split.child("g2").execute_update(
            ShipmentGroupWorkflow.cancel, CancelRequest(reason="changed mind")
        )
    assert "through its order" in str(on_its_own.value.cause)
    await split.ship_group("g2", 1)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.cancelled_lines == {}
    (wms,) = split.args("request_fulfillment")
    assert wms.order_key == f"{split.order.key}~g1" and wms.warehouse == "101"
    (task,) = split.args("create_pick_task")
    assert task.order_key == f"{split.order.key}~g2" and task.ship_to == split.order.ship_to
    confirmed = [c.shipment.shipment_id for c in split.args("confirm_shipment")]
    assert sorted(confirmed) == ["sh-g1", "sh-g2"]
    commits = {(c.shipment_id, c.node) for c in split.args("commit_shipment")}
    assert commits == {("sh-g1", EAST), ("sh-g2", BOS)}
    assert len(split.args("invoice_sales_order")) == 1
    assert "reduce_sales_order" not in split.partners.calls


async def test_a_node_that_fails_its_part_is_replaced_once(split: Split) -> None:
    split.plan(split.group(EAST, NodeKind.WAREHOUSE, 0), split.group(BOS, NodeKind.STORE, 1))
    split.plan(split.group(WEST, NodeKind.WAREHOUSE, 1))  # what re-sourcing finds
    await split.start()
    await split.reject_group("g2", "mug broken on the shelf")
    await split.ship_group("g3", 1)
    await split.ship_group("g1", 0)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert [(g.group_id, g.node, g.status) for g in result.groups] == [
        ("g1", EAST, "shipped"), ("g2", BOS, "rejected"), ("g3", WEST, "shipped"),
    ]  # fmt: skip
    resourcing = split.args("allocate_order")[1]
    mug = split.order.lines[1]
    assert [(line.line_id, line.quantity) for line in resourcing.lines] == [(mug.line_id, 1)]
    assert BOS in resourcing.exclude_nodes and EAST not in resourcing.exclude_nodes
    (released,) = split.args("release_lines")
    assert (released.node, released.line_ids) == (BOS, [mug.line_id])
    (withdrawn,) = split.args("cancel_pick_task")
    assert withdrawn.order_key == f"{split.order.key}~g2"
    assert "cancel_channel_lines" not in split.partners.calls


async def test_lines_nobody_can_ship_are_cancelled_and_the_rest_ships(split: Split) -> None:
    mug = split.mug_only_at_the_store()
    await split.start()
    await split.reject_group("g2")
    await split.ship_group("g1", 0)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert result.cancelled_lines == {mug.line_id: 1}
    (cancellation,) = split.args("cancel_channel_lines")
    assert cancellation.lines == {mug.line_id: 1} and cancellation.out_of_stock
    (reduction,) = split.args("reduce_sales_order")
    assert reduction.keep == {split.order.lines[0].line_id: 2, mug.line_id: 0}
    requote = split.args("quote_tax")[-1]
    assert [line.sku for line in requote.lines] == [split.order.lines[0].sku]
    calls = split.partners.calls
    assert calls.index("cancel_channel_lines") < calls.index("fulfil_sales_order")
    assert calls[-3:] == ["fulfil_sales_order", "commit_tax", "invoice_sales_order"]


async def test_lines_the_channel_cannot_cancel_are_cancelled_by_hand(split: Split) -> None:
    mug = split.mug_only_at_the_store()
    no_api = business(ExceptionCode.CHANNEL_REJECTED, "cancel it in Seller Central")
    split.partners.outage("cancel_channel_lines", no_api)  # as Amazon answers
    await split.start()
    await split.reject_group("g2")
    await split.ship_group("g1", 0)
    view = await reaches(split.handle, OrderToCashWorkflow.status, OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and "Seller Central" in view.exception.message
    done = ResumeRequest(note="cancelled in Seller Central", done_by_hand="SC-CANCEL-9")
    await split.handle.execute_update(OrderToCashWorkflow.resume, done)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert result.cancelled_lines == {mug.line_id: 1}
    assert split.partners.calls.count("cancel_channel_lines") == 1
    assert any("done by hand: SC-CANCEL-9" in change.note for change in result.timeline)


async def test_support_cancels_one_group_and_the_other_ships(split: Split) -> None:
    split.plan(
        split.group(EAST, NodeKind.WAREHOUSE, 0), split.group("DS-LUMEN", NodeKind.DROPSHIP, 1)
    )
    await split.start()
    await split.group_status("g2", OrderStatus.AWAITING_SHIPMENT)
    (dropship,) = split.args("request_dropship")
    assert dropship.order_key == f"{split.order.key}~g2"
    view = await split.handle.execute_update(
        OrderToCashWorkflow.cancel_group, CancelGroup(group_id="g2", reason="customer asked")
    )
    assert [g.status for g in view.groups] == ["running", "cancelled"]
    assert split.args("cancel_dropship") == [f"{split.order.key}~g2"]
    await split.ship_group("g1", 0)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert len(split.args("allocate_order")) == 1  # a cancel is not re-sourced
    (cancellation,) = split.args("cancel_channel_lines")
    assert not cancellation.out_of_stock and cancellation.reason == "customer asked"


async def test_a_cancel_before_anything_shipped_unwinds_every_group(split: Split) -> None:
    split.plan(split.group(EAST, NodeKind.WAREHOUSE, 0), split.group(BOS, NodeKind.STORE, 1))
    await split.start()
    await split.group_status("g2", OrderStatus.AWAITING_SHIPMENT)
    await split.group_status("g1", OrderStatus.AWAITING_SHIPMENT)
    await split.handle.execute_update(
        OrderToCashWorkflow.cancel, CancelRequest(reason="fraud check failed")
    )
    result = await split.view()
    assert result.status is OrderStatus.CANCELLED
    assert [g.status for g in result.groups] == ["cancelled", "cancelled"]
    assert split.args("cancel_fulfillment") == [f"{split.order.key}~g1"]
    assert len(split.args("cancel_pick_task")) == 1
    assert result.compensations_done == [
        "cancel_sales_order", "release_order", "void_tax", "cancel_channel_order",
    ]  # fmt: skip
    assert "cancel_channel_lines" not in split.partners.calls


async def test_a_node_that_refuses_the_request_is_replaced(split: Split) -> None:
    split.plan(
        split.group(EAST, NodeKind.WAREHOUSE, 0), split.group("DS-LUMEN", NodeKind.DROPSHIP, 1)
    )
    split.plan(split.group(BOS, NodeKind.STORE, 1))
    split.partners.fail(
        "request_dropship", business(ExceptionCode.SUPPLIER_REJECTED, "discontinued item")
    )
    await split.start()
    await split.ship_group("g3", 1)
    await split.ship_group("g1", 0)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert result.groups[1].status == "rejected" and "discontinued" in result.groups[1].reason
    assert split.args("cancel_dropship") == [f"{split.order.key}~g2"]


async def test_a_group_past_its_shipment_sla_is_delayed_and_still_ships(split: Split) -> None:
    split.plan(split.group(EAST, NodeKind.WAREHOUSE, 0), split.group(BOS, NodeKind.STORE, 1))
    await split.start(sla=timedelta(hours=4))
    await split.ship_group("g1", 0)
    await split.group_status("g2", OrderStatus.AWAITING_SHIPMENT)
    await split.env.sleep(timedelta(hours=5))
    await split.group_status("g2", OrderStatus.DELAYED)
    await split.ship_group("g2", 1)
    result = await split.handle.result()
    assert result.status is OrderStatus.COMPLETED


async def test_a_group_whose_warehouse_shipped_before_the_cancel_ships_after_all(
    split: Split,
) -> None:
    """Support cancels the order; the warehouse of one group answers it already shipped. That
    group completes with the shipment read back from the WMS, the other is cancelled, and the
    order bills what shipped and cancels the rest on the channel."""
    split.plan(split.group(EAST, NodeKind.WAREHOUSE, 0), split.group(BOS, NodeKind.STORE, 1))
    split.partners.fail(
        "cancel_fulfillment", business(ExceptionCode.ALREADY_SHIPPED, "order has already shipped")
    )
    candles = split.shipment("sh-g1", [(0, split.order.lines[0].quantity)])
    split.partners.shipped = [candles.model_copy(update={"order_key": f"{split.order.key}~g1"})]
    await split.start()
    await split.group_status("g1", OrderStatus.AWAITING_SHIPMENT)
    await split.group_status("g2", OrderStatus.AWAITING_SHIPMENT)
    await split.handle.execute_update(OrderToCashWorkflow.cancel, CancelRequest(reason="late"))
    result = await split.handle.result()
    assert [g.status for g in result.groups] == ["shipped", "cancelled"], result.timeline
    assert result.status is OrderStatus.COMPLETED
    assert [s.shipment_id for s in result.shipments] == ["sh-g1"]
    (cancellation,) = split.args("cancel_channel_lines")
    assert cancellation.lines == {split.order.lines[1].line_id: 1}
    assert split.partners.calls.count("invoice_sales_order") == 1


@pytest.mark.parametrize(
    ("node", "kind", "withdrawal", "read_back", "parcel"),
    [
        (BOS, NodeKind.STORE, "cancel_pick_task", "store_shipments", "STORE-BOS-9400"),
        ("DS-LUMEN", NodeKind.DROPSHIP, "cancel_dropship", "dropship_shipments", "shipbob-1"),
    ],
)
async def test_a_node_that_shipped_before_the_cancel_ships_its_group_after_all(
    split: Split, node: str, kind: NodeKind, withdrawal: str, read_back: str, parcel: str
) -> None:
    """A store shipping from its shelf, or the drop-ship supplier, sent the mug before
    support's cancel reached it, and its shipment event is late. The node refuses the cancel
    with 'the goods left': the group reads the parcel back from it and ships, instead of
    waiting for attention; the order cancels only the candles on the channel."""
    split.plan(split.group(EAST, NodeKind.WAREHOUSE, 0), split.group(node, kind, 1))
    split.partners.fail(withdrawal, business(ExceptionCode.ALREADY_SHIPPED, "already shipped"))
    mug = split.shipment(parcel, [(1, split.order.lines[1].quantity)])
    split.partners.shipped = [mug.model_copy(update={"order_key": f"{split.order.key}~g2"})]
    await split.start()
    await split.group_status("g1", OrderStatus.AWAITING_SHIPMENT)
    await split.group_status("g2", OrderStatus.AWAITING_SHIPMENT)
    await split.handle.execute_update(OrderToCashWorkflow.cancel, CancelRequest(reason="late"))
    result = await split.handle.result()
    assert sorted(g.status for g in result.groups) == ["cancelled", "shipped"], result.timeline
    assert result.status is OrderStatus.COMPLETED
    assert split.args(read_back) == [f"{split.order.key}~g2"]
    assert [s.shipment_id for s in result.shipments] == [parcel]
    (cancellation,) = split.args("cancel_channel_lines")
    assert cancellation.lines == {split.order.lines[0].line_id: split.order.lines[0].quantity}
