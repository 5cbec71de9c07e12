"""Group commit for the webhooks service: one thread runs every inbox statement of the process,
and the statements queued while a transaction was committing share the next one. A burst of
deliveries then costs one commit per batch instead of one per delivery, and no request waits
behind another's lock (with the GIL, a lock convoy of pool threads made the slowest answers).

On SQLite a second thread copies the write-ahead log back into the database twice a second.
Left to SQLite, the commit that takes the log past 1,000 pages does it, and at 100 deliveries/s
that was a 10-30 ms stall of every waiting answer about every 0.7 s."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from inbox.store import Inbox, InboxEntry, InboxStatus

T = TypeVar("T")
MAX_BATCH = 256
CHECKPOINT_SECONDS = 0.5
NO_AUTOCHECKPOINT = "inbox_writer_checkpoints"  # marks a connection that leaves them to us
log = logging.getLogger("inbox.writer")


class _Job:
    __slots__ = ("future", "loop", "run")

    def __init__(self, run: Callable[[Connection], Any], loop: asyncio.AbstractEventLoop) -> None:
        self.run = run
        self.loop = loop
        self.future: asyncio.Future[Any] = loop.create_future()


class InboxWriter:
    """The inbox's `add` and `record`, awaited from the event loop. A statement
    that fails alone fails alone: its batch is rolled back and run again one job at a time."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._sqlite = inbox.engine.dialect.name == "sqlite"
        self._stop_checkpoints = threading.Event()
        self._checkpoints: threading.Thread | None = None

    async def add(
        self, entry: InboxEntry, earlier_for: str | None = None
    ) -> tuple[InboxEntry, bool, InboxEntry | None]:
        """`Inbox.add`, and in the same statement batch an earlier delivery that already reached
        workflow `earlier_for` (one round trip on the answer's path)."""

        def run(connection: Connection) -> tuple[InboxEntry, bool, InboxEntry | None]:
            stored, new = self.inbox.add_on(connection, entry)
            earlier = (
                self.inbox.accepted_for_on(connection, entry.source, earlier_for)
                if earlier_for
                else None
            )
            return stored, new, earlier

        return await self._submit(run)

    async def record(self, entry_id: int, status: InboxStatus, **outcome: str | None) -> None:
        """`Inbox.record`: `outcome` is its `error` and `workflow_id`."""
        await self._submit(lambda c: self.inbox.record_on(c, entry_id, status, **outcome))

    def close(self) -> None:
        """Finish what is queued and stop the thread."""
        with self._start_lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join()
                self._thread = None
            if self._checkpoints is not None:
                self._stop_checkpoints.set()
                self._checkpoints.join()
                self._checkpoints = None

    async def _submit(self, run: Callable[[Connection], T]) -> T:
        job = _Job(run, asyncio.get_running_loop())
        self._ensure_thread()
        self._jobs.put(job)
        result: T = await job.future
        return result

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="inbox-writer", daemon=True
                    )
                    self._thread.start()
                    if self._sqlite:
                        self._stop_checkpoints.clear()
                        self._checkpoints = threading.Thread(
                            target=self._checkpoint, name="inbox-checkpoint", daemon=True
                        )
                        self._checkpoints.start()

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._jobs.put(None)  # stop once this batch is done
                    break
                batch.append(job)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        results: list[_Done]
        try:
            with self.inbox.write_lock, self.inbox.engine.begin() as connection:
                if self._sqlite and not connection.info.get(NO_AUTOCHECKPOINT):
                    connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                    connection.info[NO_AUTOCHECKPOINT] = True
                results = [(job, job.run(connection), None) for job in batch]
        except Exception as exc:
            if len(batch) > 1:
                for job in batch:
                    self._commit([job])
                return
            results = [(batch[0], None, exc)]
        _resolve(results)

    def _checkpoint(self) -> None:
        """PASSIVE: copies what no reader still needs, and never holds up the writer."""
        with self.inbox.engine.connect() as connection:
            while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
                try:  # read to the end: a statement left open would pin the log as a reader
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception:  # a busy or vanished database: the next round retries
                    log.warning("inbox checkpoint failed", exc_info=True)
                connection.rollback()


_Done = tuple[_Job, Any, BaseException | None]  # the job, its result, or what it raised


def _resolve(results: list[_Done]) -> None:
    """One wake-up per event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Done]] = {}
    for item in results:
        by_loop.setdefault(item[0].loop, []).append(item)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # its loop closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[_Done]) -> None:
    for job, result, error in items:
        if job.future.cancelled():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)
