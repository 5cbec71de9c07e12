"""The audit log of privacy requests: one row per request, saying what was done (entries
emptied, ERP record anonymized, keys destroyed, or for a data request what we hold) and when,
by reference only: never the customer's data itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Field, SQLModel

from canonical.privacy import CustomerDataFound, PrivacyOutcome, PrivacyRequest
from infra.database import TableStore


class PrivacyRow(SQLModel, table=True):
    __tablename__ = "privacy_request"

    request_id: str = Field(primary_key=True)  # the request's workflow id
    kind: str = Field(index=True)
    channel: str
    shop: str
    subject_ref: str | None = Field(default=None, index=True)
    delivery_id: str
    received_at: datetime
    completed_at: datetime
    entries_erased: int = 0
    erp_anonymized: str | None = None
    keys_destroyed: int = 0
    found: str | None = None  # a data request's answer (JSON of references)


ROWS = PrivacyRow.__table__  # type: ignore[attr-defined]


class PrivacyLog(TableStore):
    tables = [ROWS]

    def record(self, outcome: PrivacyOutcome) -> None:
        """Once per request: a repeat (a retried activity) keeps the first record."""
        request = outcome.request
        values = {
            "request_id": request.workflow_id,
            **request.model_dump(include={"kind", "channel", "shop", "subject_ref", "delivery_id"}),
            "received_at": request.received_at,
            "completed_at": outcome.completed_at,
            "entries_erased": outcome.entries_erased,
            "erp_anonymized": outcome.erp_anonymized,
            "keys_destroyed": outcome.keys_destroyed,
            "found": outcome.found.model_dump_json() if outcome.found else None,
        }
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                self._dialect.insert(ROWS)
                .values(values)
                .on_conflict_do_nothing(index_elements=["request_id"])
            )

    def latest(self, limit: int = 50) -> list[PrivacyOutcome]:
        statement = select(ROWS).order_by(ROWS.c.received_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_outcome(row._mapping) for row in conn.execute(statement)]

    def get(self, request_id: str) -> PrivacyOutcome | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ROWS).where(ROWS.c.request_id == request_id)).first()
        return _outcome(row._mapping) if row is not None else None


def _outcome(row: object) -> PrivacyOutcome:
    values = dict(row)  # type: ignore[call-overload]
    request = PrivacyRequest.model_validate(values)
    found = CustomerDataFound.model_validate_json(values["found"]) if values["found"] else None
    return PrivacyOutcome(
        request=request,
        found=found,
        entries_erased=values["entries_erased"],
        erp_anonymized=values["erp_anonymized"],
        keys_destroyed=values["keys_destroyed"],
        completed_at=values["completed_at"],
    )
