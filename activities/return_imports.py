"""Returns a channel reports by being polled (Walmart's return orders, Amazon's returns
report): each kept in the inbox, then started once. One whose order we do not know yet is kept
as failed and tried again by the next poll; one we cannot read is kept as rejected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio.client import Client

from adapters.payload import PayloadError
from canonical.returns import ReturnRequest
from inbox.store import Inbox, InboxStatus
from infra.returns_client import UnknownOrder, start_return
from infra.settings import Settings


class ReturnImport:
    def __init__(self, inbox: Inbox, client: Client, settings: Settings, source: str) -> None:
        self._inbox = inbox
        self._client = client
        self._settings = settings
        self._source = source

    async def start(
        self, key: str, body: bytes, requests: Callable[[], list[ReturnRequest]]
    ) -> list[str]:
        """The workflow ids started for this report of a return (none when done before)."""
        entry, _ = await asyncio.to_thread(
            self._inbox.add, self._source, "return", f"return-{key}", {}, body
        )
        assert entry.id is not None
        if entry.status in (InboxStatus.ACCEPTED, InboxStatus.REJECTED):
            return []  # started before, or kept for support
        try:
            handles = [
                await start_return(self._client, self._settings, request) for request in requests()
            ]
        except (PayloadError, UnknownOrder) as exc:
            bad = isinstance(exc, PayloadError)
            status = InboxStatus.REJECTED if bad else InboxStatus.FAILED
            await asyncio.to_thread(self._inbox.record, entry.id, status, error=str(exc))
            return []
        await asyncio.to_thread(
            self._inbox.record, entry.id, InboxStatus.ACCEPTED, workflow_id=handles[0].id
        )
        return [handle.id for handle in handles]
