"""Each return claims the units it takes back, in one transaction per order, so two returns of
the same order can never take more than shipped; a claim is kept per (return, line), so a
retried claim answers what the first granted. A return that ends without the goods (refused,
expired, cancelled) releases its claim."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from canonical.returns import ReturnClaim
from infra.database import create_engine_for, write_lock


class ReturnClaimRow(SQLModel, table=True):
    __tablename__ = "return_claims"

    return_id: str = Field(primary_key=True)
    line_id: str = Field(primary_key=True)
    order_key: str = Field(index=True)
    quantity: int
    released: bool = False
    claimed_at: datetime


CLAIMS = ReturnClaimRow.__table__  # type: ignore[attr-defined]


class ReturnLedger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = write_lock(engine)
        SQLModel.metadata.create_all(engine, tables=[CLAIMS])

    @classmethod
    def open(cls, url: str) -> ReturnLedger:
        return cls(create_engine_for(url, immediate=True))

    @contextmanager
    def _order_locked(self, order_key: str) -> Iterator[Connection]:
        """A write transaction holding the order's lock (PostgreSQL: an advisory lock on the
        key; SQLite: the write lock, taken when the transaction begins)."""
        with self._lock, self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": order_key})
            yield conn

    def claim(
        self, order_key: str, return_id: str, wanted: dict[str, int], shipped: dict[str, int]
    ) -> ReturnClaim:
        """Grant each line at most what shipped less what other returns hold."""
        with self._order_locked(order_key) as conn:
            mine = conn.execute(
                select(CLAIMS.c.line_id, CLAIMS.c.quantity).where(
                    CLAIMS.c.return_id == return_id, CLAIMS.c.released.is_(False)
                )
            ).all()
            before = self._held(conn, order_key, return_id)
            if mine:  # claimed before: the same answer
                return ReturnClaim(granted={r.line_id: r.quantity for r in mine}, before=before)
            granted: dict[str, int] = {}
            refused: dict[str, str] = {}
            for line_id, quantity in wanted.items():
                left = shipped.get(line_id, 0) - before.get(line_id, 0)
                if left <= 0:
                    refused[line_id] = "nothing left to return on this line"
                    continue
                granted[line_id] = min(quantity, left)
                if quantity > left:
                    refused[line_id] = f"only {left} of {quantity} can still be returned"
            now = datetime.now(UTC)
            for line_id, quantity in granted.items():
                conn.execute(
                    CLAIMS.insert().values(
                        return_id=return_id, line_id=line_id, order_key=order_key,
                        quantity=quantity, released=False, claimed_at=now,
                    )
                )  # fmt: skip
            return ReturnClaim(granted=granted, before=before, refused=refused)

    def _held(self, conn: Connection, order_key: str, return_id: str) -> dict[str, int]:
        rows = conn.execute(
            select(CLAIMS.c.line_id, func.sum(CLAIMS.c.quantity))
            .where(
                CLAIMS.c.order_key == order_key,
                CLAIMS.c.return_id != return_id,
                CLAIMS.c.released.is_(False),
            )
            .group_by(CLAIMS.c.line_id)
        ).all()
        return {line_id: int(total) for line_id, total in rows}

    def returns_of(self, order_key: str) -> list[str]:
        """The returns (their workflow ids) holding units of the order."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(CLAIMS.c.return_id)
                    .where(CLAIMS.c.order_key == order_key, CLAIMS.c.released.is_(False))
                    .distinct()
                    .order_by(CLAIMS.c.return_id)
                ).scalars()
            )

    def release(self, return_id: str) -> None:
        """The return took nothing back after all; idempotent."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                update(CLAIMS).where(CLAIMS.c.return_id == return_id).values(released=True)
            )
