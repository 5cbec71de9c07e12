"""The channels paying out on their own, as the demo needs: every `every_seconds` (off until
set) Amazon closes a settlement period, Shopify Payments pays out and Walmart closes a
reconciliation period — each only when it has something to report — so an order is paid
seconds after it shipped instead of a fortnight."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field


class PayoutAutopilotSettings(BaseModel):
    every_seconds: float | None = Field(None, gt=0, description="None: only when asked")


class PayoutAutopilot:
    def __init__(self, channels: dict[str, tuple[Callable[[], bool], Callable[[], Any]]]) -> None:
        """channels: name -> (whether it has something to pay out, pay it out)."""
        self.channels = channels
        self.settings = PayoutAutopilotSettings()
        self.closed: dict[str, int] = dict.fromkeys(channels, 0)  # periods closed by the pilot
        self._task: asyncio.Task[None] | None = None

    def set(self, settings: PayoutAutopilotSettings) -> None:
        self.settings = settings
        if settings.every_seconds is not None and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while (every := self.settings.every_seconds) is not None:
            await asyncio.sleep(every)
            for name, (pending, pay_out) in self.channels.items():
                if pending():
                    pay_out()
                    self.closed[name] += 1
        self._task = None

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def control_router(pilot: PayoutAutopilot) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/payouts", tags=["sandbox control"])

    @api.put("/autopilot")
    async def autopilot(settings: PayoutAutopilotSettings) -> PayoutAutopilotSettings:
        """Pay out every `every_seconds` what each channel owes (null: stop)."""
        pilot.set(settings)
        return pilot.settings

    @api.get("/autopilot")
    async def closed() -> dict[str, Any]:
        return {"settings": pilot.settings, "closed": pilot.closed}

    return api
