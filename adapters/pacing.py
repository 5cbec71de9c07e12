"""Client-side pacing toward a partner with a per-second quota."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Spaces this process's requests at least 1/`per_second` apart, in the order they ask.

    A rate limit on activities is not one on requests: a step that reads before it writes
    makes two calls, and when the partner's bucket is kept empty the read takes the token
    and the write gets the 429, so the whole step is retried and does the same again.
    Pacing each request keeps the partner's quota from being the one that says no."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError(f"calls per second must be positive, not {per_second}")
        self._interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        """Return at this caller's slot (at once when the last one is long past)."""
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class UsagePlan:
    """A partner's usage plan for one operation as this process spends it: `burst` calls at
    once, then one every 1/`per_second` (Amazon's createFeed: a burst of 15, one per two
    minutes). `take` spends a call when one is left and says whether it did, so a caller can
    choose another way instead of waiting."""

    def __init__(self, burst: int, per_second: float) -> None:
        self._burst = float(burst)
        self._per_second = per_second
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def next_in(self) -> float:
        """Seconds until a call is left (0: one is)."""
        self._refill()
        return max(0.0, (1 - self._tokens) / self._per_second)

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._per_second)
        self._at = now
