"""`starter.py inbox list|replay|purge|erase`: see every stored delivery, re-drive any of them,
empty those past retention or those naming a customer who asked to be forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from adapters.registry import build_adapters
from bootstrap.ingestion import build_dispatcher
from inbox.store import Inbox, InboxStatus
from infra.settings import Settings
from ingest.temporal_link import TemporalLink

console = Console()


class InboxError(Exception):
    """A problem to tell the user in one sentence."""


def _inbox(settings: Settings) -> Inbox:
    return Inbox.of(settings)


def list_entries(settings: Settings, status: str | None, source: str | None, limit: int) -> None:
    try:
        wanted = InboxStatus(status.lower()) if status else None
    except ValueError:
        choices = ", ".join(s.value for s in InboxStatus)
        raise InboxError(f"unknown status '{status}'; one of {choices}") from None
    table = Table(title="Inbox", expand=True)
    for column in ("Id", "Source", "Topic", "Received (UTC)", "Status", "Workflow", "Error"):
        table.add_column(column, overflow="fold")
    entries = _inbox(settings).latest(wanted, source, limit)
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.source,
            entry.topic,
            entry.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.status.value,
            entry.workflow_id or "",
            entry.error or "",
        )
    console.print(table)
    console.print(f"{len(entries)} deliver{'y' if len(entries) == 1 else 'ies'}.")


async def replay(settings: Settings, entry_id: int) -> None:
    inbox = _inbox(settings)
    entry = inbox.get(entry_id)
    if entry is None:
        raise InboxError(f"No inbox entry {entry_id}.")
    adapters = build_adapters(settings)
    try:
        dispatcher = build_dispatcher(settings, inbox, TemporalLink(settings), adapters)
        outcome = await dispatcher.dispatch(entry)
        await dispatcher.drain()
    finally:
        await adapters.aclose()
    detail = f": {outcome.detail}" if outcome.detail else ""
    target = f" → {outcome.workflow_id}" if outcome.workflow_id else ""
    console.print(
        f"inbox {entry_id} ({entry.source} {entry.topic}): {outcome.status.value}{target}{detail}"
    )


def purge(settings: Settings, older_than_days: float | None) -> None:
    days = settings.inbox_retention_days if older_than_days is None else older_than_days
    if days < 0:
        raise InboxError("--older-than-days must be 0 or more.")
    cutoff = datetime.now(UTC) - timedelta(days=days)
    emptied = _inbox(settings).purge(cutoff)
    console.print(
        f"Emptied {emptied} settled deliver{'y' if emptied == 1 else 'ies'} received before "
        f"{cutoff:%Y-%m-%d %H:%M} UTC; their outcome and hash are kept."
    )


def erase(settings: Settings, email: str) -> None:
    if "@" not in email.strip(" @"):
        raise InboxError(f"'{email}' is not an e-mail address.")
    emptied = _inbox(settings).erase(email)
    ids = ", ".join(map(str, emptied)) or "none"
    console.print(
        f"Emptied {len(emptied)} deliver{'y' if len(emptied) == 1 else 'ies'} naming {email} "
        f"(ids: {ids}); their outcome and hash are kept."
    )
