"""What each channel lists of each SKU, in our database: the content hash of the listing last
sent (so a publication sends only what changed), whether the channel took it, refused it
(the listing exception, with the channel's own words, until the item changes in the ERP) or
has not said yet (Amazon's issues, Walmart's feed), and the channel's reference."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlmodel import Field, SQLModel

from canonical import Channel
from canonical.catalog import ListingState
from infra.database import TableStore


class ListingRow(SQLModel, table=True):
    __tablename__ = "listings"

    channel: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    content_hash: str  # of the listing last sent or refused
    shape_hash: str = ""  # ... of all of it but its price
    state: str
    message: str = ""  # why it failed, in the channel's (or our validation's) words
    reference: str = ""  # the channel's product, submission or feed id
    updated_at: datetime


LISTINGS = ListingRow.__table__  # type: ignore[attr-defined]


class ListingStatus(BaseModel):
    channel: Channel
    sku: str
    state: ListingState
    message: str
    reference: str
    updated_at: datetime


class ListingStore(TableStore):
    tables = [LISTINGS]

    def changed(self, channel: Channel, hashes: dict[str, str]) -> list[str]:
        """The SKUs (of `hashes`: SKU -> content hash) to send: never sent, or changed since;
        a listing that failed is sent again only once it changed (fixed in the ERP)."""
        with self.engine.connect() as conn:
            known: dict[str, str] = dict(
                conn.execute(
                    select(LISTINGS.c.sku, LISTINGS.c.content_hash).where(
                        LISTINGS.c.channel == channel.value
                    )
                ).all()
            )
        return [sku for sku, digest in hashes.items() if known.get(sku) != digest]

    def price_only(self, channel: Channel, shapes: dict[str, str]) -> set[str]:
        """Of `shapes` (SKU -> shape hash), the SKUs published with that same shape: if they
        changed, only their price did."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(LISTINGS.c.sku, LISTINGS.c.shape_hash).where(
                    LISTINGS.c.channel == channel.value,
                    LISTINGS.c.state == ListingState.PUBLISHED.value,
                    LISTINGS.c.sku.in_(list(shapes)),
                )
            ).all()
        return {row.sku for row in rows if row.shape_hash and row.shape_hash == shapes[row.sku]}

    def record(
        self,
        channel: Channel,
        outcomes: list[tuple[str, str, ListingState, str, str]],
        shapes: dict[str, str] | None = None,
    ) -> None:
        """(SKU, content hash, state, message, reference) of each listing sent or refused,
        with the shape hash of those sent (`shapes`)."""
        if not outcomes:
            return
        now = datetime.now(UTC)
        shapes = shapes or {}
        rows = [
            {"channel": channel.value, "sku": sku, "content_hash": digest, "state": state.value,
             "message": message, "reference": reference, "updated_at": now,
             "shape_hash": shapes.get(sku, "")}
            for sku, digest, state, message, reference in outcomes
        ]  # fmt: skip
        statement = self._dialect.insert(LISTINGS).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["channel", "sku"],
            set_={
                column: statement.excluded[column]
                for column in (
                    "content_hash",
                    "shape_hash",
                    "state",
                    "message",
                    "reference",
                    "updated_at",
                )
            },
        )
        with self._lock, self.engine.begin() as conn:
            conn.execute(statement)

    def settle(self, channel: Channel, sku: str, state: ListingState, message: str = "") -> None:
        """A pending listing's answer from the channel."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                update(LISTINGS)
                .where(LISTINGS.c.channel == channel.value, LISTINGS.c.sku == sku)
                .values(state=state.value, message=message, updated_at=datetime.now(UTC))
            )

    def status(
        self,
        channel: Channel | None = None,
        state: ListingState | None = None,
    ) -> list[ListingStatus]:
        statement = select(LISTINGS).order_by(LISTINGS.c.channel, LISTINGS.c.sku)
        if channel is not None:
            statement = statement.where(LISTINGS.c.channel == channel.value)
        if state is not None:
            statement = statement.where(LISTINGS.c.state == state.value)
        with self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        return [
            ListingStatus(
                channel=Channel(row.channel), sku=row.sku, state=ListingState(row.state),
                message=row.message, reference=row.reference,
                updated_at=row.updated_at if row.updated_at.tzinfo
                else row.updated_at.replace(tzinfo=UTC),
            )
            for row in rows
        ]  # fmt: skip
