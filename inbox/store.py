"""Inbox entries: source, topic, dedupe key, headers that matter, the raw body, and what became
of it. Unique per (source, dedupe key): a redelivery finds the first entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

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


class Inbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write_lock = write_lock(engine)

    def add(
        self, source: str, topic: str, dedupe_key: str, headers: dict[str, str], body: bytes
    ) -> tuple[InboxEntry, bool]:
        """Store a delivery; (entry, True) when new, (the first entry, False) for a redelivery."""
        entry = InboxEntry(
            source=source,
            topic=topic,
            dedupe_key=dedupe_key,
            headers=json.dumps(headers, sort_keys=True),
            body=body,
        )
        with self._write_lock, Session(self._engine, expire_on_commit=False) as session:
            session.add(entry)
            try:
                session.commit()
                return entry, True
            except IntegrityError:
                session.rollback()
        existing = self.find(source, dedupe_key)
        if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
            raise RuntimeError(f"inbox conflict on {source}/{dedupe_key} without a row")
        return existing, False

    def find(self, source: str, dedupe_key: str) -> InboxEntry | None:
        with Session(self._engine, expire_on_commit=False) as session:
            statement = select(InboxEntry).where(
                InboxEntry.source == source, InboxEntry.dedupe_key == dedupe_key
            )
            return session.exec(statement).first()

    def accepted_for(self, source: str, workflow_id: str) -> InboxEntry | None:
        """An earlier delivery of `source` that already started or reached this workflow."""
        with Session(self._engine, expire_on_commit=False) as session:
            statement = select(InboxEntry).where(
                InboxEntry.source == source,
                InboxEntry.workflow_id == workflow_id,
                InboxEntry.status == InboxStatus.ACCEPTED,
            )
            return session.exec(statement.limit(1)).first()

    def get(self, entry_id: int) -> InboxEntry | None:
        with Session(self._engine, expire_on_commit=False) as session:
            return session.get(InboxEntry, entry_id)

    def record(
        self,
        entry_id: int,
        status: InboxStatus,
        *,
        error: str | None = None,
        workflow_id: str | None = None,
    ) -> None:
        with self._write_lock, Session(self._engine) as session:
            entry = session.get(InboxEntry, entry_id)
            if entry is None:
                raise KeyError(entry_id)
            entry.status = status
            entry.error = error
            entry.workflow_id = workflow_id or entry.workflow_id
            entry.attempts += 1
            entry.updated_at = _now()
            session.add(entry)
            session.commit()

    def latest(
        self, status: InboxStatus | None = None, source: str | None = None, limit: int = 50
    ) -> list[InboxEntry]:
        with Session(self._engine, expire_on_commit=False) as session:
            statement = select(InboxEntry).order_by(col(InboxEntry.id).desc()).limit(limit)
            if status:
                statement = statement.where(InboxEntry.status == status)
            if source:
                statement = statement.where(InboxEntry.source == source)
            return list(session.exec(statement).all())

    def deferred(self, limit: int = 100) -> list[InboxEntry]:
        """Oldest first: what the background re-drive picks up."""
        with Session(self._engine, expire_on_commit=False) as session:
            statement = (
                select(InboxEntry)
                .where(InboxEntry.status == InboxStatus.DEFERRED)
                .order_by(col(InboxEntry.id))
                .limit(limit)
            )
            return list(session.exec(statement).all())
