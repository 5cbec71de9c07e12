"""Buy online, pick up in store: reserve at the chosen store → tax → acknowledge → ERP order →
pick task to the store's POS → wait until the store has it ready (a pick SLA timer marks the
order DELAYED) → tell the customer → wait until they collect it within the pickup window →
handover at the POS, stock committed, ERP delivery and invoice → COMPLETED. When the customer
takes only some units, the rest go back to the store's ATP and come off the ERP order and the
channel (which refunds them), and the tax is quoted again on what was taken.
The window running out, or a cancel by the customer or support, unwinds everything done (pick
task, ERP order, reservation, tax, channel) and tells the customer. A store short of stock
holds the order with the nearest stores that have it; support moves it with `change_store`."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.channel import ChannelActivities
    from activities.erp import ErpActivities
    from activities.inventory import InventoryActivities, LinesRelease, ShipmentCommit
    from activities.models import CollectionConfirmation, ErpOrderInput
    from activities.store import PickupRef, StoreActivities
    from activities.tax import TaxActivities
    from canonical import (
        ErpOrderRef,
        ExceptionCode,
        OrderStatus,
        PickupView,
        Step,
        TaxQuote,
    )
    from canonical.cancellation import LineCancellation
    from canonical.notification import NotificationTemplate
    from canonical.pickup import Handover, PickLine, PickTask, StoreEvent, StoreEventKind
    from canonical.returns import ReturnableOrder
    from canonical.sourcing import DemandLine, SourcingRequest
    from workflows.order_inputs import (
        ChangeStore,
        ClickAndCollectInput,
        ResumeRequest,
    )
    from workflows.saga import GoodsLeft, SagaEnded
    from workflows.settlement_wait import SettledSaga


# While the store has the pick task, or the goods wait at its counter, a collection counts.
PICK_TASK_SENT = {
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.DELAYED,
    OrderStatus.READY_FOR_PICKUP,
}


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class ClickAndCollectWorkflow(SettledSaga):
    @workflow.init
    def __init__(self, input: ClickAndCollectInput) -> None:
        self._start_saga(input.order, input.retry, input.publish_search_attributes)
        assert input.order.pickup_store is not None  # a pickup order names its store
        self._store: str = input.order.pickup_store
        self._alternatives: list[str] = []
        self._ready: StoreEvent | None = None
        self._collected: StoreEvent | None = None
        self._erp_order: ErpOrderRef | None = None
        self._quote: TaxQuote | None = None
        self._expired = False
        self._terms = input.settlement

    # --- support and store API --------------------------------------------------------------

    @workflow.query
    def status(self) -> PickupView:
        return self._view(PickupView, erp_order=self._erp_order, pickup_store=self._store)

    @workflow.query
    def returnable(self) -> ReturnableOrder:
        collected = self._status is OrderStatus.COMPLETED
        return self._returnable(self._taken() if collected else {})

    @workflow.signal
    def ready_for_pickup(self, event: StoreEvent) -> None:
        """The store picked the order (a redelivery, or another store's event, changes nothing)."""
        if self._ready is None and event.store == self._store:
            self._ready = event

    @workflow.update
    async def picked_up(self, event: StoreEvent) -> PickupView:
        """The customer collected. Reported before the store's `ready_for_pickup` was taken
        (the events raced, or that one was lost), the collection counts as it. Reported before
        the order sent the pick task (a re-drive overtook it), it waits for that, in order."""
        if not self._pick_task_sent():
            await workflow.wait_condition(lambda: self._pick_task_sent() or self._ending())
            if not self._pick_task_sent():
                raise ApplicationError(self._collection_refused(), non_retryable=True)
        if self._ready is None:
            self._ready = event
        self._collected = event
        return self.status()

    @picked_up.validator
    def _validate_picked_up(self, event: StoreEvent) -> None:
        """Refused only when it can never apply: the order ended or is unwinding, another
        store, lines not on the order, a collection already taken."""
        if self._ending():
            raise ValueError(self._collection_refused())
        if event.store != self._store:
            raise ValueError(f"order {self._order.order_number} waits at {self._store}")
        if self._collected is not None:
            raise ValueError(f"order {self._order.order_number} was collected already")
        ordered = {line.line_id: line.quantity for line in self._order.lines}
        for line in event.lines:
            if not 0 < line.quantity <= ordered.get(line.line_id, 0):
                raise ValueError(
                    f"line {line.line_id} x{line.quantity} is not on order "
                    f"{self._order.order_number}"
                )

    def _pick_task_sent(self) -> bool:
        # The task may have reached the store while its request is still being retried (its
        # answer was lost): the store can have it picked and collected by then.
        asking = self._step is Step.STORE_PICK and self._status is OrderStatus.IN_PROGRESS
        return self._status in PICK_TASK_SENT or asking

    def _ending(self) -> bool:
        return self._status.is_final or self._status is OrderStatus.CANCELLING

    def _collection_refused(self) -> str:
        return f"order {self._order.order_number} is {self._status.value}"

    def _cancel_refused(self) -> str | None:
        if self._collected is not None:
            return f"order {self._order.order_number} was collected"
        return None

    @workflow.update
    def change_store(self, request: ChangeStore) -> PickupView:
        self._note(f"pickup moved from {self._store} to {request.store}: {request.note}")
        self._store = request.store
        self._resume = ResumeRequest(note=f"moved to {request.store}")
        return self.status()

    @change_store.validator
    def _validate_change_store(self, request: ChangeStore) -> None:
        if self._step is not Step.RESERVE_STOCK or self._status is not OrderStatus.ON_HOLD:
            raise ValueError("the store can only change while the order waits for stock")
        if request.store not in self._alternatives:
            raise ValueError(
                f"{request.store} lacks the stock; these have it: {self._alternatives}"
            )

    # --- the saga ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ClickAndCollectInput) -> PickupView:
        order = self._order
        # The last of all compensations: once everything is undone, the customer is told.
        self._push("notify_customer", self._tell_cancelled)
        self._push("cancel_channel_order", self._cancel_on_channel)
        received = f"pickup at {self._store}: {order.order_number}"
        await self._run_saga(order.external_id, received, lambda: self._forward(input))
        return self.status()

    async def _forward(self, input: ClickAndCollectInput) -> None:
        self._set_status(OrderStatus.IN_PROGRESS)
        items = await self._validate()
        self._quote = await self._run_step(
            Step.TAX_QUOTE,
            lambda: self._activity(TaxActivities.quote_tax, self._order),
            compensation=("void_tax", lambda: self._undo(TaxActivities.void_tax, self._key)),
        )
        await self._reserve_at_store()
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
        await self._run_step(
            Step.STORE_PICK,
            lambda: self._activity(StoreActivities.create_pick_task, self._pick_task(input)),
            compensation=(
                "cancel_pick_task",
                lambda: self._undo(StoreActivities.cancel_pick_task, self._pickup()),
            ),
        )
        await self._await_ready(input.pick_sla)
        self._set_status(OrderStatus.READY_FOR_PICKUP, f"ready at {self._store}")
        if self._collected is None:  # no "ready" message to a customer who has the goods
            await self._tell_customer(NotificationTemplate.READY_FOR_PICKUP, store=self._store)
        await self._await_collection(input.pickup_window)
        await self._complete_collection()

    async def _complete_collection(self) -> None:
        """Collected: nothing is undone any more; failures from here need attention."""
        assert self._erp_order is not None and self._quote is not None  # both came before
        erp_order, quote = self._erp_order, self._quote
        self._compensations.clear()
        handover = self._handover()
        await self._settle(
            Step.HANDOVER, lambda: self._activity(StoreActivities.hand_over, handover)
        )
        taken = self._taken()
        await self._settle(
            Step.HANDOVER,
            lambda: self._activity(
                InventoryActivities.commit_shipment,
                ShipmentCommit(
                    order_id=self._key,
                    shipment_id=handover.handover_id,
                    lines=taken if self._partial() else None,
                ),
            ),
        )
        if self._partial():
            quote = await self._cancel_uncollected()
        if workflow.patched("collected-on-channel"):  # the channel fulfils what was taken
            confirmation = CollectionConfirmation(order=self._order, handover=handover)
            await self._settle(
                Step.HANDOVER,
                lambda: self._activity(ChannelActivities.confirm_collected, confirmation),
            )
        await self._settle(
            Step.ERP_DELIVERY, lambda: self._activity(ErpActivities.fulfil_sales_order, erp_order)
        )
        await self._settle(
            Step.INVOICE, lambda: self._activity(TaxActivities.commit_tax, quote.document_code)
        )
        invoice = await self._settle(
            Step.INVOICE, lambda: self._activity(ErpActivities.invoice_sales_order, erp_order)
        )
        done = f"collected at {self._store}, {invoice.erp_id}"
        if self._terms is not None:  # a channel whose payouts are imported
            due = self._order.keeping(self._kept()).total if self._partial() else self._order.total
            done = await self._await_settlement(self._terms, due, "the invoice", done)
        self._step = Step.DONE
        self._set_status(OrderStatus.COMPLETED, done)

    async def _goods_left(self, left: GoodsLeft) -> None:
        """The store refused to withdraw the pick task because the customer collected it (the
        window ran out, or a cancel came, before the collection reached us): what they took
        is read back from the POS and the order completes as collected."""
        read = StoreActivities.store_collection
        taken = await self._shipped_after_all(left, read, self._pickup(), Step.HANDOVER)
        self._expired = False
        self._collected = StoreEvent(
            event_id=f"{self._key}:read-back",
            store=self._store,
            order_key=self._key,
            kind=StoreEventKind.PICKED_UP,
            lines=taken,
            occurred_at=workflow.now(),
        )
        await self._complete_collection()

    async def _reserve_at_store(self) -> None:
        """Reserve at the chosen store; lacking stock, hold with the stores that have it."""
        self._push(
            "release_order", lambda: self._undo(InventoryActivities.release_order, self._key)
        )
        while True:
            plan = await self._run_step(
                Step.RESERVE_STOCK,
                lambda: self._activity(InventoryActivities.allocate_order, self._sourcing()),
            )
            if not plan.shortfalls:
                break
            self._alternatives = await self._run_step(
                Step.RESERVE_STOCK,
                lambda: self._activity(InventoryActivities.stores_with_stock, self._sourcing()),
            )
            elsewhere = ", ".join(self._alternatives) or "no other store"
            await self._hold(
                Step.RESERVE_STOCK,
                ExceptionCode.OUT_OF_STOCK,
                f"{self._store} lacks {plan.reason()}; in stock at: {elsewhere}",
            )
            self._resume = None
        self._note(f"reserved at {self._store}")

    async def _cancel_uncollected(self) -> TaxQuote:
        """The customer left some units: they go back to the shelf's ATP, off the ERP order
        and off the channel (which refunds them); the tax is quoted again on what was taken."""
        keep = self._kept()
        left = {
            line.line_id: line.quantity - keep[line.line_id]
            for line in self._order.lines
            if keep[line.line_id] < line.quantity
        }
        self._note(f"partial pickup: {left} not collected")
        await self._settle(
            Step.HANDOVER,
            lambda: self._activity(
                InventoryActivities.release_lines,
                LinesRelease(order_id=self._key, line_ids=sorted(left)),
            ),
        )
        await self._drop_lines(
            (Step.ERP_DELIVERY, Step.HANDOVER),
            keep,
            LineCancellation(
                cancellation_id=f"{self._key}~not-collected",
                order=self._order,
                lines=left,
                reason="not collected at the store",
            ),
        )
        return await self._settle(
            Step.INVOICE,
            lambda: self._activity(TaxActivities.quote_tax, self._order.keeping(keep)),
        )

    async def _await_ready(self, sla: timedelta) -> None:
        self._set_step(Step.STORE_PICK)
        self._set_status(OrderStatus.AWAITING_SHIPMENT, f"pick task sent to {self._store}")
        try:
            await workflow.wait_condition(
                lambda: self._ready is not None or self._cancel is not None, timeout=sla
            )
        except TimeoutError:
            self._set_status(OrderStatus.DELAYED, f"{self._store} has not picked it within {sla}")
            await workflow.wait_condition(
                lambda: self._ready is not None or self._cancel is not None
            )
        self._checkpoint()

    async def _await_collection(self, window: timedelta) -> None:
        self._set_step(Step.AWAIT_PICKUP)
        try:
            await workflow.wait_condition(
                lambda: self._collected is not None or self._cancel is not None, timeout=window
            )
        except TimeoutError:
            self._expired = True
            reason = f"not collected within {window}"
            raise SagaEnded(
                OrderStatus.CANCELLED, f"expired: {reason}", cancel_reason=reason
            ) from None
        self._checkpoint()

    async def _tell_cancelled(self) -> None:
        expired = NotificationTemplate.PICKUP_EXPIRED
        await self._tell_customer(
            expired if self._expired else NotificationTemplate.ORDER_CANCELLED, store=self._store
        )

    # --- helpers ------------------------------------------------------------------------------

    def _checkpoint(self) -> None:
        if self._collected is None:
            super()._checkpoint()

    def _lines(self) -> list[PickLine]:
        return [
            PickLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
            for line in self._order.lines
        ]

    def _sourcing(self) -> SourcingRequest:
        return SourcingRequest(
            order_id=self._key,
            channel=self._order.channel,
            lines=[DemandLine(**line.model_dump()) for line in self._lines()],
            pickup_node=self._store,
        )

    def _pickup(self) -> PickupRef:
        return PickupRef(store=self._store, order_key=self._key)

    def _pick_task(self, input: ClickAndCollectInput) -> PickTask:
        return PickTask(
            store=self._store,
            order_key=self._key,
            order_number=self._order.order_number,
            customer=self._order.customer,
            lines=self._lines(),
            pick_by=workflow.now() + input.pick_sla,
        )

    def _taken(self) -> dict[str, int]:
        """Units the customer took per line: every line when the store named none."""
        taken = self._collected.lines if self._collected else []
        return {line.line_id: line.quantity for line in taken or self._lines()}

    def _kept(self) -> dict[str, int]:
        """Units the customer took of every line of the order, none for a line left."""
        taken = self._taken()
        return {line.line_id: taken.get(line.line_id, 0) for line in self._order.lines}

    def _partial(self) -> bool:
        return self._taken() != {line.line_id: line.quantity for line in self._order.lines}

    def _handover(self) -> Handover:
        taken = self._taken()
        return Handover(
            handover_id=f"{self._key}:collected",
            store=self._store,
            order_key=self._key,
            lines=[
                line.model_copy(update={"quantity": taken[line.line_id]})
                for line in self._lines()
                if line.line_id in taken
            ],
        )
