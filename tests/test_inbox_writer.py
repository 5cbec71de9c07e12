"""The inbox on SQLite and PostgreSQL: deliveries stored once, outcomes recorded, and the
group-commit writer that the webhooks service answers through."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from inbox.database import engine_for
from inbox.store import Inbox, InboxStatus, new_entry
from inbox.writer import InboxWriter
from infra.keyring import Keyring, new_key_line
from testing.eventually import eventually

KEYRING = Keyring.parse(new_key_line("test"), "test")


def _delivery(key: str, workflow: str = "order:shopify:1") -> tuple[str, str, str, dict, bytes]:
    return "shopify", "orders/create", key, {"webhook-id": key}, f'{{"id": "{workflow}"}}'.encode()


def test_a_redelivery_finds_the_first_entry(database_url: str) -> None:
    inbox = Inbox(engine_for(database_url), KEYRING)
    first, new = inbox.add(*_delivery("w-1"))
    again, new_again = inbox.add(*_delivery("w-1"))
    assert new and not new_again
    assert again.id == first.id and again.header_map() == {"webhook-id": "w-1"}
    inbox.record(first.id, InboxStatus.ACCEPTED, workflow_id="order:shopify:1")  # type: ignore[arg-type]
    inbox.record(first.id, InboxStatus.ACCEPTED)  # type: ignore[arg-type]
    stored = inbox.get(first.id)  # type: ignore[arg-type]
    assert stored is not None
    assert (stored.status, stored.workflow_id, stored.attempts) == (
        InboxStatus.ACCEPTED,
        "order:shopify:1",  # kept when a later outcome names none
        2,
    )
    assert inbox.accepted_for("shopify", "order:shopify:1") is not None
    assert inbox.accepted_for("amazon", "order:shopify:1") is None
    with pytest.raises(KeyError):
        inbox.record(10_000, InboxStatus.FAILED)


async def test_writer_batches_and_answers_each_caller(database_url: str) -> None:
    inbox = Inbox(engine_for(database_url), KEYRING)
    writer = InboxWriter(inbox)
    try:
        stored = await asyncio.gather(
            *(writer.add(new_entry(*_delivery(f"w-{n % 50}"))) for n in range(100))
        )
        new_ids = {entry.id for entry, new, _ in stored if new}
        assert len(new_ids) == 50  # each key stored once, the repeats told so
        assert all(entry.id in new_ids for entry, _, _ in stored)
        first = stored[0][0]
        assert first.id is not None
        await writer.record(first.id, InboxStatus.ACCEPTED, workflow_id="order:shopify:1")
        _, new, earlier = await writer.add(
            new_entry(*_delivery("another-webhook-id")), earlier_for="order:shopify:1"
        )
        assert new and earlier is not None and earlier.id == first.id
    finally:
        writer.close()
    assert len(inbox.latest(limit=500)) == 51


async def test_a_failing_statement_fails_alone(database_url: str) -> None:
    inbox = Inbox(engine_for(database_url), KEYRING)
    writer = InboxWriter(inbox)
    try:
        kept = new_entry(*_delivery("kept"))
        results = await asyncio.gather(
            writer.add(kept),
            writer.record(10_000, InboxStatus.ACCEPTED),  # no such entry
            writer.add(new_entry(*_delivery("kept too"))),
            return_exceptions=True,
        )
    finally:
        writer.close()
    assert isinstance(results[1], KeyError)
    assert {e.dedupe_key for e in inbox.latest()} == {"kept", "kept too"}


async def test_sqlite_log_is_checkpointed_by_the_writer(tmp_path: Path) -> None:
    """The writer's commits never checkpoint (that stalled every waiting answer); its checkpoint
    thread copies the write-ahead log into the database file soon after. SQLite's own
    checkpoints would have copied only up to the last 1,000 pages, none at all would leave the
    database file empty."""
    database = tmp_path / "inbox.db"
    writer = InboxWriter(Inbox(engine_for(f"sqlite:///{database}"), KEYRING))
    try:
        for n in range(300):
            await writer.add(new_entry("shopify", "orders/create", str(n), {}, b"x" * 4096))

        copies = iter(range(1_000_000))

        def in_the_file_alone() -> int:
            """Entries the database file holds without its log (a fresh copy each time)."""
            copied = shutil.copy(database, tmp_path / f"file-only-{next(copies)}.db")
            with contextlib.closing(sqlite3.connect(copied)) as copy:
                try:
                    count: int = copy.execute("SELECT count(*) FROM inbox").fetchone()[0]
                except sqlite3.OperationalError:  # not even the table checkpointed yet
                    return 0
            return count

        await eventually(in_the_file_alone, lambda n: n == 300, timeout=10, what="checkpointed")
    finally:
        writer.close()
