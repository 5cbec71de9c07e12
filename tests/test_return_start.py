"""A return is refused only when there is no order to return against: an order workflow that
cannot answer now (Temporal restarting, its worker just killed) defers the return, so a
customer's parcel at a store's counter is never dropped as 'unknown order'."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from canonical.order import Channel
from canonical.returns import ReturnLine, ReturnRequest, ReturnSource
from inbox.store import InboxStatus
from infra.settings import Settings
from infra.temporal import TemporalUnavailable
from ingest.returns import return_started
from ingest.temporal_link import TemporalLink
from services.returns import UnknownOrder, returnable_order


class Unanswered:
    """A client whose order workflow answers its query with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_workflow_handle(self, workflow_id: str) -> Unanswered:
        return self

    async def query(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


def rpc(status: RPCStatusCode) -> RPCError:
    return RPCError(status.name.lower(), status, b"")


async def test_only_a_missing_order_is_unknown() -> None:
    client: Any = Unanswered(rpc(RPCStatusCode.NOT_FOUND))
    with pytest.raises(UnknownOrder, match="no order workflow order:shopify:1"):
        await returnable_order(client, Channel.SHOPIFY, "1")
    client = Unanswered(WorkflowQueryFailedError("unknown queryType returnable"))
    with pytest.raises(UnknownOrder, match="not an order to return against"):
        await returnable_order(client, Channel.SHOPIFY, "1")
    for status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE):
        with pytest.raises(RPCError):
            await returnable_order(Unanswered(rpc(status)), Channel.SHOPIFY, "1")  # type: ignore[arg-type]


async def test_a_counter_return_waits_for_an_order_that_cannot_answer_now() -> None:
    request = ReturnRequest(
        return_id="POS-R-1", channel=Channel.SHOPIFY, external_order_id="1",
        source=ReturnSource.STORE, store="STORE-BOS", requested_at=datetime.now(UTC),
        lines=[ReturnLine(line_id="1", sku="MUG-STONE-350", quantity=1)],
    )  # fmt: skip
    settings = Settings.from_env({})
    busy: Any = Unanswered(rpc(RPCStatusCode.DEADLINE_EXCEEDED))
    with pytest.raises(TemporalUnavailable):  # the delivery is deferred and re-driven
        await return_started(TemporalLink(settings, busy), settings, request, may_precede=False)
    missing: Any = Unanswered(rpc(RPCStatusCode.NOT_FOUND))
    refused = await return_started(
        TemporalLink(settings, missing), settings, request, may_precede=False
    )
    assert refused.status is InboxStatus.REJECTED and refused.http_status == 422
