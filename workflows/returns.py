"""A return: policy (window, shipped and not yet returned units, items that cannot be returned)
→ RMA and a return label from the WMS, e-mailed to the customer → wait for the parcel at the
warehouse within the receipt window (or the customer is at a store's counter already) →
inspection (resalable / damaged / wrong item) → refund through the channel, exactly once →
ERP credit note → tax refund → resalable units back in stock → COMPLETED.
Nothing arriving in time closes the return (label voided, units released, customer told);
a later step that keeps failing waits in NEEDS_ATTENTION with the reason, and resuming it
never pays twice: every partner call is keyed by the return."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.channel import ChannelActivities
    from activities.erp import ErpActivities
    from activities.inventory import InventoryActivities, ReturnRestock
    from activities.returns import ClaimRequest, ReturnLedgerActivities
    from activities.settlement import RefundClaim, SettlementActivities
    from activities.tax import TaxActivities
    from activities.wms import WmsActivities
    from canonical import (
        CreditLine,
        CreditNoteRequest,
        ErpRestock,
        ExceptionCode,
        OrderStatus,
        ReturnDetails,
        ReturnView,
        Step,
    )
    from canonical.notification import NotificationTemplate
    from canonical.returns import (
        ChannelRefund,
        Condition,
        Inspection,
        ReturnLabelRequest,
        ReturnLine,
        ReturnReceipt,
        ReturnSource,
        TaxRefund,
        check_return,
    )
    from canonical.settlement import RefundClaimant
    from workflows.order_inputs import ReturnInput
    from workflows.saga import SagaEnded
    from workflows.settlement_wait import SettledSaga

REFUNDED = (Condition.RESALABLE, Condition.DAMAGED)


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # days: patch changes
class ReturnWorkflow(SettledSaga):
    @workflow.init
    def __init__(self, input: ReturnInput) -> None:
        self._start_saga(input.returnable.order, input.retry, input.publish_search_attributes)
        self._request = input.request
        self._details = ReturnDetails(
            return_id=input.request.return_id, refund_id=input.request.refunded_by_channel
        )
        self._terms = input.settlement
        self._receipt: ReturnReceipt | None = None
        self._inspection: Inspection | None = None
        self._before: dict[str, int] = {}

    # --- the customer's, the warehouse's and support's API -------------------------------

    @workflow.query
    def status(self) -> ReturnView:
        return self._view(ReturnView, return_details=self._details)

    @workflow.signal
    def return_received(self, receipt: ReturnReceipt) -> None:
        """The parcel arrived; a redelivery of the event changes nothing. While the restock
        waits on a node the network does not have, a receipt naming another node corrects it
        (`resume` then books the units there)."""
        if self._receipt is None:
            self._receipt = receipt
        elif self._node_refused() and receipt.node != self._receipt.node:
            self._receipt = receipt
            self._details.received_at_node = receipt.node
            self._note(f"received at {receipt.node} (corrected)")

    def _node_refused(self) -> bool:
        exception = self._exception
        return (
            self._status is OrderStatus.NEEDS_ATTENTION
            and exception is not None
            and exception.code is ExceptionCode.UNKNOWN_NODE
        )

    @workflow.update
    async def inspection_result(self, inspection: Inspection) -> ReturnView:
        """A desk can inspect a parcel before a late poll's return is authorised: the result
        waits for the units authorised, then is checked against them."""
        if not self._details.accepted:
            await workflow.wait_condition(
                lambda: bool(self._details.accepted) or self._status.is_final
            )
            if problem := self._inspection_problem(inspection):
                raise ApplicationError(problem, type="InspectionRefused", non_retryable=True)
        self._inspection = inspection
        return self.status()

    @inspection_result.validator
    def _validate_inspection(self, inspection: Inspection) -> None:
        if problem := self._inspection_problem(inspection):
            raise ValueError(problem)

    def _inspection_problem(self, inspection: Inspection) -> str | None:
        """Why this result cannot be taken (None while the authorisation is pending)."""
        if self._receipt is None or self._inspection is not None or self._status.is_final:
            return f"return {self._request.return_id} is {self._status.value}"
        inspected: dict[str, int] = {}
        for line in inspection.lines:
            inspected[line.line_id] = inspected.get(line.line_id, 0) + line.quantity
        for line_id, units in inspected.items():
            if self._details.accepted and units > self._details.accepted.get(line_id, 0):
                return f"line {line_id}: {units} inspected, not that many returned"
        return None

    def _cancel_refused(self) -> str | None:
        if self._receipt is not None:
            return f"return {self._request.return_id} was received already"
        return None

    # --- the saga ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ReturnInput) -> ReturnView:
        request = self._request
        lines = ", ".join(f"{line.quantity} x {line.sku}" for line in request.lines)
        received = f"return {request.return_id}: {lines}"
        await self._run_saga(request.external_order_id, received, lambda: self._forward(input))
        return self.status()

    async def _forward(self, input: ReturnInput) -> None:
        self._set_status(OrderStatus.IN_PROGRESS)
        await self._authorise(input)
        if self._request.source is ReturnSource.STORE and self._request.store:
            # At the counter: the goods are in the store's hands already.
            self._receipt = ReturnReceipt(
                event_id=f"{self._request.return_id}:counter",
                node=self._request.store,
                received_at=self._request.requested_at,
            )
        else:
            if self._request.label_by_channel:
                self._details.rma = self._rma
                self._note(f"return label issued by {self._request.channel.value}")
            else:
                await self._send_label(input)
            await self._await_parcel(input.policy.receipt_days)
        # The goods are back: nothing is undone any more; failures from here need attention.
        self._compensations.clear()
        assert self._receipt is not None
        self._details.received_at_node = self._receipt.node
        self._set_step(Step.INSPECTION)
        self._set_status(OrderStatus.INSPECTING, f"received at {self._receipt.node}")
        await workflow.wait_condition(lambda: self._inspection is not None)
        await self._settle_return()

    async def _authorise(self, input: ReturnInput) -> None:
        """The policy, then the ledger: only units shipped and not taken back already."""
        self._set_step(Step.RETURN_POLICY)
        accepted, refused = check_return(
            self._request, input.returnable, input.policy, workflow.now().date()
        )
        self._details.refused = refused
        if not accepted:
            raise self._refused()
        claim = await self._run_step(
            Step.RETURN_POLICY,
            lambda: self._activity(
                ReturnLedgerActivities.claim_return,
                ClaimRequest(
                    order_key=self._key,
                    return_id=self._rma,  # channels' return ids repeat across orders
                    wanted=accepted,
                    shipped=input.returnable.shipped,
                ),
            ),
            compensation=(
                "release_return",
                lambda: self._undo(ReturnLedgerActivities.release_return, self._rma),
            ),
        )
        self._details.refused |= claim.refused
        self._details.accepted = claim.granted
        self._before = claim.before
        if not claim.granted:
            raise self._refused()
        self._note(f"authorised: {self._units(claim.granted)}")

    async def _send_label(self, input: ReturnInput) -> None:
        assert self._order.ship_to is not None  # the goods were shipped there
        self._details.rma = self._rma
        label = await self._run_step(
            Step.RETURN_LABEL,
            lambda: self._activity(
                WmsActivities.create_return_label,
                ReturnLabelRequest(
                    rma=self._rma,
                    ship_from=self._order.ship_to,
                    warehouse=input.returns_warehouse,
                    lines=self._accepted_lines(),
                ),
            ),
            compensation=(
                "void_return_label",
                lambda: self._undo(WmsActivities.void_return_label, self._rma),
            ),
        )
        self._details.label_url = label.label_url
        self._details.tracking_number = label.tracking_number
        await self._tell_customer(
            NotificationTemplate.RETURN_LABEL,
            self._rma,
            label_url=label.label_url,
            tracking_number=label.tracking_number,
        )

    def _refused(self) -> SagaEnded:
        """The policy or the ledger leaves nothing to take back."""
        refused = "; ".join(f"{k}: {v}" for k, v in self._details.refused.items())
        return SagaEnded(OrderStatus.REFUSED, f"refused: {refused}")

    async def _await_parcel(self, receipt_days: float) -> None:
        self._set_step(Step.AWAIT_RETURN)
        self._set_status(
            OrderStatus.AWAITING_RETURN,
            f"label {self._details.tracking_number or 'of the channel'}",
        )
        try:
            await workflow.wait_condition(
                lambda: self._receipt is not None or self._cancel is not None,
                timeout=timedelta(days=receipt_days),
            )
        except TimeoutError:
            reason = f"not received within {receipt_days} days"
            raise SagaEnded(
                OrderStatus.CANCELLED,
                f"expired: {reason}",
                cancel_reason=reason,
                then=lambda: self._tell_customer(NotificationTemplate.RETURN_EXPIRED, self._rma),
            ) from None
        if self._receipt is None:
            self._checkpoint()

    async def _settle_return(self) -> None:
        """Refund what came back as sold, credit it in the ERP, refund its tax, restock what
        can be sold again."""
        assert self._inspection is not None and self._receipt is not None
        refunded: dict[str, int] = {}
        restocked: dict[str, int] = {}
        for line in self._inspection.lines:
            self._details.inspected[line.line_id] = f"{line.quantity} {line.condition.value}"
            if line.condition in REFUNDED:
                refunded[line.line_id] = refunded.get(line.line_id, 0) + line.quantity
            if line.condition is Condition.RESALABLE:
                restocked[line.line_id] = restocked.get(line.line_id, 0) + line.quantity
        self._details.refunded = refunded
        order, key = self._order, f"{self._key}-R-{self._request.return_id}"
        if not refunded:
            self._step = Step.DONE
            self._set_status(OrderStatus.COMPLETED, "nothing refunded: not the goods sold")
            return
        if self._request.refunded_by_channel:
            self._details.refund_id = self._request.refunded_by_channel
            self._note(f"refunded on {order.channel.value} already: {self._details.refund_id}")
        else:
            self._details.refund_id = await self._settle(
                Step.REFUND,
                lambda: self._activity(
                    ChannelActivities.refund_return,
                    ChannelRefund(
                        refund_id=key,
                        order=order,
                        lines=refunded,
                        before=self._before,
                        reason=self._reason(),
                    ),
                ),
                by_hand=lambda reference: reference,  # refunded in the channel's own tool
            )
        self._details.refund_amount = -order.value_of(refunded)
        by_id = {line.line_id: line for line in order.lines}
        credit = await self._settle(
            Step.CREDIT_NOTE,
            lambda: self._activity(
                ErpActivities.credit_return,
                CreditNoteRequest(
                    credit_key=key,
                    order_key=self._key,
                    lines=[
                        CreditLine(
                            sku=by_id[line_id].sku,
                            quantity=units,
                            unit_price=by_id[line_id].keeping(1).net,
                        )
                        for line_id, units in refunded.items()
                    ],
                    reason=self._reason(),
                ),
            ),
        )
        self._details.credit_note = credit.number or credit.erp_id
        if not order.tax_collected_by_channel and not order.tax_total.is_zero():
            await self._settle(
                Step.TAX_REFUND,
                lambda: self._activity(
                    TaxActivities.refund_tax,
                    TaxRefund(
                        refund_code=key,
                        document_code=self._key,
                        order=order,
                        lines=refunded,
                        refund_date=workflow.now().date(),
                    ),
                ),
            )
        if restocked:
            skus = {line_id: by_id[line_id].sku for line_id in restocked}
            await self._settle(
                Step.RESTOCK,
                lambda: self._activity(
                    InventoryActivities.restock_return,
                    ReturnRestock(
                        return_id=self._request.return_id,
                        order_id=self._key,
                        node=self._received_at(),  # as corrected while it waited, if it was
                        lines=restocked,
                        skus=skus,
                    ),
                ),
            )
            receipt = self._receipt
            if workflow.patched("erp-restock"):  # the ERP's books too, at the receiving node
                units: dict[str, int] = {}
                for line_id, quantity in restocked.items():
                    units[skus[line_id]] = units.get(skus[line_id], 0) + quantity
                await self._settle(
                    Step.RESTOCK,
                    lambda: self._activity(
                        ErpActivities.erp_restock_return,
                        ErpRestock(
                            restock_key=key, order_key=self._key, node=receipt.node, lines=units
                        ),
                    ),
                )
        await self._tell_customer(NotificationTemplate.REFUND_ISSUED, self._rma)
        done = f"refunded {self._units(refunded)}, credit note {self._details.credit_note}"
        if self._terms is not None:  # the channel's payouts take the refund back
            due = self._details.refund_amount
            assert due is not None
            for lines in await self._activity(  # settled before this return could take them
                SettlementActivities.settled_refunds,
                RefundClaim(
                    channel=order.channel,
                    order_id=order.external_id,
                    claimant=RefundClaimant(
                        workflow_id=self._rma, refund_id=self._details.refund_id, refunded=due
                    ),
                ),
            ):
                self.settlement_received(lines)
            done = await self._await_settlement(self._terms, due, "the refund", done)
        self._step = Step.DONE
        self._set_status(OrderStatus.COMPLETED, done)

    # --- helpers ----------------------------------------------------------------------------

    def _what(self) -> str:
        return f"return {self._request.return_id}"

    _paid = "refund settled"

    def _received_at(self) -> str:
        assert self._receipt is not None
        return self._receipt.node

    def _units(self, lines: dict[str, int]) -> str:
        """'2 x CANDLE-CEDAR-8OZ, 1 x MUG-STONE-350' for a timeline note."""
        skus = {line.line_id: line.sku for line in self._order.lines}
        return ", ".join(f"{units} x {skus.get(line, line)}" for line, units in lines.items())

    @property
    def _rma(self) -> str:
        """Our return authorisation: the workflow's id, so the desk's events route to it."""
        return workflow.info().workflow_id

    def _accepted_lines(self) -> list[ReturnLine]:
        by_id = {line.line_id: line for line in self._request.lines}
        return [
            ReturnLine(
                line_id=line_id, sku=by_id[line_id].sku, quantity=units,
                reason=by_id[line_id].reason,
            )
            for line_id, units in self._details.accepted.items()
        ]  # fmt: skip

    def _reason(self) -> str:
        reasons = {line.reason for line in self._request.lines if line.reason}
        return "; ".join(sorted(reasons)) or f"return {self._request.return_id}"
