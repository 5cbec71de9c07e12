"""The last step of a saga whose channel pays out: the cash is in once the channel's
settlements paid what the saga was due — an order what it invoiced, a return what it refunded
(negative) — within the tolerance. Lines arrive by signal from each settlement's workflow at
any time and are weighed once the saga waits. A difference, or nothing by the overdue window,
needs attention (on the view with its code, and in `SettlementState`) while the saga keeps
waiting for more lines or for support to accept the difference."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from canonical import ExceptionCode, Money, OrderStatus, SagaView, Step
    from canonical.order import Order
    from canonical.settlement import (
        SETTLEMENT_SIGNAL,
        OrderSettlement,
        SettlementLine,
        SettlementLines,
        SettlementOutcome,
        SettlementState,
        order_outcome,
    )
    from workflows import search_attributes as sa
    from workflows.order_inputs import RetryBudget, SettlementResolution, SettlementTerms
    from workflows.saga import OrderSaga, V

DIFFERENCES = {
    ExceptionCode.SHORT_PAID,
    ExceptionCode.OVER_PAID,
    ExceptionCode.CURRENCY_MISMATCH,
    ExceptionCode.SETTLEMENT_OVERDUE,  # support may also close what the channel never pays
}


class SettledSaga(OrderSaga):
    """An `OrderSaga` that can end by waiting for its settlement (`_await_settlement`)."""

    def _start_saga(self, order: Order, retry: RetryBudget, publish: bool) -> None:
        super()._start_saga(order, retry, publish)
        self._settled: list[SettlementLine] = []  # its lines of channel settlements
        self._settled_keys: set[tuple[str, str]] = set()  # (settlement, line) seen
        self._settlement_due: Money | None = None  # set once it waits
        self._settlement: OrderSettlement | None = None  # the latest verdict
        self._settlement_accepted: str | None = None  # support's note on a difference
        self._settlement_news = False  # lines arrived since the saga last weighed them

    def _view(self, view: type[V], **extra: Any) -> V:
        return super()._view(
            view, settlement_due=self._settlement_due, settlement=self._settlement, **extra
        )

    @workflow.signal(name=SETTLEMENT_SIGNAL)
    def settlement_received(self, received: SettlementLines) -> None:
        """Its lines of a channel settlement (a settlement reported again adds nothing)."""
        for line in received.lines:
            key = (received.settlement_id, line.line_id)
            if key not in self._settled_keys:
                self._settled_keys.add(key)
                self._settled.append(line)
                self._settlement_news = True

    @workflow.update
    def resolve_settlement(self, resolution: SettlementResolution) -> SagaView:
        """Support accepts the settlement's difference (short, over, another currency)."""
        self._settlement_accepted = resolution.note
        return self.status()

    @resolve_settlement.validator
    def _validate_resolve_settlement(self, resolution: SettlementResolution) -> None:
        code = self._exception.code if self._exception else None
        if self._step is not Step.SETTLEMENT or code not in DIFFERENCES:
            raise ValueError(f"{self._what()} has no settlement difference to resolve")

    def _what(self) -> str:
        return f"order {self._order.order_number}"

    _paid = "paid"  # how the timeline says the settlement paid what was due

    async def _await_settlement(
        self, terms: SettlementTerms, due: Money, since: str, waiting: str
    ) -> str:
        """AWAITING_SETTLEMENT (`waiting`: the timeline's note) from `since` (the invoice, the
        refund) until the lines pay `due` or support accepts their difference; returns how it
        ended."""
        self._settlement_due = due
        self._set_step(Step.SETTLEMENT)
        self._set_status(OrderStatus.AWAITING_SETTLEMENT, waiting)
        self._settlement_state(SettlementState.AWAITING)
        overdue_at = workflow.now() + terms.overdue
        while True:
            self._settlement_news = False
            verdict = (
                order_outcome(due, self._settled, terms.tolerance_minor_units)
                if self._settled
                else None
            )
            self._settlement = verdict
            if self._settlement_accepted is not None:
                done = f"settlement difference accepted: {self._settlement_accepted}"
                self._settlement_state(SettlementState.ACCEPTED)
                break
            if verdict is not None and verdict.outcome is SettlementOutcome.SETTLED:
                done = f"{self._paid}: {verdict.reason}"
                self._settlement_state(SettlementState.PAID)
                break
            if verdict is not None:
                self._settlement_attention(ExceptionCode(verdict.outcome.name), verdict.reason)
            waiting_for_overdue = verdict is None and self._exception is None
            timeout = (
                max(overdue_at - workflow.now(), timedelta(0)) if waiting_for_overdue else None
            )
            try:
                await workflow.wait_condition(
                    lambda: self._settlement_news or self._settlement_accepted is not None,
                    timeout=timeout,
                )
            except TimeoutError:
                message = f"no settlement {terms.overdue} after {since}"
                self._settlement_attention(ExceptionCode.SETTLEMENT_OVERDUE, message)
        if self._exception is not None:
            self._clear_exception()
        return done

    def _settlement_attention(self, code: ExceptionCode, message: str) -> None:
        if self._exception is not None and self._exception.message == message:
            return  # said already
        self._settlement_state(SettlementState(code.value.lower().removeprefix("settlement_")))
        self._set_exception(Step.SETTLEMENT, code, message)
        self._set_status(OrderStatus.NEEDS_ATTENTION, f"{code.value}: {message}")

    def _settlement_state(self, state: SettlementState) -> None:
        if workflow.patched("settlement-state"):  # the attribute came after the wait
            self._upsert(sa.SETTLEMENT_STATE.value_set(state.value))
