"""Returns ledger activities: claim the units a return takes back, release them again."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field
from temporalio import activity

from canonical.returns import ReturnClaim
from returns.ledger import ReturnLedger


class ClaimRequest(BaseModel):
    order_key: str
    return_id: str = Field(description="The return's RMA (its workflow id): unique everywhere")
    wanted: dict[str, int]
    shipped: dict[str, int]


class ReturnLedgerActivities:
    def __init__(self, ledger: ReturnLedger) -> None:
        self._ledger = ledger

    @activity.defn
    async def claim_return(self, request: ClaimRequest) -> ReturnClaim:
        return await asyncio.to_thread(
            self._ledger.claim,
            request.order_key,
            request.return_id,
            request.wanted,
            request.shipped,
        )

    @activity.defn
    async def release_return(self, return_id: str) -> None:
        await asyncio.to_thread(self._ledger.release, return_id)
