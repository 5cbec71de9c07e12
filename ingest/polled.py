"""What the polls of channels that push nothing find (Walmart's released purchase orders and
return orders, Amazon's returns report rows): parsed once, then started. A find that cannot be
read is kept as rejected, unacknowledged, for support."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from adapters.payload import PayloadError
from canonical import Order
from inbox.outcome import Outcome, rejected
from inbox.store import InboxEntry
from infra.settings import Settings
from ingest.temporal_link import TemporalLink
from services.orders import order_started

T = TypeVar("T")


class Polled(Generic[T]):
    def __init__(self, parse: Callable[[Any], T], act: Callable[[T], Awaitable[Outcome]]) -> None:
        self._parse = parse
        self._act = act

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            found = self._parse(json.loads(entry.body))
        except (PayloadError, ValueError) as exc:
            return rejected(422, str(exc))
        return await self._act(found)


def order_starter(
    temporal: TemporalLink, settings: Settings
) -> Callable[[Order], Awaitable[Outcome]]:
    async def start(order: Order) -> Outcome:
        return await order_started(await temporal.client(), settings, order)

    return start
