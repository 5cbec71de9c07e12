"""The dispatcher's answer path, without Temporal: what is stored and answered when a source's
own check fails in an unexpected way."""

from __future__ import annotations

from pathlib import Path

from inbox.database import engine_for
from inbox.outcome import Outcome
from inbox.store import Inbox, InboxEntry, InboxStatus
from inbox.writer import InboxWriter
from ingest.dispatcher import ANY_TOPIC, Checked, Dispatcher


class BrokenCheck:
    """A source whose check has a bug."""

    def precheck(self, entry: InboxEntry) -> Outcome | Checked[None]:
        raise ZeroDivisionError("a bug")

    async def act(self, checked: Checked[None]) -> Outcome:
        raise AssertionError("never acted on")

    async def handle(self, entry: InboxEntry) -> Outcome:
        raise AssertionError("never acted on")


async def test_a_check_that_crashes_keeps_the_delivery(tmp_path: Path) -> None:
    inbox = Inbox(engine_for(f"sqlite:///{tmp_path / 'inbox.db'}"))
    dispatcher = Dispatcher(InboxWriter(inbox), {("shop", ANY_TOPIC): BrokenCheck()})
    try:
        answer = await dispatcher.receive("shop", "orders/create", "d-1", {}, b'{"id": 1}')
    finally:
        await dispatcher.drain()
    assert answer.http_status == 500
    assert answer.body["detail"] == "ZeroDivisionError: a bug"
    (kept,) = inbox.latest()
    assert (kept.status, kept.body, kept.error) == (
        InboxStatus.FAILED,
        b'{"id": 1}',
        "ZeroDivisionError: a bug",
    )
