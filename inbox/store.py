"""Inbox entries: source, topic, dedupe key, headers that matter, the raw body, and what became
of it. Unique per (source, dedupe key): a redelivery finds the first entry.

Raw bodies hold customers' names, e-mails and addresses: they are stored sealed with the
payload keys (AES-256-GCM, bound to the entry's source and dedupe key), with the SHA-256 of
the plain body beside them. A purge (retention) or an erasure (a customer's request) empties
an entry's body and headers and keeps what became of it and the hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    LargeBinary,
    UniqueConstraint,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from inbox.database import engine_for
from infra.database import write_lock
from infra.keyring import Keyring
from infra.settings import Settings


class InboxStatus(StrEnum):
    RECEIVED = "received"  # stored, not yet acted on
    ACCEPTED = "accepted"  # a workflow was started, signalled or updated
    REJECTED = "rejected"  # malformed or failed the channel schema
    REFUSED = "refused"  # understood, but the order refused it (e.g. cancel after shipment)
    DEFERRED = "deferred"  # Temporal unreachable: re-driven in the background
    FAILED = "failed"  # unexpected error, or nothing to route it to: replay by hand
    IGNORED = "ignored"  # a topic we keep but do not act on

    @property
    def redrivable(self) -> bool:
        return self in (InboxStatus.RECEIVED, InboxStatus.DEFERRED, InboxStatus.FAILED)


# What a purge may empty: entries whose outcome is final (a failed one may still be replayed).
SETTLED = (InboxStatus.ACCEPTED, InboxStatus.REJECTED, InboxStatus.REFUSED, InboxStatus.IGNORED)


def _now() -> datetime:
    return datetime.now(UTC)


class InboxEntry(SQLModel, table=True):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "dedupe_key", name="uq_inbox_source_dedupe"),
        # `accepted_for` on every order delivery: without it SQLite walks the status index,
        # i.e. every accepted entry, and the answer slows down as the inbox grows.
        Index("ix_inbox_workflow_source_status", "workflow_id", "source", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    topic: str
    dedupe_key: str
    received_at: datetime = Field(default_factory=_now)
    headers: str = "{}"
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: InboxStatus = Field(default=InboxStatus.RECEIVED, index=True)
    error: str | None = None
    workflow_id: str | None = Field(default=None, index=True)
    attempts: int = 0
    updated_at: datetime = Field(default_factory=_now)
    body_key: str | None = None  # the key that sealed the body; None: stored plain, or emptied
    body_sha256: str | None = None  # of the plain body, kept when the body is emptied
    emptied_at: datetime | None = None  # purged or erased

    def header_map(self) -> dict[str, str]:
        result: dict[str, str] = json.loads(self.headers)
        return result


class InboxCorrection(SQLModel, table=True):
    """One correction support made to an entry's body (`starter.py inbox fix`): what changed
    (no customer data), by whom and why, and the body as it was before (sealed; emptied with
    the entry)."""

    __tablename__ = "inbox_correction"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(index=True)
    at: datetime = Field(default_factory=_now)
    by: str
    summary: str
    note: str = ""
    body_before: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    body_key: str | None = None


class Heartbeat(SQLModel, table=True):
    """One row per service: written by its readiness probe, proving the database takes writes."""

    __tablename__ = "service_heartbeat"

    service: str = Field(primary_key=True)
    at: datetime = Field(default_factory=_now)


def new_entry(
    source: str, topic: str, dedupe_key: str, headers: dict[str, str], body: bytes
) -> InboxEntry:
    """A delivery as it will be stored (its id comes with `Inbox.add`)."""
    now = _now()
    return InboxEntry(
        source=source,
        topic=topic,
        dedupe_key=dedupe_key,
        received_at=now,
        headers=json.dumps(headers, sort_keys=True),
        body=body,
        updated_at=now,
    )


TABLE = InboxEntry.__table__  # type: ignore[attr-defined]
CORRECTIONS = InboxCorrection.__table__  # type: ignore[attr-defined]
# Built once with bound parameters: each call only binds values to a compiled statement.
_BY_KEY = (
    select(TABLE)
    .where(TABLE.c.source == bindparam("source"), TABLE.c.dedupe_key == bindparam("dedupe_key"))
    .limit(1)
)
_BY_ID = select(TABLE).where(TABLE.c.id == bindparam("entry_id"))
_ACCEPTED_FOR = (
    select(TABLE)
    .where(
        TABLE.c.workflow_id == bindparam("workflow_id"),
        TABLE.c.source == bindparam("source"),
        TABLE.c.status == InboxStatus.ACCEPTED,
    )
    .limit(1)
)
_RECORD = (
    update(TABLE)
    .where(TABLE.c.id == bindparam("entry_id"))
    .values(
        status=bindparam("new_status", type_=TABLE.c.status.type),
        error=bindparam("new_error", type_=TABLE.c.error.type),
        workflow_id=func.coalesce(
            bindparam("new_workflow_id", type_=TABLE.c.workflow_id.type), TABLE.c.workflow_id
        ),
        attempts=TABLE.c.attempts + 1,
        updated_at=bindparam("now", type_=TABLE.c.updated_at.type),
    )
)


class Inbox:
    """Core statements, not the ORM: every delivery passes here, and an ORM flush costs several
    times the statement. The `*_on` forms take a connection inside a caller's transaction (the
    group-commit writer); the plain forms are one transaction each."""

    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        self.write_lock = write_lock(engine)
        dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
        self._insert = (
            dialect.insert(TABLE)
            .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
            .returning(TABLE.c.id)
        )

    @classmethod
    def of(cls, settings: Settings) -> Inbox:
        """The settings' inbox, its bodies sealed with their keys."""
        return cls(engine_for(settings.database_url), settings.keyring)

    def add(
        self, source: str, topic: str, dedupe_key: str, headers: dict[str, str], body: bytes
    ) -> tuple[InboxEntry, bool]:
        """Store a delivery; (entry, True) when new, (the first entry, False) for a redelivery."""
        with self.write_lock, self.engine.begin() as connection:
            return self.add_on(connection, new_entry(source, topic, dedupe_key, headers, body))

    def add_on(self, connection: Connection, entry: InboxEntry) -> tuple[InboxEntry, bool]:
        """The entry as given (plain) when new; the first entry (opened) for a redelivery."""
        values = entry.model_dump(exclude={"id"})
        key_id, sealed = self.keyring.seal(entry.body, _bound(entry))
        values |= {
            "body": sealed,
            "body_key": key_id,
            "body_sha256": hashlib.sha256(entry.body).hexdigest(),
        }
        inserted = connection.execute(self._insert, values).scalar()
        if inserted is not None:
            entry.id = inserted
            return entry, True
        key = {"source": entry.source, "dedupe_key": entry.dedupe_key}
        existing = self._first(connection, _BY_KEY, **key)
        if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
            raise RuntimeError(f"inbox conflict on {key} without a row")
        return existing, False

    def find(self, source: str, dedupe_key: str) -> InboxEntry | None:
        with self.engine.connect() as connection:
            return self._first(connection, _BY_KEY, source=source, dedupe_key=dedupe_key)

    def accepted_for(self, source: str, workflow_id: str) -> InboxEntry | None:
        with self.engine.connect() as connection:
            return self.accepted_for_on(connection, source, workflow_id)

    def accepted_for_on(
        self, connection: Connection, source: str, workflow_id: str
    ) -> InboxEntry | None:
        """An earlier delivery of `source` that already started or reached this workflow."""
        return self._first(connection, _ACCEPTED_FOR, source=source, workflow_id=workflow_id)

    def get(self, entry_id: int) -> InboxEntry | None:
        with self.engine.connect() as connection:
            return self._first(connection, _BY_ID, entry_id=entry_id)

    def record(
        self,
        entry_id: int,
        status: InboxStatus,
        *,
        error: str | None = None,
        workflow_id: str | None = None,
    ) -> None:
        with self.write_lock, self.engine.begin() as connection:
            self.record_on(connection, entry_id, status, error=error, workflow_id=workflow_id)

    @staticmethod
    def record_on(
        connection: Connection,
        entry_id: int,
        status: InboxStatus,
        *,
        error: str | None = None,
        workflow_id: str | None = None,
    ) -> None:
        values = {
            "entry_id": entry_id,
            "new_status": status,
            "new_error": error,
            "new_workflow_id": workflow_id,
            "now": _now(),
        }
        if connection.execute(_RECORD, values).rowcount == 0:
            raise KeyError(entry_id)

    def latest(
        self, status: InboxStatus | None = None, source: str | None = None, limit: int = 50
    ) -> list[InboxEntry]:
        statement = select(TABLE).order_by(TABLE.c.id.desc()).limit(limit)
        if status:
            statement = statement.where(TABLE.c.status == status)
        if source:
            statement = statement.where(TABLE.c.source == source)
        return self._entries(statement)

    def deferred(self, limit: int = 100) -> list[InboxEntry]:
        """Oldest first: what the background re-drive picks up."""
        statement = (
            select(TABLE)
            .where(TABLE.c.status == InboxStatus.DEFERRED)
            .order_by(TABLE.c.id)
            .limit(limit)
        )
        return self._entries(statement)

    def write_problem(self, service: str) -> str | None:
        """Why the inbox's database does not take writes now; None when it does."""
        heartbeat = Heartbeat.__table__  # type: ignore[attr-defined]
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        statement = (
            dialect.insert(heartbeat)
            .values(service=service, at=_now())
            .on_conflict_do_update(index_elements=["service"], set_={"at": _now()})
        )
        try:
            with self.write_lock, self.engine.begin() as connection:
                connection.execute(statement)
        except Exception as exc:  # any failure means "not ready"; the reason is reported
            return f"not writable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        return None

    def purge(self, received_before: datetime) -> int:
        """Empty the settled entries received before the cutoff (retention); how many."""
        return self._empty(TABLE.c.received_at < received_before, TABLE.c.status.in_(SETTLED))

    def naming(
        self, *names: str, workflow_ids: Sequence[str] = (), entry_ids: Sequence[int] = ()
    ) -> list[int]:
        """The entries not emptied whose body names any of `names` (an e-mail, a phone; case
        does not matter), that went to one of `workflow_ids`, or are among `entry_ids`. Bodies
        are sealed, so each is opened to be searched."""
        wanted = [name.strip().lower().encode() for name in names if name and name.strip()]
        statement = select(TABLE).where(TABLE.c.emptied_at.is_(None)).order_by(TABLE.c.id)
        with self.engine.connect() as connection:
            return [
                row.id
                for row in connection.execute(statement)
                if row.workflow_id in workflow_ids
                or row.id in entry_ids
                or any(name in self._opened(row._mapping).body.lower() for name in wanted)
            ]

    def erase(
        self, *names: str, workflow_ids: Sequence[str] = (), entry_ids: Sequence[int] = ()
    ) -> list[int]:
        """Empty every entry that names the customer (`naming`): their request to be
        forgotten; the ids emptied."""
        found = self.naming(*names, workflow_ids=workflow_ids, entry_ids=entry_ids)
        if found:
            self._empty(TABLE.c.id.in_(found))
        return found

    def erase_shop(self, source: str, shop: str) -> int:
        """Empty every entry a shop sent (its `shop-domain` header): the shop's request once it
        left; how many."""
        return self._empty(TABLE.c.source == source, TABLE.c.headers.contains(f'"{shop}"'))

    def correct(self, entry: InboxEntry, body: bytes, summary: str, note: str, by: str) -> None:
        """Replace the entry's body by support's corrected one, keeping the one before in the
        entry's history; the entry is `received` again, to be acted on."""
        assert entry.id is not None
        before_key, before = self.keyring.seal(entry.body, _bound(entry, "before"))
        key_id, sealed = self.keyring.seal(body, _bound(entry))
        history = {
            "entry_id": entry.id, "at": _now(), "by": by, "summary": summary, "note": note,
            "body_before": before, "body_key": before_key,
        }  # fmt: skip
        with self.write_lock, self.engine.begin() as connection:
            connection.execute(CORRECTIONS.insert().values(history))
            connection.execute(
                update(TABLE)
                .where(TABLE.c.id == entry.id)
                .values(
                    body=sealed, body_key=key_id, body_sha256=hashlib.sha256(body).hexdigest(),
                    status=InboxStatus.RECEIVED, error=None, updated_at=_now(),
                )
            )  # fmt: skip

    def corrections(self, entry: InboxEntry) -> list[InboxCorrection]:
        """The entry's history of corrections, oldest first (bodies before, as they were)."""
        statement = (
            select(CORRECTIONS).where(CORRECTIONS.c.entry_id == entry.id).order_by(CORRECTIONS.c.id)
        )
        with self.engine.connect() as connection:
            found = [InboxCorrection(**row._mapping) for row in connection.execute(statement)]
        for correction in found:
            if correction.body_key:
                correction.body_before = self.keyring.open(
                    correction.body_key, correction.body_before, _bound(entry, "before")
                )
        return found

    def _empty(self, *where: Any) -> int:
        """Empty the body and headers of the entries not emptied yet that match `where`, and
        the bodies their corrections kept; how many entries."""
        matching = select(TABLE.c.id).where(*where, TABLE.c.emptied_at.is_(None))
        with self.write_lock, self.engine.begin() as connection:
            ids = [row.id for row in connection.execute(matching)]
            if not ids:
                return 0
            connection.execute(
                update(TABLE)
                .where(TABLE.c.id.in_(ids))
                .values(body=b"", headers="{}", body_key=None, emptied_at=_now())
            )
            connection.execute(
                update(CORRECTIONS)
                .where(CORRECTIONS.c.entry_id.in_(ids))
                .values(body_before=b"", body_key=None)
            )
            return len(ids)

    def _entries(self, statement: Any) -> list[InboxEntry]:
        with self.engine.connect() as connection:
            return [self._opened(row._mapping) for row in connection.execute(statement)]

    def _first(self, connection: Connection, statement: Any, **values: Any) -> InboxEntry | None:
        row = connection.execute(statement, values).first()
        return self._opened(row._mapping) if row is not None else None

    def _opened(self, row: Any) -> InboxEntry:
        """The entry with its body as it arrived."""
        entry = InboxEntry(**row)
        if entry.body_key:
            entry.body = self.keyring.open(entry.body_key, entry.body, _bound(entry))
        return entry


def _bound(entry: InboxEntry, role: str = "") -> bytes:
    """What a sealed body is bound to: it opens only as the body of its own entry (in its
    `role`: a body before a correction is not the entry's body)."""
    bound = f"{entry.source}\x00{entry.dedupe_key}"
    return f"{bound}\x00{role}".encode() if role else bound.encode()
