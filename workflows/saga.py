"""The step machinery every order saga shares: forward steps that hold for support, steps after
shipment that need attention instead of rolling back, the compensation stack, and the status,
timeline and search attributes ops see. A saga subclasses `OrderSaga` and adds its own steps,
signals and updates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.channel import ChannelActivities
    from activities.erp import ErpActivities
    from activities.errors import RATE_LIMITED, TRANSIENT
    from activities.models import ChannelCancel
    from activities.notification import NotificationActivities
    from canonical import (
        ExceptionCode,
        ItemRef,
        Order,
        OrderException,
        OrderStatus,
        SagaView,
        StatusChange,
        Step,
    )
    from canonical.cancellation import LineCancellation
    from canonical.erp import OrderReduction
    from canonical.notification import Notification, NotificationTemplate
    from canonical.returns import ReturnableOrder
    from canonical.validation import order_problems
    from workflows import search_attributes as sa
    from workflows.order_inputs import CancelRequest, CancelSource, ResumeRequest, RetryBudget
    from workflows.queue_wait import only_waited
    from workflows.task_queues import channel_task_queue, erp_task_queue

T = TypeVar("T")
A = TypeVar("A")  # an activity's one typed argument
V = TypeVar("V", bound="SagaView")
# Statuses an order takes when goods leave us (a return's window starts with the last).
SHIPPED_STATUSES = {
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
}
# Statuses counted for Prometheus (`orchestrator_sagas_total{kind, channel, status, code}`):
# where a saga starts, ends, or waits for people.
COUNTED = {
    OrderStatus.RECEIVED,
    OrderStatus.COMPLETED,
    OrderStatus.CANCELLED,
    OrderStatus.FAILED,
    OrderStatus.ON_HOLD,
    OrderStatus.NEEDS_ATTENTION,
}
# Calls held to a partner's rate: each channel's on its own queue, the ERP's on the ERP's.
CHANNEL_CALLS = {
    ChannelActivities.acknowledge_order,
    ChannelActivities.confirm_shipment,
    ChannelActivities.confirm_collected,
    ChannelActivities.cancel_channel_order,
    ChannelActivities.cancel_channel_lines,
    ChannelActivities.refund_return,
}
ERP_CALLS = {
    ErpActivities.resolve_items,
    ErpActivities.create_sales_order,
    ErpActivities.cancel_sales_order,
    ErpActivities.reduce_sales_order,
    ErpActivities.fulfil_sales_order,
    ErpActivities.invoice_sales_order,
    ErpActivities.credit_return,
    ErpActivities.erp_restock_return,
}


class OrderCancelled(Exception):
    """Raised inside the saga when support or the channel cancelled the order."""


class SagaEnded(Exception):
    """Ends a saga's forward steps early (a pickup window or a return's receipt window ran
    out, a return refused): the compensations run, then it closes as `status` with `note`.
    `cancel_reason` is recorded as the cancellation's reason first; `then` runs last."""

    def __init__(
        self,
        status: OrderStatus,
        note: str,
        *,
        cancel_reason: str | None = None,
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(note)
        self.status, self.note, self.cancel_reason, self.then = status, note, cancel_reason, then


class GoodsLeft(Exception):
    """A compensation was refused because the goods it would withdraw already left the
    warehouse: the saga cannot unwind, so it stops unwinding and completes the order."""


class StepFailed(Exception):
    def __init__(self, step: Step, code: ExceptionCode, message: str) -> None:
        super().__init__(message)
        self.step, self.code, self.message = step, code, message


def business_failure(err: ActivityError) -> tuple[ExceptionCode, str]:
    """Why an activity failed for good: its business code, or PARTNER_UNAVAILABLE when the
    retry budget ran out on transient errors, or STEP_FAILED for anything unexpected."""
    cause = err.cause
    if isinstance(cause, TemporalTimeoutError):
        last = cause.cause.message if isinstance(cause.cause, ApplicationError) else str(cause)
        return ExceptionCode.PARTNER_UNAVAILABLE, f"retry budget used up; last error: {last}"
    if isinstance(cause, ApplicationError):
        if cause.type in (TRANSIENT, RATE_LIMITED):
            return ExceptionCode.PARTNER_UNAVAILABLE, cause.message
        try:
            return ExceptionCode(cause.type or ""), cause.message
        except ValueError:
            return ExceptionCode.STEP_FAILED, cause.message
    return ExceptionCode.STEP_FAILED, str(cause or err)


class OrderSaga:
    """State and steps of one order's saga; `_checkpoint` says when a cancel may still unwind."""

    def _start_saga(self, order: Order, retry: RetryBudget, publish: bool) -> None:
        self._order = order
        self._retry = retry
        self._publish = publish
        self._status = OrderStatus.RECEIVED
        self._step = Step.VALIDATE
        self._timeline: list[StatusChange] = []
        self._exception: OrderException | None = None
        self._compensations: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
        self._compensations_done: list[str] = []
        self._cancel: CancelRequest | None = None
        self._resume: ResumeRequest | None = None
        self._goods_gone = False  # an unwinding found the goods shipped: no cancel applies

    # --- the skeleton every saga runs --------------------------------------------------------

    async def _run_saga(
        self, external_id: str, received: str, forward: Callable[[], Awaitable[None]]
    ) -> None:
        """Received → `forward`; a cancel, an early end or a step failing for good unwinds the
        compensation stack in reverse. Returns once every handler has finished."""
        self._upsert(
            sa.CHANNEL.value_set(self._order.channel.value),
            sa.EXTERNAL_ORDER_ID.value_set(external_id),
        )
        self._set_status(OrderStatus.RECEIVED, received)
        try:
            await self._forward_or_unwind(forward)
        except GoodsLeft as left:
            await self._goods_left(left)
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _forward_or_unwind(self, forward: Callable[[], Awaitable[None]]) -> None:
        try:
            await forward()
        except OrderCancelled:
            await self._compensate(OrderStatus.CANCELLED, f"cancelled: {self._cancel_reason()}")
        except SagaEnded as end:
            if end.cancel_reason is not None:
                self._cancel = CancelRequest(reason=end.cancel_reason)
            await self._compensate(end.status, end.note)
            if end.then is not None:
                await end.then()
        except StepFailed as failure:
            self._set_exception(failure.step, failure.code, failure.message)
            await self._compensate(
                self._failed(failure), f"{failure.step.value}: {failure.message}"
            )

    # How the saga completes once an unwinding found the goods gone (only sagas that ask a
    # warehouse or a supplier to ship have a compensation that can be refused so).
    _goods_left: Callable[[GoodsLeft], Awaitable[None]]

    async def _shipped_after_all(
        self,
        left: GoodsLeft,
        read: Callable[[Any, Any], Awaitable[T]],
        key: Any,
        step: Step = Step.AWAIT_SHIPMENT,
    ) -> T:
        """Stop unwinding: nothing is undone any more, a cancel no longer applies, and what the
        node shipped (or handed over) under `key` is read back (`read`: the node's activity:
        the WMS's, the supplier's, the store's)."""
        self._compensations.clear()
        self._goods_gone = True
        self._clear_exception()
        self._set_status(OrderStatus.IN_PROGRESS, f"{left}: the goods left, the order goes on")
        return await self._settle(step, lambda: self._activity(read, key))

    def _failed(self, failure: StepFailed) -> OrderStatus:
        """How the saga closes when a step failed for good."""
        return OrderStatus.FAILED

    # --- what the support handlers of every saga share ---------------------------------------

    def _view(self, view: type[V], **extra: Any) -> V:
        """The saga's status as `view`, its own kind of status view."""
        return view(
            workflow_id=workflow.info().workflow_id,
            order_number=self._order.order_number,
            status=self._status,
            step=self._step,
            timeline=self._timeline,
            exception=self._exception,
            compensations_done=self._compensations_done,
            cancel_reason=self._cancel.reason if self._cancel else None,
            **extra,
        )

    status: Callable[[], SagaView]  # each saga's `status` query, which its updates answer

    @workflow.update
    async def cancel(self, request: CancelRequest) -> SagaView:
        """Cancel and wait until the compensations have run."""
        self._cancel = request
        await self._cancelling(request)
        await workflow.wait_condition(
            lambda: self._status.is_final or self._status is OrderStatus.NEEDS_ATTENTION
        )
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        refusal = self._cancel_refused()
        if refusal:
            raise ValueError(refusal)
        self._refuse_cancel_when_done()

    def _refuse_cancel_when_done(self) -> None:
        if self._status.is_final:
            raise ValueError(f"order {self._order.order_number} is already {self._status.value}")
        if self._cancel is not None:
            raise ValueError(f"order {self._order.order_number} is already being cancelled")

    def _cancel_refused(self) -> str | None:
        """Why this saga can no longer be cancelled (goods shipped, collected, received)."""
        return None

    async def _cancelling(self, request: CancelRequest) -> None:
        """What a cancel sets off before the compensations run (nothing by default)."""

    def _returnable(self, shipped: dict[str, int]) -> ReturnableOrder:
        """The order and what of it left us, for a return (the day it last shipped)."""
        left = [c for c in self._timeline if c.status in SHIPPED_STATUSES]
        return ReturnableOrder(
            order=self._order,
            shipped=shipped,
            shipped_on=left[-1].at.date() if left else None,
        )

    @workflow.update
    def resume(self, request: ResumeRequest) -> SagaView:
        """Release a saga on hold (retry its step) or needing attention (retry the call)."""
        self._resume = request
        return self.status()

    @resume.validator
    def _validate_resume(self, request: ResumeRequest) -> None:
        if self._status not in (OrderStatus.ON_HOLD, OrderStatus.NEEDS_ATTENTION):
            raise ValueError(
                f"order {self._order.order_number} is {self._status.value}, not on hold"
            )

    def _task_queue(self, fn: Callable[..., Awaitable[Any]]) -> str | None:
        """Channel and ERP calls run on their own rate-limited queues; the rest on the
        workflow's."""
        if fn in CHANNEL_CALLS:
            return channel_task_queue(workflow.info().task_queue, self._order.channel)
        if fn in ERP_CALLS:
            return erp_task_queue(workflow.info().task_queue)
        return None

    def _checkpoint(self) -> None:
        """Raise `OrderCancelled` when a cancel was asked and may still unwind the order."""
        if self._cancel is not None and not self._goods_gone:
            raise OrderCancelled()

    async def _validate(self) -> list[ItemRef]:
        self._set_step(Step.VALIDATE)
        for code, message in order_problems(self._order):
            await self._hold(Step.VALIDATE, code, message)
            if self._resume_applied_overrides():
                return await self._validate()
            # Resumed without a change: support accepts the order as it is.
        return await self._run_step(
            Step.VALIDATE, lambda: self._activity(ErpActivities.resolve_items, self._order)
        )

    async def _cancel_on_channel(self) -> bool:
        """False when there is nothing to undo: the channel cancelled the order itself."""
        if self._cancel and self._cancel.source is CancelSource.CHANNEL:
            return False
        reason = self._cancel_reason() if self._cancel else self._failure_reason()
        by_buyer = self._cancel is not None and self._cancel.source is CancelSource.CUSTOMER
        await self._undo(
            ChannelActivities.cancel_channel_order,
            ChannelCancel(order=self._order, reason=reason, by_buyer=by_buyer),
        )
        return True

    @property
    def _key(self) -> str:
        return self._order.key

    async def _tell_customer(
        self, template: NotificationTemplate, key: str | None = None, **data: str
    ) -> None:
        """A message that could not be sent is noted on the timeline, never fails the saga."""
        email = self._order.customer.email
        if not email:
            self._note(f"{template.value}: no customer e-mail")
            return
        notification = Notification(
            notification_id=f"{key or self._key}:{template.value}",
            template=template,
            to_email=email,
            to_name=self._order.customer.name,
            data={"order_number": self._order.order_number, "reason": self._cancel_reason()} | data,
        )
        try:
            await self._activity(NotificationActivities.notify_customer, notification)
            self._note(f"customer told: {template.value}")
        except ActivityError as err:
            self._note(f"{template.value} not sent: {business_failure(err)[1]}")

    async def _activity(self, fn: Callable[[Any, A], Awaitable[T]], arg: A) -> T:
        """A forward call, retried within the transient budget."""
        return await self._execute(fn, arg, self._retry.transient_budget)

    async def _undo(self, fn: Callable[[Any, A], Awaitable[Any]], arg: A) -> None:
        """A compensating call, retried within the compensation budget."""
        await self._execute(fn, arg, self._retry.compensation_budget)

    async def _execute(self, fn: Callable[[Any, A], Awaitable[T]], arg: A, budget: timedelta) -> T:
        """Within `budget`; a call that used it up only waiting for its turn goes on waiting."""
        retry = self._retry
        while True:
            try:
                return await workflow.execute_activity_method(
                    fn,
                    arg,
                    task_queue=self._task_queue(fn),
                    start_to_close_timeout=retry.step_timeout,
                    schedule_to_close_timeout=budget,
                    retry_policy=RetryPolicy(
                        initial_interval=retry.initial_interval,
                        maximum_interval=retry.maximum_interval,
                        maximum_attempts=0,
                    ),
                )
            except ActivityError as err:
                if not only_waited(err):
                    raise
                self._note(f"{fn.__name__} waited {budget} for its turn; still waiting")

    async def _run_step(
        self,
        step: Step,
        call: Callable[[], Awaitable[T]],
        compensation: tuple[str, Callable[[], Awaitable[Any]]] | None = None,
    ) -> T:
        """Run a forward step. Holdable business errors wait for support; anything else that
        retries could not fix fails the saga."""
        if compensation:
            # Pushed before the call: a call that timed out may still have taken effect.
            self._push(*compensation)
        while True:
            self._checkpoint()
            self._set_step(step)
            try:
                return await call()
            except ActivityError as err:
                code, message = business_failure(err)
                if not code.holdable:
                    raise StepFailed(step, code, message) from err
                await self._hold(step, code, message)
                self._resume_applied_overrides()

    async def _settle(
        self,
        step: Step,
        call: Callable[[], Awaitable[T]],
        by_hand: Callable[[str], T] | None = None,
    ) -> T:
        """Run a step after shipment: it cannot be undone, so a failure waits for support.
        With `by_hand`, support may instead make the call in the partner's own tool (a refund
        in Seller Central) and resume with its reference: the step is then done."""
        while True:
            self._set_step(step)
            try:
                return await call()
            except ActivityError as err:
                code, message = business_failure(err)
                request = await self._needs_attention(step, code, f"{step.value} failed: {message}")
                if by_hand and request.done_by_hand:
                    self._note(f"{step.value} done by hand: {request.done_by_hand}")
                    return by_hand(request.done_by_hand)

    async def _drop_lines(
        self,
        steps: tuple[Step, Step],
        keep: dict[str, int],
        cancellation: LineCancellation,
    ) -> None:
        """Lines that will not be delivered (`steps`: the ERP's, the channel's): the ERP order
        keeps only `keep`, then the channel
        cancels and refunds the rest; what its API cannot cancel (Amazon: Seller Central)
        support cancels there and resumes with `done_by_hand`."""
        erp_step, channel_step = steps
        await self._settle(
            erp_step,
            lambda: self._activity(
                ErpActivities.reduce_sales_order, OrderReduction(order=self._order, keep=keep)
            ),
        )
        await self._settle(
            channel_step,
            lambda: self._activity(ChannelActivities.cancel_channel_lines, cancellation),
            by_hand=lambda reference: None,
        )

    async def _hold(
        self,
        step: Step,
        code: ExceptionCode,
        message: str,
        retry_after: timedelta | None = None,
    ) -> None:
        """Wait for support to resume or cancel; with `retry_after`, try again by itself."""
        self._set_exception(step, code, message)
        self._set_status(OrderStatus.ON_HOLD, f"{code.value}: {message}")
        try:
            await workflow.wait_condition(
                lambda: self._resume is not None or self._cancel is not None, timeout=retry_after
            )
            note = self._resume.note if self._resume else ""
        except TimeoutError:
            note = f"trying again after {retry_after}"
        self._checkpoint()
        self._release_exception(OrderStatus.IN_PROGRESS, note)

    async def _needs_attention(
        self, step: Step, code: ExceptionCode, message: str
    ) -> ResumeRequest:
        self._set_exception(step, code, message)
        self._set_status(OrderStatus.NEEDS_ATTENTION, message)
        await workflow.wait_condition(lambda: self._resume is not None)
        request, self._resume = self._resume, None
        assert request is not None
        self._release_exception(self._status_before_attention(), request.note)
        return request

    def _release_exception(self, status: OrderStatus, note: str) -> None:
        self._clear_exception()
        self._set_status(status, f"resumed{': ' + note if note else ''}")

    def _resume_applied_overrides(self) -> bool:
        request, self._resume = self._resume, None
        if not request or not request.sku_overrides:
            return False
        lines = [
            line.model_copy(update={"sku": request.sku_overrides.get(line.sku, line.sku)})
            for line in self._order.lines
        ]
        self._order = self._order.model_copy(update={"lines": lines})
        self._note(f"SKUs replaced by support: {request.sku_overrides}")
        return True

    def _status_before_attention(self) -> OrderStatus:
        for change in reversed(self._timeline):
            if change.status not in (OrderStatus.NEEDS_ATTENTION, OrderStatus.ON_HOLD):
                return change.status
        return OrderStatus.IN_PROGRESS

    def _push(self, name: str, undo: Callable[[], Awaitable[Any]]) -> None:
        self._compensations.append((name, undo))

    async def _compensate(self, final: OrderStatus, note: str) -> None:
        self._set_status(OrderStatus.CANCELLING, note)
        self._set_step(Step.COMPENSATE)
        while self._compensations:
            name, undo = self._compensations[-1]
            try:
                undone = await undo()
            except ActivityError as err:
                code, message = business_failure(err)
                if code in (ExceptionCode.ALREADY_SHIPPED, ExceptionCode.ALREADY_COLLECTED):
                    raise GoodsLeft(f"compensation {name} refused: {message}") from err
                request = await self._needs_attention(
                    Step.COMPENSATE,
                    ExceptionCode.COMPENSATION_FAILED,
                    f"compensation {name} failed: {message}",
                )
                self._set_step(Step.COMPENSATE)
                if request.done_by_hand:  # e.g. an Amazon order cancelled in Seller Central
                    self._note(f"{name} done by hand: {request.done_by_hand}")
                    self._compensations.pop()
                    self._compensations_done.append(name)
                continue
            self._compensations.pop()
            if undone is not False:
                self._compensations_done.append(name)
        self._set_status(final, note)

    def _cancel_reason(self) -> str:
        return self._cancel.reason if self._cancel else ""

    def _failure_reason(self) -> str:
        return self._exception.message if self._exception else "order could not be processed"

    def _set_step(self, step: Step) -> None:
        if step is not self._step:
            self._step = step
            self._publish_details()

    def _set_status(self, status: OrderStatus, note: str = "") -> None:
        # One line per transition, with the order key, so a run can be followed in the logs
        # (workflow.logger adds the workflow's ids and stays quiet while replaying).
        workflow.logger.info(
            "%s %s -> %s at %s%s",
            self._key,
            self._status.value,
            status.value,
            self._step.value,
            f": {note}" if note else "",
        )
        if status in COUNTED and (status is not self._status or not self._timeline):
            self._count(status)
        self._status = status
        self._timeline.append(
            StatusChange(at=workflow.now(), status=status, step=self._step, note=note)
        )
        self._upsert(sa.ORDER_STATUS.value_set(status.value))
        self._publish_details()

    def _count(self, status: OrderStatus) -> None:
        """One count per saga reaching `status` (the SDK's meter: never counted on replay)."""
        code = self._exception.code.value if self._exception else ""
        workflow.metric_meter().create_counter(
            "orchestrator_sagas", "Sagas reaching a status, by kind, channel and exception code"
        ).with_additional_attributes(
            {
                "kind": workflow.info().workflow_type,
                "channel": self._order.channel.value,
                "status": status.value,
                "code": code,
            }
        ).add(1)

    def _note(self, note: str) -> None:
        self._timeline.append(
            StatusChange(at=workflow.now(), status=self._status, step=self._step, note=note)
        )

    def _set_exception(self, step: Step, code: ExceptionCode, message: str) -> None:
        """What is wrong with the saga: on its view, and in the `ExceptionCode` attribute."""
        self._exception = OrderException(code=code, message=message, step=step, at=workflow.now())
        self._set_search_exception(code)

    def _clear_exception(self) -> None:
        self._exception = None
        self._set_search_exception(None)

    def _set_search_exception(self, code: ExceptionCode | None) -> None:
        self._upsert(
            sa.EXCEPTION_CODE.value_set(code.value) if code else sa.EXCEPTION_CODE.value_unset()
        )

    def _upsert(self, *updates: SearchAttributeUpdate[Any]) -> None:
        """Upsert only what changed: every upsert is a history event."""
        current = workflow.info().typed_search_attributes
        changed = [u for u in updates if current.get(u.key) != u.value]
        if self._publish and changed:
            workflow.upsert_search_attributes(changed)

    def _publish_details(self) -> None:
        lines = [
            f"**{self._status.value}** · step `{self._step.value}`",
            f"{self._order.channel.value} {self._order.order_number} · {self._order.total}",
        ]
        if self._exception:
            lines.append(f"⚠ {self._exception.code.value}: {self._exception.message}")
        workflow.set_current_details("\n\n".join(lines))
