"""Settlements as imported, line by line, in our database (SQLite or PostgreSQL): an import
records a settlement once, whatever repeats or overlaps it, and the settlement's workflow
reads its lines from here by key (a report of 10,000 lines is no workflow payload)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Table, select, update
from sqlmodel import Field, SQLModel

from canonical import Channel, Money
from canonical.settlement import (
    AmountKind,
    Settlement,
    SettlementLine,
    SettlementStatus,
    SettlementSummary,
)
from infra.database import TableStore


class SettlementRow(SQLModel, table=True):
    __tablename__ = "settlements"

    channel: str = Field(primary_key=True)
    settlement_id: str = Field(primary_key=True)
    currency: str
    total: str  # a Decimal as text: exact on SQLite too
    deposit_date: date | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    imported_at: datetime
    journal: str | None = None  # the ERP journal it was posted as
    refused: str | None = None  # why the ERP refused its journal, until it is posted


class SettlementLineRow(SQLModel, table=True):
    __tablename__ = "settlement_lines"

    channel: str = Field(primary_key=True)
    settlement_id: str = Field(primary_key=True)
    line_id: str = Field(primary_key=True)
    kind: str
    amount: str  # a Decimal as text: exact on SQLite too
    currency: str
    order_id: str | None = Field(default=None, index=True)
    refund_id: str | None = None
    description: str = ""
    sku: str | None = None
    posted_at: datetime | None = None
    reference: str | None = None
    matched_to: str | None = None  # the workflow (order or return) it was given to
    outcome: str | None = None  # set when no order could take it: why


SETTLEMENTS = SettlementRow.__table__  # type: ignore[attr-defined]
LINES = SettlementLineRow.__table__  # type: ignore[attr-defined]


class SettlementStore(TableStore):
    tables = [SETTLEMENTS, LINES]

    def record(self, settlement: Settlement) -> bool:
        """Keep the settlement and its lines; False when it was kept before (nothing changes:
        a settlement a channel reports again is the same settlement)."""
        channel = settlement.channel.value
        with self._lock, self.engine.begin() as conn:
            header = (
                self._dialect.insert(SETTLEMENTS)
                .values(
                    channel=channel, settlement_id=settlement.settlement_id,
                    currency=settlement.total.currency, total=str(settlement.total.amount),
                    deposit_date=settlement.deposit_date, period_start=settlement.period_start,
                    period_end=settlement.period_end, imported_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["channel", "settlement_id"])
                .returning(SETTLEMENTS.c.settlement_id)
            )  # fmt: skip
            if conn.execute(header).first() is None:  # kept by this or a concurrent import
                return False
            if settlement.lines:
                conn.execute(
                    LINES.insert(),
                    [
                        {
                            "channel": channel, "settlement_id": settlement.settlement_id,
                            "line_id": line.line_id, "kind": line.kind.value,
                            "amount": str(line.amount.amount), "currency": line.amount.currency,
                            "order_id": line.order_id, "refund_id": line.refund_id,
                            "description": line.description, "sku": line.sku,
                            "posted_at": line.posted_at, "reference": line.reference,
                        }
                        for line in settlement.lines
                    ],
                )  # fmt: skip
        return True

    def get(self, channel: Channel, settlement_id: str) -> Settlement | None:
        with self.engine.connect() as conn:
            head = conn.execute(
                select(SETTLEMENTS).where(
                    *_of(SETTLEMENTS, channel, settlement_id),
                )
            ).first()
            if head is None:
                return None
            rows = conn.execute(
                select(LINES)
                .where(
                    *_of(LINES, channel, settlement_id),
                )
                .order_by(LINES.c.line_id)
            ).all()
        return Settlement(
            channel=channel, settlement_id=settlement_id,
            period_start=_utc(head.period_start), period_end=_utc(head.period_end),
            deposit_date=head.deposit_date, total=_total(head),
            lines=[_line(row) for row in rows],
        )  # fmt: skip

    def summary(self, channel: Channel, settlement_id: str) -> SettlementSummary | None:
        """Read in one go: the header and, of each line, only its kind, amount and outcome."""
        with self.engine.connect() as conn:
            head = conn.execute(
                select(SETTLEMENTS).where(*_of(SETTLEMENTS, channel, settlement_id))
            ).first()
            if head is None:
                return None
            rows = conn.execute(
                select(
                    LINES.c.line_id, LINES.c.kind, LINES.c.amount, LINES.c.currency,
                    LINES.c.order_id, LINES.c.matched_to, LINES.c.outcome,
                ).where(*_of(LINES, channel, settlement_id))
            ).all()  # fmt: skip
        by_kind: dict[AmountKind, Money] = {}
        for row in rows:
            kind, amount = (
                AmountKind(row.kind),
                Money(amount=Decimal(row.amount), currency=row.currency),
            )
            by_kind[kind] = by_kind.get(kind, Money.zero(row.currency)) + amount
        return SettlementSummary(
            channel=channel, settlement_id=settlement_id, deposit_date=head.deposit_date,
            total=_total(head), by_kind=by_kind, lines=len(rows),
            matched=sum(1 for row in rows if row.matched_to is not None),
            account=sum(1 for row in rows if row.order_id is None),
            unmatched={row.line_id: row.outcome for row in rows if row.outcome is not None},
            journal=head.journal, refused=head.refused,
        )  # fmt: skip

    def recent(
        self,
        channel: Channel | None = None,
        limit: int = 50,
        status: SettlementStatus | None = None,
        since: datetime | None = None,
    ) -> list[SettlementSummary]:
        """The latest imported settlements (of one channel, in one status, imported since),
        newest first."""
        statement = select(SETTLEMENTS.c.channel, SETTLEMENTS.c.settlement_id).order_by(
            SETTLEMENTS.c.imported_at.desc()
        )
        if since is not None:
            statement = statement.where(SETTLEMENTS.c.imported_at >= since)
        if channel is not None:
            statement = statement.where(SETTLEMENTS.c.channel == channel.value)
        if status is SettlementStatus.PENDING:
            statement = statement.where(
                SETTLEMENTS.c.journal.is_(None), SETTLEMENTS.c.refused.is_(None)
            )
        elif status is SettlementStatus.REFUSED:
            statement = statement.where(SETTLEMENTS.c.refused.is_not(None))
        elif status is not None:  # posted, with or without unmatched lines
            statement = statement.where(SETTLEMENTS.c.journal.is_not(None))
        with self.engine.connect() as conn:
            keys = conn.execute(statement).all()
        found = []
        for row in keys:
            summary = self.summary(Channel(row.channel), row.settlement_id)
            if summary is not None and status in (None, summary.status):
                found.append(summary)
                if len(found) == limit:
                    break
        return found

    def refunds_untaken(self, channel: Channel, order_id: str) -> list[tuple[str, SettlementLine]]:
        """The order's refund lines (settlement id, line) nothing took, oldest first: kept
        unmatched, or not matched yet."""
        return [
            (settlement_id, line)
            for settlement_id, line, taken in self._order_lines(channel, order_id)
            if taken is None and line.is_refund
        ]

    def lines_of_order(self, channel: Channel, order_id: str) -> list[tuple[str, SettlementLine]]:
        """Every settlement's lines naming the order (settlement id, line), oldest first."""
        return [(s, line) for s, line, _ in self._order_lines(channel, order_id)]

    def _order_lines(
        self, channel: Channel, order_id: str
    ) -> list[tuple[str, SettlementLine, str | None]]:
        """(settlement id, line, the workflow it went to) of every line naming the order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(LINES, SETTLEMENTS.c.imported_at)
                .join(
                    SETTLEMENTS,
                    (SETTLEMENTS.c.channel == LINES.c.channel)
                    & (SETTLEMENTS.c.settlement_id == LINES.c.settlement_id),
                )
                .where(LINES.c.channel == channel.value, LINES.c.order_id == order_id)
                .order_by(SETTLEMENTS.c.imported_at, LINES.c.line_id)
            ).all()
        return [(row.settlement_id, _line(row), row.matched_to) for row in rows]

    def order_ids(self, channel: Channel, settlement_id: str) -> list[str]:
        """The channel's order ids the settlement's lines name."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(LINES.c.order_id)
                    .where(
                        *_of(LINES, channel, settlement_id),
                        LINES.c.order_id.is_not(None),
                    )
                    .distinct()
                    .order_by(LINES.c.order_id)
                ).scalars()
            )

    def lines_by_order(
        self, channel: Channel, settlement_id: str, order_ids: list[str] | None = None
    ) -> dict[str, list[SettlementLine]]:
        """The settlement's lines that name an order, per order (the channel's order id)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(LINES)
                .where(
                    *_of(LINES, channel, settlement_id),
                    LINES.c.order_id.is_not(None)
                    if order_ids is None
                    else LINES.c.order_id.in_(order_ids),
                )
                .order_by(LINES.c.order_id, LINES.c.line_id)
            ).all()
        per_order: dict[str, list[SettlementLine]] = defaultdict(list)
        for row in rows:
            per_order[row.order_id].append(_line(row))
        return dict(per_order)

    def matched(self, channel: Channel, settlement_id: str, owners: dict[str, str]) -> None:
        """Lines given to a workflow (line id -> the order's or the return's workflow id)."""
        if not owners:
            return
        with self._lock, self.engine.begin() as conn:
            for owner, line_ids in _grouped(owners).items():
                conn.execute(
                    update(LINES)
                    .where(*_of(LINES, channel, settlement_id), LINES.c.line_id.in_(line_ids))
                    .values(matched_to=owner, outcome=None)
                )

    def unmatched(
        self, channel: Channel, settlement_id: str, why: str, *, line_ids: Collection[str]
    ) -> None:
        """No order or return of ours takes these lines: each says why. A line a return took
        meanwhile (it started waiting while the settlement was matched) stays taken."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                update(LINES)
                .where(
                    *_of(LINES, channel, settlement_id),
                    LINES.c.line_id.in_(list(line_ids)),
                    LINES.c.matched_to.is_(None),
                )
                .values(outcome=why)
            )

    def posted(self, channel: Channel, settlement_id: str, journal: str) -> None:
        self._header(channel, settlement_id, journal=journal, refused=None)

    def refused(self, channel: Channel, settlement_id: str, why: str) -> None:
        """The ERP refused the settlement's journal: support sees why until it is posted."""
        self._header(channel, settlement_id, refused=why)

    def _header(self, channel: Channel, settlement_id: str, **values: Any) -> None:
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                update(SETTLEMENTS)
                .where(*_of(SETTLEMENTS, channel, settlement_id))
                .values(**values)
            )


def _grouped(owners: dict[str, str]) -> dict[str, list[str]]:
    """line id -> owner, as owner -> its line ids."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for line_id, owner in owners.items():
        grouped[owner].append(line_id)
    return grouped


def _of(table: Table, channel: Channel, settlement_id: str) -> tuple[Any, Any]:
    """The conditions naming one settlement's rows of `table`."""
    return table.c.channel == channel.value, table.c.settlement_id == settlement_id


def _total(head: Row[Any]) -> Money:
    """A settlement row's net deposit."""
    return Money(amount=Decimal(head.total), currency=head.currency)


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive: they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _line(row: Row[Any]) -> SettlementLine:
    return SettlementLine(
        line_id=row.line_id, kind=AmountKind(row.kind),
        amount=Money(amount=Decimal(row.amount), currency=row.currency),
        order_id=row.order_id, refund_id=row.refund_id, description=row.description,
        sku=row.sku, posted_at=_utc(row.posted_at), reference=row.reference,
    )  # fmt: skip
