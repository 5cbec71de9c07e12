"""Walmart pushes nothing: its polls hand their finds to the ingest service like any delivery.
A released purchase order starts its order (one workflow per `purchaseOrderId`); a return order
a customer opened starts one return per purchase order it spans (Walmart issued the label)."""

from __future__ import annotations

import json

from adapters.payload import PayloadError
from adapters.walmart import order_from_walmart, returns_from_walmart
from inbox.store import InboxEntry
from infra.settings import Settings
from ingest.order_outcomes import order_started
from ingest.outcome import Outcome, rejected
from ingest.returns import returns_started
from ingest.temporal_link import TemporalLink


class WalmartPurchaseOrders:
    def __init__(self, temporal: TemporalLink, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            order = order_from_walmart(json.loads(entry.body))
        except (PayloadError, ValueError) as exc:
            return rejected(422, str(exc))  # kept unacknowledged, visible to support
        return await order_started(await self._temporal.client(), self._settings, order)


class WalmartReturns:
    def __init__(self, temporal: TemporalLink, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            requests = returns_from_walmart(json.loads(entry.body))
        except (PayloadError, ValueError) as exc:
            return rejected(422, str(exc))
        return await returns_started(self._temporal, self._settings, requests)
