"""An invoiced order at its settlement step and nothing before it, for `bench/settlement.py`:
the sagas' own settlement wait (`SettledSaga`) under the order workflow's type, so a
settlement finds and signals it as it does a real order."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from canonical import Order, OrderStatus, OrderView, Step
    from workflows.order_inputs import RetryBudget, SettlementTerms
    from workflows.settlement_wait import SettledSaga


class WaitingOrder(BaseModel):
    order: Order
    terms: SettlementTerms


@workflow.defn(name="OrderToCashWorkflow")
class OrderAtSettlement(SettledSaga):
    @workflow.init
    def __init__(self, input: WaitingOrder) -> None:
        self._start_saga(input.order, RetryBudget(), publish=False)

    @workflow.query
    def status(self) -> OrderView:
        return self._view(OrderView)

    @workflow.run
    async def run(self, input: WaitingOrder) -> OrderView:
        due = input.order.total
        done = await self._await_settlement(input.terms, due, "the invoice", "invoiced")
        self._step = Step.DONE
        self._set_status(OrderStatus.COMPLETED, done)
        return self.status()
