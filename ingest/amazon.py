"""Amazon: SP-API ORDER_CHANGE notifications (the SQS message body, forwarded by the queue's
bridge to `POST /webhooks/amazon`), deduplicated on `NotificationMetadata.NotificationId`;
delivery is at-least-once and unordered, so the order is always re-read from the SP-API."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.amazon import IMPORTABLE, SpApiClient, buyer_cancel_reason, order_from_sp_api
from adapters.errors import BusinessError, PartnerError
from adapters.payload import PayloadError
from canonical import ChannelEvent, ChannelEventKind, Order
from inbox.outcome import Outcome, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.settings import Settings
from infra.temporal import temporal_call
from ingest.temporal_link import TemporalLink
from services.orders import order_cancelled, order_started, report_channel_event
from workflows.order_inputs import CancelSource

log = logging.getLogger("ingest")
SOURCE = "amazon"
ORDER_CHANGE = "ORDER_CHANGE"


class AmazonNotifications:
    def __init__(self, sp_api: SpApiClient, temporal: TemporalLink, settings: Settings) -> None:
        self._sp_api = sp_api
        self._temporal = temporal
        self._settings = settings

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            message = json.loads(entry.body)
            change = message["Payload"]["OrderChangeNotification"]
            order_id = change["AmazonOrderId"]
        except (ValueError, KeyError, TypeError) as exc:
            return rejected(422, f"not an ORDER_CHANGE notification: {exc!r}")
        if message.get("NotificationType") != "ORDER_CHANGE":
            return Outcome(InboxStatus.IGNORED, 200, detail=f"{message.get('NotificationType')}")
        try:
            order = await self._sp_api.get_order(order_id)
            status = order["OrderStatus"]
            if status == "Pending":
                return Outcome(InboxStatus.IGNORED, 200, detail="Pending: imported once Unshipped")
            if status not in IMPORTABLE | {"Canceled"}:
                return Outcome(InboxStatus.IGNORED, 200, detail=f"status {status} is not imported")
            items = await self._sp_api.get_order_items(order_id)
        except BusinessError as exc:
            return rejected(422, exc.message)
        except PartnerError as exc:
            # Kept as failed: the queue redelivers, and `inbox replay` can re-drive it.
            return Outcome(InboxStatus.FAILED, 503, detail=f"SP-API unavailable: {exc.message}")
        try:
            canonical = order_from_sp_api(order, items)
        except PayloadError as exc:
            return rejected(422, str(exc))
        client = await self._temporal.client()
        if status == "Canceled":
            return await order_cancelled(client, self._settings, canonical, "cancelled on Amazon")
        asked = buyer_cancel_reason(items)
        if asked is not None:
            return await self._buyer_asked_to_cancel(client, canonical, asked)
        return await order_started(client, self._settings, canonical)

    async def _buyer_asked_to_cancel(self, client: Client, order: Order, reason: str) -> Outcome:
        """Honoured while nothing shipped (the order is cancelled, on Amazon too, with the
        reason BuyerCanceled); after shipment support gets the request with the reason: the
        delivery is kept as refused and the order's timeline names it."""
        asked = f"the buyer asked to cancel on Amazon: {reason}"
        outcome = await order_cancelled(client, self._settings, order, asked, CancelSource.CUSTOMER)
        if outcome.status is InboxStatus.REFUSED:
            event = ChannelEvent(
                kind=ChannelEventKind.CANCEL_REQUEST,
                event_id=f"buyer-cancel:{order.key}",
                occurred_at=datetime.now(UTC),
                summary=f"{asked} — refused: {outcome.detail}",
            )
            try:
                with temporal_call():
                    await report_channel_event(client, order.workflow_id, event)
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise  # closed: the refused delivery in the inbox is what support sees
            log.warning("%s: %s; refused: %s", order.workflow_id, asked, outcome.detail)
        return outcome
