"""Order-to-cash ends when the cash is in: for a channel whose payouts are imported, the invoiced
order waits for its settlement lines and completes paid; nothing by the overdue window, or a
settlement that is not what was due, needs attention while the order keeps waiting, and
support can accept a difference. A return likewise closes on its refund's settlement line.
On the time-skipping server with fake partners."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from canonical import ExceptionCode, Money, OrderStatus, Step
from canonical.returns import Condition
from canonical.settlement import AmountKind, SettlementLine, SettlementLines
from infra.settings import Settings
from services.orders import start_order
from tests.fake_partners import FakePartners
from tests.test_order_workflow import FAST_RETRY, Saga
from tests.test_returns import CANDLE, Return
from workflows.order_inputs import OrderToCashInput, SettlementResolution, SettlementTerms
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.returns import ReturnWorkflow

TERMS = SettlementTerms(overdue=timedelta(days=14), tolerance_minor_units=1)


@pytest.fixture
async def order(time_env: WorkflowEnvironment) -> AsyncIterator[Saga]:
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(time_env.client, task_queue, [OrderToCashWorkflow]):
        yield Saga(time_env, partners, task_queue)


async def invoiced(saga: Saga) -> None:
    """The saga's order started waiting for its settlement, shipped and invoiced."""
    saga.handle = await start_order(
        saga.env.client,
        Settings.from_env({"ORDER_TASK_QUEUE": saga.task_queue}),
        saga.order,
        OrderToCashInput(
            order=saga.order, retry=FAST_RETRY, publish_search_attributes=False, settlement=TERMS
        ),
    )
    await saga.ship()
    view = await saga.wait_for(OrderStatus.AWAITING_SETTLEMENT)
    assert view.step is Step.SETTLEMENT and "invoice_sales_order" in saga.partners.calls


def paid(saga: Saga, settlement_id: str, amount: Money, kind: AmountKind) -> SettlementLines:
    return SettlementLines(
        settlement_id=settlement_id,
        lines=[
            SettlementLine(
                line_id=f"{settlement_id}:1", kind=kind, amount=amount,
                order_id=saga.order.external_id,
            ),
            SettlementLine(
                line_id=f"{settlement_id}:2", kind=AmountKind.COMMISSION,
                amount=Money.of("-3.00", amount.currency), order_id=saga.order.external_id,
            ),
        ],
    )  # fmt: skip


async def test_an_order_completes_once_its_settlement_paid_it(order: Saga) -> None:
    await invoiced(order)
    lines = paid(order, "S1", order.order.total, AmountKind.PRINCIPAL)
    await order.handle.signal(OrderToCashWorkflow.settlement_received, lines)
    await order.handle.signal(OrderToCashWorkflow.settlement_received, lines)  # reported again
    result = await order.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.exception is None
    assert result.timeline[-1].note.startswith(f"paid: {order.order.total} settled")


async def test_overdue_then_settled(order: Saga) -> None:
    await invoiced(order)
    await order.env.sleep(timedelta(days=14, hours=1))
    view = await order.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None
    assert view.exception.code is ExceptionCode.SETTLEMENT_OVERDUE
    lines = paid(order, "S2", order.order.total, AmountKind.PRINCIPAL)
    await order.handle.signal(OrderToCashWorkflow.settlement_received, lines)
    result = await order.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.exception is None


async def test_a_short_payment_waits_for_support_who_accepts_it(order: Saga) -> None:
    await invoiced(order)
    with pytest.raises(WorkflowUpdateFailedError):  # nothing to resolve yet
        await order.handle.execute_update(
            OrderToCashWorkflow.resolve_settlement, SettlementResolution(note="too early")
        )
    short = order.order.total - Money.of("5.00", order.order.currency)
    lines = paid(order, "S3", short, AmountKind.PRINCIPAL)
    await order.handle.signal(OrderToCashWorkflow.settlement_received, lines)
    view = await order.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and view.exception.code is ExceptionCode.SHORT_PAID
    assert view.exception.message.startswith(f"{order.order.currency} 5.00 short of")
    await order.handle.execute_update(
        OrderToCashWorkflow.resolve_settlement, SettlementResolution(note="goodwill credit")
    )
    result = await order.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.exception is None
    assert result.timeline[-1].note == "settlement difference accepted: goodwill credit"


async def test_a_later_settlement_can_make_up_the_difference(order: Saga) -> None:
    await invoiced(order)
    currency = order.order.currency
    short = order.order.total - Money.of("5.00", currency)
    await order.handle.signal(
        OrderToCashWorkflow.settlement_received, paid(order, "S4", short, AmountKind.PRINCIPAL)
    )
    view = await order.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and view.exception.code is ExceptionCode.SHORT_PAID
    rest = Money.of("5.00", currency)
    await order.handle.signal(
        OrderToCashWorkflow.settlement_received, paid(order, "S5", rest, AmountKind.ADJUSTMENT)
    )
    await order.handle.signal(
        OrderToCashWorkflow.settlement_received, paid(order, "S6", rest, AmountKind.PRINCIPAL)
    )
    result = await order.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.exception is None


async def test_without_settlement_terms_the_order_completes_at_its_invoice(order: Saga) -> None:
    await order.start()
    await order.ship()
    result = await order.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert all(change.status is not OrderStatus.AWAITING_SETTLEMENT for change in result.timeline)


@pytest.fixture
async def ret(time_env: WorkflowEnvironment) -> AsyncIterator[Return]:
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(time_env.client, task_queue, [ReturnWorkflow]):
        yield Return(time_env, partners, task_queue)


async def test_a_return_closes_once_its_refund_is_settled(ret: Return) -> None:
    await ret.start(ret.line(CANDLE, 2, "too smoky"), settlement=TERMS)
    await ret.receive()
    await ret.inspect((CANDLE, 1, Condition.RESALABLE), (CANDLE, 1, Condition.WRONG_ITEM))
    view = await ret.wait_for(OrderStatus.AWAITING_SETTLEMENT)
    refunded = view.return_details.refund_amount
    assert refunded == -ret.order.value_of({ret.order.lines[CANDLE].line_id: 1})
    await ret.env.sleep(timedelta(days=15))
    view = await ret.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and view.exception.code is ExceptionCode.SETTLEMENT_OVERDUE
    assert view.exception.message.endswith("after the refund")
    lines = SettlementLines(
        settlement_id="P-9",
        lines=[
            SettlementLine(
                line_id="P-9:refund", kind=AmountKind.REFUND, amount=refunded,
                order_id=ret.order.external_id, refund_id=view.return_details.refund_id,
            )
        ],
    )  # fmt: skip
    await ret.handle.signal(ReturnWorkflow.settlement_received, lines)
    result = await ret.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.exception is None
    assert result.timeline[-1].note.startswith(f"refund settled: {refunded} settled")
    assert result.settlement is not None and result.settlement.difference.is_zero()
