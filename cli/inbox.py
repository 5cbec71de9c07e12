"""`starter.py inbox list|replay|purge|erase`: see every stored delivery, re-drive any of them,
empty those past retention or those naming a customer who asked to be forgotten."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime, timedelta

from rich.table import Table

from adapters.payload import PayloadError
from adapters.registry import build_adapters
from bootstrap.ingestion import build_dispatcher
from canonical.correction import OrderCorrection
from cli.output import console, print_json, whole_column
from inbox.store import Inbox, InboxEntry, InboxStatus
from infra.settings import Settings
from ingest.corrections import corrected_body
from ingest.temporal_link import TemporalLink


class InboxError(Exception):
    """A problem to tell the user in one sentence."""


def _inbox(settings: Settings) -> Inbox:
    return Inbox.of(settings)


def list_entries(
    settings: Settings,
    status: InboxStatus | None,
    source: str | None,
    limit: int,
    as_json: bool,
) -> None:
    entries = _inbox(settings).latest(status, source, limit)
    if as_json:
        print_json([_summary(entry) for entry in entries])
        return
    table = Table(title="Inbox", expand=True)
    whole_column(table, "Id", (str(entry.id) for entry in entries))
    for column in ("Source", "Topic", "Received (UTC)"):
        table.add_column(column, overflow="fold")
    whole_column(table, "Status", (entry.status.value for entry in entries))
    whole_column(table, "Workflow", (entry.workflow_id or "" for entry in entries))
    table.add_column("Error", overflow="fold")
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


def _summary(entry: InboxEntry) -> dict[str, object]:
    """An entry without its body and headers (customer data)."""
    return {
        "id": entry.id,
        "source": entry.source,
        "topic": entry.topic,
        "received_at": entry.received_at.isoformat(),
        "status": entry.status.value,
        "workflow_id": entry.workflow_id,
        "error": entry.error,
        "attempts": entry.attempts,
        "emptied": entry.emptied_at is not None,
    }


REPLAYABLE = (*(s for s in InboxStatus if s.redrivable), InboxStatus.REJECTED)


def _entry(inbox: Inbox, entry_id: int) -> InboxEntry:
    entry = inbox.get(entry_id)
    if entry is None:
        raise InboxError(f"No inbox entry {entry_id}.")
    return entry


def _actionable(inbox: Inbox, entry_id: int, allowed: tuple[InboxStatus, ...]) -> InboxEntry:
    """The entry, if it may be acted on again (its status is `allowed`, its body kept)."""
    entry = _entry(inbox, entry_id)
    if entry.status not in allowed:
        target = f" (→ {entry.workflow_id})" if entry.workflow_id else ""
        raise InboxError(f"Inbox {entry_id} was {entry.status.value}{target}; nothing to redo.")
    if entry.emptied_at is not None:
        raise InboxError(f"Inbox {entry_id}'s body was emptied on {entry.emptied_at:%Y-%m-%d}.")
    return entry


async def replay(settings: Settings, entry_id: int) -> None:
    """Act on a delivery again: one that failed, waited or was rejected (a fixed setting may
    admit it now). What was accepted, ignored or refused stays as it is."""
    inbox = _inbox(settings)
    await _act(settings, inbox, _actionable(inbox, entry_id, REPLAYABLE))


CORRECTABLE = (InboxStatus.REJECTED, InboxStatus.FAILED)


async def fix(settings: Settings, entry_id: int, correction: OrderCorrection, note: str) -> None:
    """Correct a rejected or failed order delivery and admit it; the correction (what, who,
    why, the body before) stays in the entry's history (`inbox show`)."""
    inbox = _inbox(settings)
    entry = _actionable(inbox, entry_id, CORRECTABLE)
    try:
        body = corrected_body(entry, correction)
    except PayloadError as exc:
        raise InboxError(f"Inbox {entry_id} not corrected: {exc}.") from None
    inbox.correct(entry, body, correction.summary(), note, _operator())
    await _act(settings, inbox, _entry(inbox, entry_id))


def _operator() -> str:
    """Who ran the command, for the entry's history."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container's user without a passwd entry
        return f"uid {os.getuid()}"


async def _act(settings: Settings, inbox: Inbox, entry: InboxEntry) -> None:
    """Dispatch the entry as a delivery is; its outcome said (exit 1 unless it went in)."""
    adapters = build_adapters(settings)
    try:
        dispatcher = build_dispatcher(settings, inbox, TemporalLink(settings), adapters)
        outcome = await dispatcher.dispatch(entry)
        await dispatcher.drain()
    finally:
        await adapters.aclose()
    detail = f": {outcome.detail}" if outcome.detail else ""
    target = f" → {outcome.workflow_id}" if outcome.workflow_id else ""
    said = (
        f"inbox {entry.id} ({entry.source} {entry.topic}): {outcome.status.value}{target}{detail}"
    )
    if outcome.status not in (InboxStatus.ACCEPTED, InboxStatus.IGNORED):
        raise InboxError(said)
    console.print(said)


def show(settings: Settings, entry_id: int, as_json: bool) -> None:
    """One entry and its history of corrections (no bodies: customer data)."""
    inbox = _inbox(settings)
    entry = _entry(inbox, entry_id)
    history = [
        {"at": c.at.isoformat(), "by": c.by, "summary": c.summary, "note": c.note}
        for c in inbox.corrections(entry)
    ]
    if as_json:
        print_json({**_summary(entry), "corrections": history})
        return
    for label, value in _summary(entry).items():
        console.print(f"{label}: {'' if value is None else value}")
    for change in history:
        note = f" ({change['note']})" if change["note"] else ""
        console.print(f"corrected {change['at'][:19]} by {change['by']}: {change['summary']}{note}")


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
