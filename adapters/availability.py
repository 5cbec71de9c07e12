"""Availability pushes for channels that set one SKU per call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.errors import BusinessError
from canonical import ExceptionCode
from canonical.inventory import AvailableToSell


async def set_each(
    updates: list[AvailableToSell], call: Callable[[AvailableToSell], Awaitable[None]]
) -> list[str]:
    """Call once per SKU; a SKU the channel does not list is returned, not raised: not every
    SKU is sold on every channel."""
    unlisted = []
    for update in updates:
        try:
            await call(update)
        except BusinessError as exc:
            if exc.code is not ExceptionCode.UNKNOWN_SKU:
                raise
            unlisted.append(update.sku)
    return unlisted
