"""ReturnWorkflow on the time-skipping test server with fake partners: the policy, the label
and its receipt window, inspection, a refund paid exactly once however often it is retried,
a failing credit note waiting for support, a return at a store's counter, cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from adapters.shopify import order_from_webhook
from canonical import ExceptionCode, OrderStatus, ReturnView
from canonical.returns import (
    Condition,
    InspectedLine,
    Inspection,
    ReturnableOrder,
    ReturnLine,
    ReturnPolicy,
    ReturnReceipt,
    ReturnRequest,
    ReturnSource,
)
from testing.eventually import eventually, reaches
from tests.fake_partners import FakePartners, business
from tests.payloads import shopify_order_body
from tests.test_order_workflow import FAST_RETRY
from workflows.order_inputs import CancelRequest, ResumeRequest, ReturnInput, SettlementTerms
from workflows.returns import ReturnWorkflow

CANDLE, MUG = 0, 1  # the contract order: 2 candles, 1 mug


class Return:
    def __init__(self, env: WorkflowEnvironment, partners: FakePartners, task_queue: str) -> None:
        self.env, self.partners, self.task_queue = env, partners, task_queue
        self.order = order_from_webhook(shopify_order_body()).model_copy(
            update={"external_id": uuid.uuid4().hex[:12]}
        )
        self.handle: WorkflowHandle[ReturnWorkflow, ReturnView]

    def line(self, index: int, quantity: int = 1, reason: str = "") -> ReturnLine:
        line = self.order.lines[index]
        return ReturnLine(line_id=line.line_id, sku=line.sku, quantity=quantity, reason=reason)

    async def start(
        self,
        *lines: ReturnLine,
        shipped_on: date | None = None,
        source: ReturnSource = ReturnSource.SUPPORT,
        refunded_by_channel: str | None = None,
        policy: ReturnPolicy | None = None,
        settlement: SettlementTerms | None = None,
    ) -> None:
        now = await self.env.get_current_time()
        request = ReturnRequest(
            return_id=uuid.uuid4().hex[:8],
            channel=self.order.channel,
            external_order_id=self.order.external_id,
            source=source,
            lines=list(lines),
            requested_at=now,
            store="STORE-BOS" if source is ReturnSource.STORE else None,
            refunded_by_channel=refunded_by_channel,
        )
        returnable = ReturnableOrder(
            order=self.order,
            shipped={line.line_id: line.quantity for line in self.order.lines},
            shipped_on=shipped_on or now.date(),
        )
        self.handle = await self.env.client.start_workflow(
            ReturnWorkflow.run,
            ReturnInput(
                request=request,
                returnable=returnable,
                policy=policy or ReturnPolicy(non_returnable_skus=["MATCH-LONG-50"]),
                retry=FAST_RETRY,
                publish_search_attributes=False,
                settlement=settlement,
            ),
            id=request.workflow_id,
            task_queue=self.task_queue,
        )

    async def wait_for(self, *statuses: OrderStatus) -> ReturnView:
        return await reaches(self.handle, ReturnWorkflow.status, *statuses)

    async def receive(self, node: str = "WH-EAST") -> None:
        await self.wait_for(OrderStatus.AWAITING_RETURN)
        await self.report_receipt(node)
        await self.wait_for(OrderStatus.INSPECTING)

    async def report_receipt(self, node: str = "WH-EAST") -> None:
        receipt = ReturnReceipt(event_id="rcv-1", node=node, received_at=datetime.now(UTC))
        await self.handle.signal(ReturnWorkflow.return_received, receipt)

    async def received_while_authorising(self, *lines: ReturnLine) -> None:
        """Started with the return ledger busy, its parcel received already (a late poll)."""
        self.partners.outage("claim_return", ApplicationError("ledger busy", type="Transient"))
        await self.start(*lines)
        await self.report_receipt()

    async def inspect(self, *lines: tuple[int, int, Condition]) -> ReturnView:
        await self.wait_for(OrderStatus.INSPECTING)
        return await self.inspect_now(*lines)

    async def inspect_now(self, *lines: tuple[int, int, Condition]) -> ReturnView:
        inspection = Inspection(
            event_id="insp-1",
            lines=[
                InspectedLine(line_id=self.order.lines[i].line_id, quantity=q, condition=c)
                for i, q, c in lines
            ],
        )
        return await self.handle.execute_update(ReturnWorkflow.inspection_result, inspection)


async def update_accepted(handle: WorkflowHandle[Any, Any]) -> None:
    """The workflow took the update in (its handler runs, possibly waiting)."""

    async def accepted() -> bool:
        history = await handle.fetch_history()
        return any(
            e.HasField("workflow_execution_update_accepted_event_attributes")
            for e in history.events
        )

    await eventually(accepted, what="the update accepted")


@pytest.fixture
async def ret(time_env: WorkflowEnvironment) -> AsyncIterator[Return]:
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(time_env.client, task_queue, [ReturnWorkflow]):
        yield Return(time_env, partners, task_queue)


async def test_a_return_is_labelled_received_inspected_refunded_credited_and_restocked(
    ret: Return,
) -> None:
    await ret.start(ret.line(CANDLE, 2, "too smoky"), ret.line(MUG))
    await ret.receive()
    with pytest.raises(WorkflowUpdateFailedError):  # more than came back
        await ret.inspect((CANDLE, 3, Condition.RESALABLE))
    await ret.inspect(
        (CANDLE, 1, Condition.RESALABLE), (CANDLE, 1, Condition.DAMAGED),
        (MUG, 1, Condition.WRONG_ITEM),
    )  # fmt: skip
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED
    candle = ret.order.lines[CANDLE]
    (label,) = ret.partners.args["create_return_label"]
    assert label.rma == ret.handle.id and [line.quantity for line in label.lines] == [2, 1]
    (refund,) = ret.partners.args["refund_return"]
    assert refund.lines == {candle.line_id: 2}  # the wrong item is not paid back
    (credit,) = ret.partners.args["credit_return"]
    assert [(c.sku, c.quantity) for c in credit.lines] == [(candle.sku, 2)]
    assert credit.credit_key == refund.refund_id
    (tax,) = ret.partners.args["refund_tax"]
    assert tax.document_code == ret.order.key and tax.lines == {candle.line_id: 2}
    (restock,) = ret.partners.args["restock_return"]
    assert (restock.node, restock.lines) == ("WH-EAST", {candle.line_id: 1})
    assert ret.partners.templates() == ["return_label", "refund_issued"]
    details = result.return_details
    assert details is not None and details.credit_note == "CM-1"
    assert details.inspected[candle.line_id] == "1 damaged"


async def test_an_inspection_before_the_return_is_authorised_waits_for_it(ret: Return) -> None:
    """A polled channel return can start after the desk received and inspected its parcel."""
    await ret.received_while_authorising(ret.line(CANDLE, 2))
    inspected = asyncio.create_task(ret.inspect_now((CANDLE, 2, Condition.RESALABLE)))
    await update_accepted(ret.handle)
    assert not inspected.done()  # the ledger is down: no authorisation to check it against
    assert (await ret.handle.query(ReturnWorkflow.status)).status is OrderStatus.IN_PROGRESS
    ret.partners.recover("claim_return")
    assert (await inspected).return_details is not None
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED, result.timeline
    (refund,) = ret.partners.args["refund_return"]
    assert refund.lines == {ret.order.lines[CANDLE].line_id: 2}


async def test_an_early_inspection_of_more_than_was_authorised_is_refused(ret: Return) -> None:
    await ret.received_while_authorising(ret.line(CANDLE, 1))
    inspected = asyncio.create_task(ret.inspect_now((CANDLE, 2, Condition.RESALABLE)))
    await update_accepted(ret.handle)
    ret.partners.recover("claim_return")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await inspected
    assert "2 inspected, not that many returned" in str(refused.value.cause)
    await ret.inspect((CANDLE, 1, Condition.RESALABLE))
    assert (await ret.handle.result()).status is OrderStatus.COMPLETED


async def test_a_parcel_that_never_arrives_closes_the_return(ret: Return) -> None:
    await ret.start(ret.line(MUG))
    await ret.wait_for(OrderStatus.AWAITING_RETURN)
    await ret.env.sleep(timedelta(days=15))
    result = await ret.handle.result()
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == ["void_return_label", "release_return"]
    assert ret.partners.templates() == ["return_label", "return_expired"]
    assert "refund_return" not in ret.partners.calls


async def test_the_policy_refuses_late_returns_and_what_cannot_be_returned(ret: Return) -> None:
    today = (await ret.env.get_current_time()).date()
    await ret.start(ret.line(MUG), shipped_on=today - timedelta(days=45))
    result = await ret.handle.result()
    assert result.status is OrderStatus.REFUSED
    assert result.return_details is not None
    assert (
        "30-day return window ended" in result.return_details.refused[ret.order.lines[MUG].line_id]
    )
    assert ret.partners.calls == []
    ret.order = ret.order.model_copy(
        update={
            "lines": [
                ret.order.lines[0].model_copy(update={"sku": "MATCH-LONG-50"}),
                ret.order.lines[1],
            ]
        }
    )
    await ret.start(ret.line(CANDLE), ret.line(MUG))
    await ret.wait_for(OrderStatus.AWAITING_RETURN)
    view = await ret.handle.query(ReturnWorkflow.status)
    assert view.return_details is not None
    assert view.return_details.refused == {
        ret.order.lines[CANDLE].line_id: "MATCH-LONG-50 cannot be returned"
    }
    assert view.return_details.accepted == {ret.order.lines[MUG].line_id: 1}


async def test_a_refund_whose_answer_was_lost_is_not_paid_twice(ret: Return) -> None:
    lost = ApplicationError("read timeout", type="Transient")
    ret.partners.fail("refund_return", lost)  # the channel paid, the answer never came
    await ret.start(ret.line(MUG))
    await ret.receive()
    await ret.inspect((MUG, 1, Condition.RESALABLE))
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED
    attempts = ret.partners.args["refund_return"]
    assert len(attempts) == 2 and len({a.refund_id for a in attempts}) == 1
    assert len(ret.partners.refunds) == 1


async def test_a_failing_credit_note_waits_for_support_and_the_refund_is_not_repeated(
    ret: Return,
) -> None:
    ret.partners.outage("credit_return", business(ExceptionCode.ERP_REJECTED, "period closed"))
    await ret.start(ret.line(MUG))
    await ret.receive()
    await ret.inspect((MUG, 1, Condition.RESALABLE))
    view = await ret.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and "period closed" in view.exception.message
    ret.partners.recover("credit_return")
    await ret.handle.execute_update(ReturnWorkflow.resume, ResumeRequest(note="period reopened"))
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert len(ret.partners.args["refund_return"]) == 1
    assert ret.partners.calls.count("credit_return") == 2


async def test_a_return_at_the_store_counter_needs_no_label(ret: Return) -> None:
    await ret.start(ret.line(CANDLE), source=ReturnSource.STORE)
    await ret.inspect((CANDLE, 1, Condition.RESALABLE))
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert "create_return_label" not in ret.partners.calls
    (restock,) = ret.partners.args["restock_return"]
    assert restock.node == "STORE-BOS"


async def test_a_return_the_channel_refunded_already_is_not_paid_again(ret: Return) -> None:
    await ret.start(ret.line(MUG), refunded_by_channel="gid://shopify/Refund/1")
    await ret.receive()
    await ret.inspect((MUG, 1, Condition.RESALABLE))
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert "refund_return" not in ret.partners.calls
    assert result.return_details is not None
    assert result.return_details.refund_id == "gid://shopify/Refund/1"


async def test_a_return_is_cancelled_until_its_parcel_arrives(ret: Return) -> None:
    await ret.start(ret.line(MUG))
    await ret.wait_for(OrderStatus.AWAITING_RETURN)
    result = await ret.handle.execute_update(
        ReturnWorkflow.cancel, CancelRequest(reason="customer keeps it")
    )
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == ["void_return_label", "release_return"]
    await ret.start(ret.line(MUG))
    await ret.receive()
    with pytest.raises(WorkflowUpdateFailedError):
        await ret.handle.execute_update(ReturnWorkflow.cancel, CancelRequest(reason="late"))


async def test_a_refund_the_channel_cannot_take_is_made_by_hand_and_the_return_goes_on(
    ret: Return,
) -> None:
    no_api = business(ExceptionCode.CHANNEL_REJECTED, "refund it in Seller Central")
    ret.partners.outage("refund_return", no_api)  # as Amazon answers: no refund call in SP-API
    await ret.start(ret.line(MUG))
    await ret.receive()
    await ret.inspect((MUG, 1, Condition.DAMAGED))
    view = await ret.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and "Seller Central" in view.exception.message
    await ret.handle.execute_update(ReturnWorkflow.resume, ResumeRequest(note="tried again"))
    await ret.wait_for(OrderStatus.NEEDS_ATTENTION)  # a plain resume tries the call again
    done = ResumeRequest(note="refunded in Seller Central", done_by_hand="SC-REFUND-77")
    await ret.handle.execute_update(ReturnWorkflow.resume, done)
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert ret.partners.calls.count("refund_return") == 2
    assert result.return_details is not None
    assert result.return_details.refund_id == "SC-REFUND-77"
    assert "credit_return" in ret.partners.calls and "refund_tax" in ret.partners.calls
