"""Inbox entries: source, topic, dedupe key, headers that matter, the raw body, and what became
of it. Unique per (source, dedupe key): a redelivery finds the first entry."""

from __future__ import annotations

import json
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

from infra.database import write_lock


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

    def header_map(self) -> dict[str, str]:
        result: dict[str, str] = json.loads(self.headers)
        return result


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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_lock = write_lock(engine)
        dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
        self._insert = (
            dialect.insert(TABLE)
            .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
            .returning(TABLE.c.id)
        )

    def add(
        self, source: str, topic: str, dedupe_key: str, headers: dict[str, str], body: bytes
    ) -> tuple[InboxEntry, bool]:
        """Store a delivery; (entry, True) when new, (the first entry, False) for a redelivery."""
        with self.write_lock, self.engine.begin() as connection:
            return self.add_on(connection, new_entry(source, topic, dedupe_key, headers, body))

    def add_on(self, connection: Connection, entry: InboxEntry) -> tuple[InboxEntry, bool]:
        values = entry.model_dump(exclude={"id"})
        inserted = connection.execute(self._insert, values).scalar()
        if inserted is not None:
            entry.id = inserted
            return entry, True
        key = {"source": entry.source, "dedupe_key": entry.dedupe_key}
        existing = _first(connection, _BY_KEY, **key)
        if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
            raise RuntimeError(f"inbox conflict on {key} without a row")
        return existing, False

    def find(self, source: str, dedupe_key: str) -> InboxEntry | None:
        with self.engine.connect() as connection:
            return _first(connection, _BY_KEY, source=source, dedupe_key=dedupe_key)

    def accepted_for(self, source: str, workflow_id: str) -> InboxEntry | None:
        with self.engine.connect() as connection:
            return self.accepted_for_on(connection, source, workflow_id)

    @staticmethod
    def accepted_for_on(connection: Connection, source: str, workflow_id: str) -> InboxEntry | None:
        """An earlier delivery of `source` that already started or reached this workflow."""
        return _first(connection, _ACCEPTED_FOR, source=source, workflow_id=workflow_id)

    def get(self, entry_id: int) -> InboxEntry | None:
        with self.engine.connect() as connection:
            return _first(connection, _BY_ID, entry_id=entry_id)

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

    def _entries(self, statement: Any) -> list[InboxEntry]:
        with self.engine.connect() as connection:
            return [InboxEntry(**row._mapping) for row in connection.execute(statement)]


def _first(connection: Connection, statement: Any, **values: Any) -> InboxEntry | None:
    row = connection.execute(statement, values).first()
    return InboxEntry(**row._mapping) if row is not None else None
