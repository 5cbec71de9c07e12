"""A lazily connected Temporal client, so the service starts (and answers 503) while
Temporal is down instead of refusing to boot."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from infra.settings import Settings
from infra.temporal import connect, temporal_call


class TemporalLink:
    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """The connected client; `TemporalUnavailable` while Temporal cannot be reached."""
        async with self._lock:
            if self._client is None:
                with temporal_call():
                    self._client = await connect(self._settings)
            return self._client
