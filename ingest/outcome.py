"""What became of a delivery: the inbox status to record and the answer to give its sender."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from temporalio.service import RPCError, RPCStatusCode

from inbox.store import InboxStatus

UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}


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


class TemporalUnavailable(Exception):
    """Temporal could not be reached: the delivery is kept and re-driven later."""


@contextmanager
def temporal_call() -> Iterator[None]:
    try:
        yield
    except RPCError as exc:
        if exc.status in UNAVAILABLE:
            raise TemporalUnavailable(exc.message) from exc
        raise
    except RuntimeError as exc:  # Client.connect failed
        if "connect" in str(exc).lower():
            raise TemporalUnavailable(str(exc)) from exc
        raise
