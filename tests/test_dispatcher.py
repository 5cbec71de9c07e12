"""The dispatcher's answer path, without Temporal: what is stored and answered when a source's
own check fails in an unexpected way, and when Temporal counts as down."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.service import RPCError, RPCStatusCode

from inbox.database import engine_for
from inbox.outcome import Outcome
from inbox.store import Inbox, InboxEntry, InboxStatus
from inbox.writer import InboxWriter
from infra.keyring import Keyring, new_key_line
from infra.temporal import temporal_call
from ingest.dispatcher import ANY_TOPIC, Checked, Dispatcher

KEYRING = Keyring.parse(new_key_line("test"), "test")


class BrokenCheck:
    """A source whose check has a bug."""

    def precheck(self, entry: InboxEntry) -> Outcome | Checked[None]:
        raise ZeroDivisionError("a bug")

    async def act(self, checked: Checked[None]) -> Outcome:
        raise AssertionError("never acted on")

    async def handle(self, entry: InboxEntry) -> Outcome:
        raise AssertionError("never acted on")


async def test_a_check_that_crashes_keeps_the_delivery(tmp_path: Path) -> None:
    inbox = Inbox(engine_for(f"sqlite:///{tmp_path / 'inbox.db'}"), KEYRING)
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


class Source:
    """A source that reaches Temporal (or not) as told: `temporal` is what its next delivery's
    handling does there: 'down', 'works', or None (it never gets that far, e.g. a partner's
    re-fetch failed)."""

    def __init__(self) -> None:
        self.temporal: str | None = None

    async def handle(self, entry: InboxEntry) -> Outcome:
        if self.temporal is not None:
            with temporal_call():
                if self.temporal == "down":
                    raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
        return Outcome(InboxStatus.ACCEPTED, 202)


async def test_only_a_temporal_call_that_went_through_ends_the_outage(tmp_path: Path) -> None:
    """The outage contract: once Temporal was found down, deliveries are answered 503 until a
    call to it succeeds; a delivery handled without reaching Temporal proves nothing."""
    inbox = Inbox(engine_for(f"sqlite:///{tmp_path / 'inbox.db'}"), KEYRING)
    source = Source()
    dispatcher = Dispatcher(InboxWriter(inbox), {("wms", ANY_TOPIC): source})
    try:
        source.temporal = "down"
        first = await dispatcher.receive("wms", "SHIP_NOTIFY", "d-1", {}, b"{}")
        assert first.http_status == 503 and dispatcher.temporal_down
        source.temporal = None  # its re-fetch from the WMS failed before Temporal
        await dispatcher.receive("wms", "SHIP_NOTIFY", "d-2", {}, b"{}")
        assert dispatcher.temporal_down
        source.temporal = "works"
        await dispatcher.receive("wms", "SHIP_NOTIFY", "d-3", {}, b"{}")
        assert not dispatcher.temporal_down
    finally:
        await dispatcher.drain()


class SlowStart:
    """A source whose workflow start takes until `started` is set."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    def precheck(self, entry: InboxEntry) -> Outcome | Checked[None]:
        return Checked("order:shopify:1042", None, once_per_workflow=True)

    async def act(self, checked: Checked[None]) -> Outcome:
        await self.started.wait()
        return Outcome(InboxStatus.ACCEPTED, 202, checked.workflow_id)

    async def handle(self, entry: InboxEntry) -> Outcome:
        raise AssertionError("acted on through precheck and act")


async def test_a_redelivery_names_the_workflow_while_the_first_is_still_starting(
    tmp_path: Path,
) -> None:
    inbox = Inbox(engine_for(f"sqlite:///{tmp_path / 'inbox.db'}"), KEYRING)
    source = SlowStart()
    dispatcher = Dispatcher(InboxWriter(inbox), {("shopify", ANY_TOPIC): source})
    try:
        first = await dispatcher.receive("shopify", "orders/create", "d-1", {}, b"{}")
        again = await dispatcher.receive("shopify", "orders/create", "d-1", {}, b"{}")
        source.started.set()
    finally:
        await dispatcher.drain()
    assert first.http_status == 202
    assert (again.http_status, again.body["status"]) == (200, "duplicate")
    assert again.body["workflow_id"] == first.body["workflow_id"] == "order:shopify:1042"
