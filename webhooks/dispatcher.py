"""Acts on inbox entries: the same path for a live delivery, the background re-drive and
`starter.py inbox replay`. Every outcome is written back to the entry."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from inbox.store import Inbox, InboxEntry, InboxStatus
from webhooks.outcome import Outcome, TemporalUnavailable

log = logging.getLogger("webhooks.dispatcher")


class SourceHandler(Protocol):
    async def handle(self, entry: InboxEntry) -> Outcome: ...


class Dispatcher:
    def __init__(self, inbox: Inbox, handlers: dict[str, SourceHandler]) -> None:
        self.inbox = inbox
        self._handlers = handlers

    async def receive(
        self, source: str, topic: str, dedupe_key: str, headers: dict[str, str], raw: bytes
    ) -> JSONResponse:
        """Store an authenticated delivery, answer a redelivery with the first one's result,
        act on the rest."""
        entry, new = await run_in_threadpool(
            self.inbox.add, source, topic, dedupe_key, headers, raw
        )
        if not new and not entry.status.redrivable:
            body = {"status": "duplicate", "inbox_id": entry.id, "workflow_id": entry.workflow_id}
            return JSONResponse(body, status_code=200)
        outcome = await self.dispatch(entry)
        return JSONResponse(outcome.body(entry.id), status_code=outcome.http_status)

    async def dispatch(self, entry: InboxEntry) -> Outcome:
        assert entry.id is not None
        handler = self._handlers.get(entry.source)
        try:
            if handler is None:
                raise LookupError(f"no handler for source {entry.source}")
            outcome = await handler.handle(entry)
        except TemporalUnavailable as exc:
            outcome = Outcome(InboxStatus.DEFERRED, 503, detail=f"Temporal unavailable: {exc}")
        except Exception as exc:  # kept for replay, never lost
            log.exception("inbox entry %s failed", entry.id)
            outcome = Outcome(InboxStatus.FAILED, 500, detail=f"{type(exc).__name__}: {exc}")
        error = outcome.detail if outcome.status is not InboxStatus.ACCEPTED else None
        await run_in_threadpool(
            self.inbox.record,
            entry.id,
            outcome.status,
            error=error,
            workflow_id=outcome.workflow_id,
        )
        return outcome

    async def redrive_deferred(self) -> int:
        """Dispatch deferred entries oldest first; stop at the first that Temporal defers."""
        done = 0
        for entry in await run_in_threadpool(self.inbox.deferred):
            outcome = await self.dispatch(entry)
            if outcome.status is InboxStatus.DEFERRED:
                break
            done += 1
        return done

    async def redrive_forever(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                done = await self.redrive_deferred()
                if done:
                    log.info("re-drove %d deferred deliveries", done)
            except Exception:
                log.exception("re-drive failed")
