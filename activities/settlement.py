"""Settlement activities: import what a channel paid out into the settlement store, match each
settlement's lines to our orders, post its journal to the ERP, summarise it. The workflows pass
settlement keys, never the lines: a report of 10,000 lines is read from the store where it is
needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import partner_call
from adapters.ports import ErpPort, SettlementSourcePort
from canonical import Channel, ExceptionCode
from canonical.journal import SettlementAccounts, UnpostableSettlement, settlement_journal
from canonical.order import order_workflow_id
from canonical.settlement import SETTLEMENT_SIGNAL, SettlementLines, SettlementSummary
from settlements.store import SettlementStore


class SettlementRef(BaseModel):
    channel: Channel
    settlement_id: str


class OrderBatch(BaseModel):
    settlement: SettlementRef
    order_ids: list[str]


class SettlementActivities:
    def __init__(
        self,
        sources: Callable[[Channel], SettlementSourcePort],
        store: SettlementStore,
        lookback: timedelta,
    ) -> None:
        self._sources = sources
        self._store = store
        self._lookback = lookback

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
        """The orders of the batch we know; a running order-to-cash gets its lines (it
        completes once they pay what it invoiced). Every line of an order we do not know is
        kept as unmatched, with why."""
        client = activity.client()
        ref = batch.settlement
        lines = self._store.lines_by_order(ref.channel, ref.settlement_id, batch.order_ids)
        known = []
        for order_id in batch.order_ids:
            handle = client.get_workflow_handle(order_workflow_id(ref.channel, order_id))
            try:
                description = await handle.describe()
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
                why = f"no order workflow {handle.id}: not an order of ours, or past retention"
                self._store.unmatched(ref.channel, ref.settlement_id, order_id, why)
                continue
            known.append(order_id)
            running = description.status is WorkflowExecutionStatus.RUNNING
            if running and description.workflow_type == "OrderToCashWorkflow":
                told = SettlementLines(settlement_id=ref.settlement_id, lines=lines[order_id])
                await handle.signal(SETTLEMENT_SIGNAL, told)
        return known

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
            self.settlement_summary,
        ]


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
        except UnpostableSettlement as exc:
            raise ApplicationError(
                str(exc), type=ExceptionCode.ERP_REJECTED.value, non_retryable=True
            ) from None
        with partner_call():
            posted = await self._erp.post_journal(journal)
        self._store.posted(ref.channel, ref.settlement_id, posted)
        return posted
