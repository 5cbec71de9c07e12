"""The ingest service: every delivery, pushed (webhooks) or polled (Walmart, Amazon reports),
is stored raw, parsed once, acted on by its (source, topic) handler, and what came of it is
written back to the entry. The background re-drive and `starter.py inbox replay` take the same
path."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from opentelemetry import trace

from canonical.order import order_key_of_workflow
from inbox.outcome import Answer, Outcome
from inbox.store import InboxEntry, InboxStatus, new_entry
from inbox.writer import InboxWriter
from infra.temporal import TemporalUnavailable, observed_calls
from infra.tracing import ORDER_KEY
from ingest.metrics import ACK_SECONDS, DELIVERIES

log = logging.getLogger("ingest")
P = TypeVar("P")


def keyed(raw: bytes, extract: Callable[[Any], tuple[str, str]]) -> tuple[str, str]:
    """(topic, dedupe key) read from a JSON body, or a content hash for a body without them
    (kept all the same, and rejected with its reason)."""
    try:
        return extract(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        return "", f"malformed:{hashlib.sha256(raw).hexdigest()}"


class SourceHandler(Protocol):
    async def handle(self, entry: InboxEntry) -> Outcome: ...


@dataclass(frozen=True)
class Checked(Generic[P]):
    """A delivery parsed without I/O, ready to act on: the workflow it goes to, and `parsed`,
    so acting on it never parses the body again."""

    workflow_id: str
    parsed: P
    # An earlier delivery that already reached the workflow makes this one a duplicate
    # (Shopify sends an order's `orders/create` again under a new webhook id).
    once_per_workflow: bool = False


@runtime_checkable
class FastSourceHandler(SourceHandler, Protocol[P]):
    """A source whose deliveries can be checked without I/O: answered as soon as they are
    stored, acted on right after. `handle` (replay, re-drive) is `precheck` then `act`."""

    def precheck(self, entry: InboxEntry) -> Outcome | Checked[P]:
        """A final outcome (rejected, ignored), or the parsed delivery to act on."""
        ...

    async def act(self, checked: Checked[P]) -> Outcome: ...


ANY_TOPIC = "*"


class Dispatcher:
    """The ingest service. `handlers` are keyed by (source, topic); topic `*` takes every
    topic of its source that has no handler of its own."""

    def __init__(self, writer: InboxWriter, handlers: dict[tuple[str, str], SourceHandler]) -> None:
        self.writer = writer
        self._handlers = handlers
        self._background: dict[int, asyncio.Task[Outcome]] = {}  # inbox id -> being acted on
        # Set when a Temporal call found it unreachable; cleared only by one that went through
        # (a handler that returned without reaching Temporal proves nothing).
        self.temporal_down = False

    async def receive(
        self, source: str, topic: str, dedupe_key: str, headers: dict[str, str], raw: bytes
    ) -> Answer:
        """Store an authenticated delivery, answer a redelivery with the first one's result,
        act on the rest. A source that can check a delivery on its own is answered as soon as
        it is stored, and acted on in the background (its outcome is kept on the entry)."""
        started = time.perf_counter()
        answer = await self._receive(source, topic, dedupe_key, headers, raw)
        ACK_SECONDS.labels(source).observe(time.perf_counter() - started)
        outcome = str(answer.body.get("status") or answer.http_status)
        DELIVERIES.labels(source, topic, outcome).inc()
        workflow_id = answer.body.get("workflow_id")
        key = order_key_of_workflow(workflow_id) if isinstance(workflow_id, str) else None
        if key:  # the request's span (when traced) names the order it brought
            trace.get_current_span().set_attribute(ORDER_KEY, key)
        return answer

    async def _receive(
        self, source: str, topic: str, dedupe_key: str, headers: dict[str, str], raw: bytes
    ) -> Answer:
        entry = new_entry(source, topic, dedupe_key, headers, raw)
        handler = self._handler(source, topic)
        fast = handler if isinstance(handler, FastSourceHandler) else None
        early: Outcome | Checked[Any] | None = None
        try:
            early = fast.precheck(entry) if fast is not None else None
        except Exception as exc:  # a bug in a check: the delivery is kept all the same
            log.exception("checking a %s delivery failed", source)
            early = Outcome(InboxStatus.FAILED, 500, detail=f"{type(exc).__name__}: {exc}")
        once = isinstance(early, Checked) and early.once_per_workflow
        earlier_for = early.workflow_id if isinstance(early, Checked) and once else None
        entry, new, earlier = await self.writer.add(entry, earlier_for)
        assert entry.id is not None
        if not new and (not entry.status.redrivable or entry.id in self._background):
            # While the first is still being acted on, its workflow is the one the check named.
            checked_for = early.workflow_id if isinstance(early, Checked) else None
            workflow_id = entry.workflow_id or checked_for
            body = {"status": "duplicate", "inbox_id": entry.id, "workflow_id": workflow_id}
            return Answer(200, body)
        if early is None:
            outcome = await self.dispatch(entry)
            return Answer(outcome.http_status, outcome.body(entry.id))
        if isinstance(early, Checked) and earlier is not None:
            early = Outcome(InboxStatus.ACCEPTED, 200, early.workflow_id, "order already processed")
        if isinstance(early, Outcome):
            await self._record(entry.id, early)
            return Answer(early.http_status, early.body(entry.id))
        if self.temporal_down:
            deferred = Outcome(InboxStatus.DEFERRED, 503, early.workflow_id, "Temporal unavailable")
            await self._record(entry.id, deferred)
            return Answer(503, deferred.body(entry.id))
        assert fast is not None
        entry_id, checked = entry.id, early
        task = asyncio.create_task(self._act(entry_id, lambda: fast.act(checked)))
        self._background[entry_id] = task
        task.add_done_callback(lambda _: self._background.pop(entry_id, None))
        body = {"status": "accepted", "inbox_id": entry.id, "workflow_id": early.workflow_id}
        return Answer(202, body)

    async def take(
        self, source: str, topic: str, dedupe_key: str, raw: bytes
    ) -> tuple[InboxEntry, bool]:
        """A polled delivery (a Walmart PO, a returns report's rows), acted on before this
        returns: the entry as recorded, and whether it was acted on now (False: done before,
        or kept as rejected)."""
        entry, new, _ = await self.writer.add(new_entry(source, topic, dedupe_key, {}, raw))
        assert entry.id is not None
        if not new and not entry.status.redrivable:
            return entry, False
        await self.dispatch(entry)
        done = await asyncio.to_thread(self.writer.inbox.get, entry.id)
        assert done is not None
        return done, True

    def _handler(self, source: str, topic: str) -> SourceHandler | None:
        return self._handlers.get((source, topic)) or self._handlers.get((source, ANY_TOPIC))

    async def drain(self) -> None:
        """Let deliveries being acted on in the background finish, then stop the inbox writer
        (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background.values(), return_exceptions=True)
        await asyncio.to_thread(self.writer.close)

    async def _record(self, entry_id: int, outcome: Outcome) -> None:
        error = outcome.detail if outcome.status is not InboxStatus.ACCEPTED else None
        await self.writer.record(
            entry_id, outcome.status, error=error, workflow_id=outcome.workflow_id
        )

    async def dispatch(self, entry: InboxEntry) -> Outcome:
        """Act on a stored entry (a live delivery, a re-drive, `inbox replay`)."""
        assert entry.id is not None
        handler = self._handler(entry.source, entry.topic)
        if handler is None:
            return await self._act(entry.id, lambda: _no_handler(entry))
        return await self._act(entry.id, lambda: handler.handle(entry))

    async def _act(self, entry_id: int, act: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """Run a handler's action; whatever comes of it is recorded on the entry."""
        try:
            with observed_calls() as calls:
                outcome = await act()
            if calls.succeeded:
                self.temporal_down = False
        except TemporalUnavailable as exc:
            self.temporal_down = True
            outcome = Outcome(InboxStatus.DEFERRED, 503, detail=f"Temporal unavailable: {exc}")
        except Exception as exc:  # kept for replay, never lost
            log.exception("inbox entry %s failed", entry_id)
            outcome = Outcome(InboxStatus.FAILED, 500, detail=f"{type(exc).__name__}: {exc}")
        await self._record(entry_id, outcome)
        return outcome

    async def redrive_deferred(self) -> int:
        """Dispatch deferred entries oldest first; stop at the first that Temporal defers."""
        done = 0
        for entry in await asyncio.to_thread(self.writer.inbox.deferred):
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


async def _no_handler(entry: InboxEntry) -> Outcome:
    raise LookupError(f"no handler for {entry.source} {entry.topic!r}")
