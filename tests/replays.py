"""Replaying an inbox entry in a test: what `starter.py inbox replay ID` does (the ingest
service's dispatch of a stored entry), on the test's stack."""

from __future__ import annotations

from bootstrap.ingestion import build_dispatcher
from inbox.outcome import Outcome
from inbox.store import Inbox
from ingest.temporal_link import TemporalLink
from testing.harness import Harness


async def replay_latest(h: Harness, source: str, topic: str, key: str | None = None) -> Outcome:
    """Replay the newest entry of this kind (with this dedupe key)."""
    inbox = Inbox.of(h.settings)
    entry = next(
        e
        for e in inbox.latest(source=source, limit=500)
        if e.topic == topic and key in (None, e.dedupe_key)
    )
    dispatcher = build_dispatcher(h.settings, inbox, TemporalLink(h.settings, h.client), h.adapters)
    try:
        return await dispatcher.dispatch(entry)
    finally:
        await dispatcher.drain()
