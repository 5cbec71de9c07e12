"""Settlement activities: import what a channel paid out into the settlement store, match each
settlement's lines to our orders, post its journal to the ERP, summarise it. The workflows pass
settlement keys, never the lines: a report of 10,000 lines is read from the store where it is
needed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import partner_call
from adapters.ports import ErpPort, SettlementSourcePort
from canonical import Channel, ExceptionCode, ReturnView
from canonical.journal import SettlementAccounts, UnpostableSettlement, settlement_journal
from canonical.order import order_key, order_workflow_id
from canonical.settlement import (
    SETTLEMENT_SIGNAL,
    RefundClaimant,
    SettlementLine,
    SettlementLines,
    SettlementSummary,
    allocate_refunds,
)
from settlements.store import SettlementStore


class SettlementRef(BaseModel):
    channel: Channel
    settlement_id: str


class RefundClaim(BaseModel):
    """A return asking for refund lines of its order settled before it could take them."""

    channel: Channel
    order_id: str
    claimant: RefundClaimant


class OrderBatch(BaseModel):
    settlement: SettlementRef
    order_ids: list[str]


class SettlementActivities:
    def __init__(
        self,
        sources: Callable[[Channel], SettlementSourcePort],
        store: SettlementStore,
        returns: Callable[[str], list[str]],
        lookback: timedelta,
        tolerance_minor_units: int = 1,
    ) -> None:
        self._sources = sources
        self._store = store
        self._returns = returns  # an order key -> the workflow ids of its returns
        self._lookback = lookback
        self._tolerance = tolerance_minor_units

    @activity.defn
    async def import_settlements(self, channel: Channel) -> list[str]:
        """The ids of the settlements the channel reports over the lookback, each kept in the
        store (once: one kept before is not changed)."""
        with partner_call():
            found = await self._sources(channel).settlements(datetime.now(UTC) - self._lookback)
        for settlement in found:
            activity.heartbeat(settlement.settlement_id)
            self._store.record(settlement)
        return [settlement.settlement_id for settlement in found]

    @activity.defn
    async def settlement_orders(self, ref: SettlementRef) -> list[str]:
        """The channel's order ids the settlement's lines name."""
        return self._store.order_ids(ref.channel, ref.settlement_id)

    @activity.defn
    async def match_orders(self, batch: OrderBatch) -> list[str]:
        """The orders of the batch we know. Their refund lines go to the returns that refunded
        them; the rest to the order, while its saga runs (it completes once they pay what it
        invoiced). Lines no order or return of ours takes are kept as unmatched, with why."""
        ref = batch.settlement
        lines = self._store.lines_by_order(ref.channel, ref.settlement_id, batch.order_ids)
        owners: dict[str, str] = {}  # line id -> the workflow it went to
        gate = asyncio.Semaphore(ORDERS_AT_ONCE)

        async def match(order_id: str) -> bool:
            async with gate:
                activity.heartbeat(order_id)
                taken = await self._match_order(ref, order_id, lines[order_id])
            owners.update(taken or {})
            return taken is not None

        known = await asyncio.gather(*(match(order_id) for order_id in batch.order_ids))
        self._store.matched(ref.channel, ref.settlement_id, owners)
        return [order_id for order_id, ok in zip(batch.order_ids, known, strict=True) if ok]

    async def _match_order(
        self, ref: SettlementRef, order_id: str, lines: list[SettlementLine]
    ) -> dict[str, str] | None:
        """Where the order's lines went (line id -> workflow id); None for an order we do not
        know (its lines are kept unmatched)."""
        handle = activity.client().get_workflow_handle(order_workflow_id(ref.channel, order_id))
        try:
            description = await handle.describe()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            why = f"no order workflow {handle.id}: not an order of ours, or past retention"
            self._unmatched(ref, why, lines)
            return None
        owners = await self._to_returns(ref, order_id, lines)
        rest = [line for line in lines if line.line_id not in owners]
        running = description.status is WorkflowExecutionStatus.RUNNING
        if running and description.workflow_type in ORDER_SAGAS:
            await _tell(handle, ref, rest)
            return owners | {line.line_id: handle.id for line in rest}
        refunds = [line for line in rest if line.is_refund]
        self._unmatched(ref, f"a refund no open return of {handle.id} took", refunds)
        return owners | {line.line_id: handle.id for line in rest if not line.is_refund}

    async def _to_returns(
        self, ref: SettlementRef, order_id: str, lines: list[SettlementLine]
    ) -> dict[str, str]:
        """The order's refund lines its running returns take (line id -> return workflow)."""
        refunds = [line for line in lines if line.is_refund]
        if not refunds:
            return {}
        claimants = []
        client = activity.client()
        for workflow_id in self._returns(order_key(ref.channel, order_id)):
            try:
                view = await client.get_workflow_handle(workflow_id).query(
                    "status", result_type=ReturnView
                )
            except (RPCError, WorkflowQueryFailedError):
                continue  # past retention, or not a return: it takes nothing
            if not view.status.is_final:
                details = view.return_details
                claimants.append(
                    RefundClaimant(
                        workflow_id=workflow_id, refund_id=details.refund_id,
                        refunded=details.refund_amount,
                    )
                )  # fmt: skip
        shares, _ = allocate_refunds(claimants, refunds, self._tolerance)
        owners: dict[str, str] = {}
        for workflow_id, taken in shares.items():
            await _tell(client.get_workflow_handle(workflow_id), ref, taken)
            owners |= {line.line_id: workflow_id for line in taken}
        return owners

    def _unmatched(self, ref: SettlementRef, why: str, lines: list[SettlementLine]) -> None:
        if lines:
            line_ids = [line.line_id for line in lines]
            self._store.unmatched(ref.channel, ref.settlement_id, why, line_ids=line_ids)

    @activity.defn
    async def settled_refunds(self, claim: RefundClaim) -> list[SettlementLines]:
        """The refund lines of the return's order that no return took — those a settlement
        brought before the return existed — that are its own (as matching shares them out),
        marked as taken by it."""
        untaken = self._store.refunds_untaken(claim.channel, claim.order_id)
        settlement_of = {id(line): settlement_id for settlement_id, line in untaken}
        shares, _ = allocate_refunds(
            [claim.claimant], [line for _, line in untaken], self._tolerance
        )
        per_settlement: dict[str, list[SettlementLine]] = {}
        for line in shares.get(claim.claimant.workflow_id, []):
            per_settlement.setdefault(settlement_of[id(line)], []).append(line)
        for settlement_id, lines in per_settlement.items():
            taken = {line.line_id: claim.claimant.workflow_id for line in lines}
            self._store.matched(claim.channel, settlement_id, taken)
        return [
            SettlementLines(settlement_id=settlement_id, lines=lines)
            for settlement_id, lines in per_settlement.items()
        ]

    @activity.defn
    async def settlement_summary(self, ref: SettlementRef) -> SettlementSummary:
        summary = self._store.summary(ref.channel, ref.settlement_id)
        if summary is None:
            raise LookupError(f"settlement {ref.settlement_id} of {ref.channel.value} not kept")
        return summary

    def activities(self) -> list[Callable[..., object]]:
        return [
            self.import_settlements,
            self.settlement_orders,
            self.match_orders,
            self.settled_refunds,
            self.settlement_summary,
        ]


ORDERS_AT_ONCE = 16  # describes and signals in flight per matching batch
# The sagas that wait for their settlement and take its lines.
ORDER_SAGAS = {"OrderToCashWorkflow", "ClickAndCollectWorkflow"}


async def _tell(
    handle: WorkflowHandle[Any, Any], ref: SettlementRef, lines: list[SettlementLine]
) -> None:
    if lines:
        await handle.signal(
            SETTLEMENT_SIGNAL, SettlementLines(settlement_id=ref.settlement_id, lines=lines)
        )


class SettlementPostingActivities:
    """The ERP's side of a settlement, on the ERP's queue (held to its quota)."""

    def __init__(
        self,
        erp: ErpPort,
        store: SettlementStore,
        accounts: Callable[[Channel], SettlementAccounts],
    ) -> None:
        self._erp = erp
        self._store = store
        self._accounts = accounts

    @activity.defn
    async def post_settlement(self, ref: SettlementRef) -> str:
        """The settlement's journal, posted once (the ERP keys it by the settlement); a
        settlement no balanced journal can be made of is a business error, with why."""
        settlement = self._store.get(ref.channel, ref.settlement_id)
        if settlement is None:
            raise LookupError(f"settlement {ref.settlement_id} of {ref.channel.value} not kept")
        try:
            journal = settlement_journal(settlement, self._accounts(ref.channel))
            with partner_call():
                posted = await self._erp.post_journal(journal)
        except UnpostableSettlement as exc:
            self._store.refused(ref.channel, ref.settlement_id, str(exc))
            raise ApplicationError(
                str(exc), type=ExceptionCode.ERP_REJECTED.value, non_retryable=True
            ) from None
        except ApplicationError as exc:
            if exc.non_retryable:  # the ERP's business answer: support must act
                self._store.refused(ref.channel, ref.settlement_id, exc.message)
            raise
        self._store.posted(ref.channel, ref.settlement_id, posted)
        return posted
