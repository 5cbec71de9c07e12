"""Imports Amazon's returns: Amazon pushes none to a seller, so a poll reads the flat-file
returns report over the last days and starts each return once (Amazon's prepaid label)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial

from temporalio import activity
from temporalio.client import Client

from activities.errors import partner_call
from activities.return_imports import ReturnImport
from adapters.amazon import SpApiClient, return_from_amazon_rows
from canonical.returns import ReturnRequest
from inbox.store import Inbox
from infra.settings import Settings

SOURCE = "amazon"


def _one(rows: list[dict[str, str]]) -> list[ReturnRequest]:
    return [return_from_amazon_rows(rows)]


class AmazonReturnsActivities:
    def __init__(
        self, amazon: SpApiClient, client: Client, settings: Settings, inbox: Inbox
    ) -> None:
        self._amazon = amazon
        self._lookback = timedelta(days=settings.amazon_returns_lookback_days)
        self._returns = ReturnImport(inbox, client, settings, SOURCE)

    @activity.defn
    async def import_amazon_returns(self) -> list[str]:
        """Workflow ids of the returns started by this poll."""
        with partner_call():
            rows = await self._amazon.returns_report(datetime.now(UTC) - self._lookback)
        by_rma: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in rows:
            key = (row.get("Order ID", ""), row.get("Amazon RMA ID", ""))
            by_rma.setdefault(key, []).append(row)
        started: list[str] = []
        for (order_id, rma), found in by_rma.items():
            activity.heartbeat(rma)
            body = json.dumps(found).encode()
            started += await self._returns.start(f"{order_id}-{rma}", body, partial(_one, found))
        return started
