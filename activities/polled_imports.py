"""Imports from channels that push nothing: Walmart's released purchase orders and return
orders, Amazon's returns report. Each find is handed to the ingest service, which keeps it raw
and starts its workflow once (one that cannot start yet is kept as failed and taken again by
the next poll). A Walmart PO is not acknowledged here: its order workflow acknowledges it once
the order is validated and its stock reserved, so a held PO stays unacknowledged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Protocol

from temporalio import activity

from activities.errors import partner_call
from adapters.amazon import SpApiClient
from adapters.walmart import WalmartClient
from inbox.keys import AMAZON_RETURN, WALMART_PO, WALMART_RETURN
from inbox.store import InboxEntry, InboxStatus


class Intake(Protocol):
    """The ingest service, as a poll sees it."""

    async def take(
        self, source: str, topic: str, dedupe_key: str, raw: bytes
    ) -> tuple[InboxEntry, bool]:
        """The entry as recorded, and whether it was acted on now."""
        ...


def _started(taken: tuple[InboxEntry, bool]) -> list[str]:
    entry, acted = taken
    done = acted and entry.status is InboxStatus.ACCEPTED and entry.workflow_id
    return [entry.workflow_id] if done and entry.workflow_id else []


class PollActivities:
    def __init__(
        self,
        walmart: WalmartClient,
        amazon: SpApiClient,
        intake: Intake,
        amazon_lookback: timedelta,
    ) -> None:
        self._walmart = walmart
        self._amazon = amazon
        self._intake = intake
        self._lookback = amazon_lookback

    @activity.defn
    async def import_walmart_orders(self) -> list[str]:
        """Workflow ids of the orders this poll started."""
        started: list[str] = []
        with partner_call():
            async for po in self._walmart.released_orders():
                po_id = str(po["purchaseOrderId"])
                activity.heartbeat(po_id)
                started += _started(
                    await self._intake.take(*WALMART_PO, po_id, json.dumps(po).encode())
                )
        return started

    @activity.defn
    async def import_walmart_returns(self) -> list[str]:
        """Workflow ids of the returns this poll started."""
        started: list[str] = []
        with partner_call():
            async for raw in self._walmart.initiated_returns():
                key = f"return-{raw.get('returnOrderId')}"
                activity.heartbeat(key)
                started += _started(
                    await self._intake.take(*WALMART_RETURN, key, json.dumps(raw).encode())
                )
        return started

    @activity.defn
    async def import_amazon_returns(self) -> list[str]:
        """Workflow ids of the returns this poll started: the report's rows of one order and
        Amazon RMA are one return."""
        with partner_call():
            rows = await self._amazon.returns_report(datetime.now(UTC) - self._lookback)
        by_rma: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in rows:
            by_rma.setdefault((row.get("Order ID", ""), row.get("Amazon RMA ID", "")), []).append(
                row
            )
        started: list[str] = []
        for (order_id, rma), found in by_rma.items():
            activity.heartbeat(rma)
            key = f"return-{order_id}-{rma}"
            started += _started(
                await self._intake.take(*AMAZON_RETURN, key, json.dumps(found).encode())
            )
        return started
