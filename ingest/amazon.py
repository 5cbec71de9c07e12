"""Amazon: SP-API ORDER_CHANGE notifications (the SQS message body, forwarded by the queue's
bridge to `POST /webhooks/amazon`), deduplicated on `NotificationMetadata.NotificationId`;
delivery is at-least-once and unordered, so the order is always re-read from the SP-API."""

from __future__ import annotations

import json

from adapters.amazon import IMPORTABLE, SpApiClient, order_from_sp_api
from adapters.errors import BusinessError, PartnerError
from adapters.payload import PayloadError
from inbox.outcome import Outcome, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.settings import Settings
from ingest.temporal_link import TemporalLink
from services.orders import order_cancelled, order_started

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
        return await order_started(client, self._settings, canonical)
