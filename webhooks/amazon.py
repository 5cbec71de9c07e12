"""`POST /webhooks/amazon?token=…`: SP-API ORDER_CHANGE notifications (the SQS message body,
forwarded by the queue's bridge). Deduplicated on `NotificationMetadata.NotificationId`;
delivery is at-least-once and unordered, so the order is always re-read from the SP-API."""

from __future__ import annotations

import json

from fastapi import APIRouter
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.amazon import IMPORTABLE, SpApiClient, order_from_sp_api
from adapters.errors import BusinessError, PartnerError
from adapters.payload import PayloadError
from canonical import Order
from inbox.store import InboxEntry, InboxStatus
from infra.order_client import cancel_from_channel, start_order
from infra.settings import Settings
from webhooks.dispatcher import Dispatcher
from webhooks.outcome import Outcome, accepted, refused, rejected, temporal_call
from webhooks.temporal_link import TemporalLink
from webhooks.token import token_router

SOURCE = "amazon"


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
        with temporal_call():
            client = await self._temporal.client()
        if status == "Canceled":
            return await self._cancel(client, canonical)
        try:
            with temporal_call():
                await start_order(client, self._settings, canonical)
        except WorkflowAlreadyStartedError:
            return Outcome(
                InboxStatus.ACCEPTED, 200, canonical.workflow_id, "order already processed"
            )
        return accepted(canonical.workflow_id)

    async def _cancel(self, client: Client, canonical: Order) -> Outcome:
        try:
            with temporal_call():
                await cancel_from_channel(client, self._settings, canonical, "cancelled on Amazon")
        except WorkflowUpdateFailedError as exc:
            return refused(canonical.workflow_id, getattr(exc.cause, "message", str(exc)))
        except (WorkflowAlreadyStartedError, RPCError) as exc:
            if isinstance(exc, RPCError) and exc.status is not RPCStatusCode.ALREADY_EXISTS:
                raise
            return refused(canonical.workflow_id, "the order is already closed")
        return accepted(canonical.workflow_id, "cancellation accepted")


def router(dispatcher: Dispatcher, token: str) -> APIRouter:
    return token_router(
        dispatcher,
        source=SOURCE,
        token=token,
        key=lambda body: ("ORDER_CHANGE", str(body["NotificationMetadata"]["NotificationId"])),
        summary="SP-API ORDER_CHANGE notification (the SQS message body)",
    )
