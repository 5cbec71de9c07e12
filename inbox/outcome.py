"""What became of a delivery: the status recorded on its inbox entry and the answer its sender
gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inbox.store import InboxStatus


@dataclass(frozen=True)
class Outcome:
    status: InboxStatus
    http_status: int
    workflow_id: str | None = None
    detail: str | None = None

    def body(self, inbox_id: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status.value, "inbox_id": inbox_id}
        if self.workflow_id:
            body["workflow_id"] = self.workflow_id
        if self.detail:
            body["detail"] = self.detail
        return body


def accepted(workflow_id: str, detail: str | None = None) -> Outcome:
    return Outcome(InboxStatus.ACCEPTED, 202, workflow_id, detail)


def rejected(http_status: int, detail: str) -> Outcome:
    return Outcome(InboxStatus.REJECTED, http_status, detail=detail)


def refused(workflow_id: str, detail: str) -> Outcome:
    """The order said no (e.g. cancel after shipment): answered 200 so it is not redelivered."""
    return Outcome(InboxStatus.REFUSED, 200, workflow_id, detail)


@dataclass(frozen=True)
class Answer:
    """What the sender of a delivery is told (an HTTP answer for a webhook)."""

    http_status: int
    body: dict[str, Any]
