"""Withdrawing an order from a node that ships (a WMS, a drop-ship supplier): idempotent, and
"it shipped" is told apart from any other refusal, because the saga then completes the order
instead of unwinding it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.errors import BusinessError
from canonical import ExceptionCode

Record = dict[str, Any]


@dataclass(frozen=True)
class Withdrawal:
    """How one partner names the states and answers the cancel."""

    system: str
    status_field: str
    cancelled: str
    shipped: str
    refused_status: int  # the HTTP status a cancel of a shipped order is refused with
    raise_for_error: Callable[[httpx.Response], None]

    async def cancel(
        self,
        order_key: str,
        find: Callable[[], Awaitable[Record | None]],
        request_cancel: Callable[[Record], Awaitable[httpx.Response]],
    ) -> None:
        """Cancel unless cancelled (or unknown) already; `ALREADY_SHIPPED` once it shipped,
        also when it shipped while the cancel was on its way."""
        existing = await find()
        if existing is None or existing.get(self.status_field) == self.cancelled:
            return
        if existing.get(self.status_field) != self.shipped:
            response = await request_cancel(existing)
            if response.status_code != self.refused_status:
                self.raise_for_error(response)
                return
            existing = await find() or existing
            if existing.get(self.status_field) != self.shipped:
                self.raise_for_error(response)
        raise BusinessError(
            self.system, ExceptionCode.ALREADY_SHIPPED, f"order {order_key} has already shipped"
        )
