"""Shopify deliveries (`POST /webhooks/shopify`), by `X-Shopify-Topic`: parsed once into what
they mean (an order created or cancelled, goods returned, a refund or fulfilment to note), then
acted on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from temporalio.service import RPCError, RPCStatusCode

from adapters.payload import PayloadError, reads_payload
from adapters.shopify import (
    PRIVACY_TOPICS,
    order_from_webhook,
    privacy_request_from_webhook,
    return_from_refund,
)
from canonical import ChannelEvent, ChannelEventKind, Money, Order
from canonical.inventory import NodeKind
from canonical.order import Channel, order_workflow_id
from canonical.privacy import PrivacyRequest
from canonical.returns import ReturnRequest
from inbox.outcome import Outcome, accepted, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.settings import Settings
from infra.temporal import temporal_call
from ingest.dispatcher import Checked
from ingest.returns import return_started
from ingest.temporal_link import TemporalLink
from inventory.network import configured_network
from services.orders import order_cancelled, order_started, report_channel_event
from services.privacy import privacy_request_started

SOURCE = "shopify"


def _checked_body(entry: InboxEntry) -> dict[str, Any] | Outcome:
    """The delivery's JSON object, or why it is rejected."""
    if not entry.topic or "webhook-id" not in entry.header_map():
        return rejected(400, "missing X-Shopify-Topic or X-Shopify-Webhook-Id")
    try:
        body = json.loads(entry.body)
    except ValueError as exc:
        return rejected(400, f"malformed JSON: {exc}")
    if not isinstance(body, dict):
        return rejected(400, "malformed JSON: the body is not an object")
    return body


@dataclass(frozen=True)
class OrderCreated:
    order: Order


@dataclass(frozen=True)
class OrderCancelled:
    order: Order
    reason: str


@dataclass(frozen=True)
class GoodsReturned:
    request: ReturnRequest


@dataclass(frozen=True)
class EventReported:
    event: ChannelEvent


@dataclass(frozen=True)
class PrivacyAsked:
    request: PrivacyRequest


ShopifyDelivery = OrderCreated | OrderCancelled | GoodsReturned | EventReported | PrivacyAsked


class ShopifyTopics:
    """What each Shopify topic does to the order workflows."""

    def __init__(self, temporal: TemporalLink, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings
        stores = [
            n
            for n in configured_network(settings.inventory_network, settings.erp).nodes
            if n.kind is NodeKind.STORE
        ]
        # A pickup shipping line names the Shopify location: by default a store's name or code.
        self._pickup_locations = {
            **{n.name: n.code for n in stores},
            **{n.code: n.code for n in stores},
            **settings.shopify_pickup_locations,
        }

    def precheck(self, entry: InboxEntry) -> Outcome | Checked[ShopifyDelivery]:
        """Parse the delivery once, without Temporal or a partner, so the answer is fast."""
        body = _checked_body(entry)
        if isinstance(body, Outcome):
            return body
        try:
            match entry.topic:
                case "orders/create":
                    order = order_from_webhook(body, self._pickup_locations)
                    return Checked(order.workflow_id, OrderCreated(order), once_per_workflow=True)
                case "orders/cancelled":
                    order = order_from_webhook(body, self._pickup_locations)
                    reason = (
                        f"cancelled on Shopify ({body.get('cancel_reason') or 'no reason given'})"
                    )
                    return Checked(order.workflow_id, OrderCancelled(order, reason))
                case "refunds/create" | "fulfillments/create":
                    event, order_id = _channel_event(entry.topic, body)
                    returned = return_from_refund(body) if entry.topic == "refunds/create" else None
                    if returned is not None:  # goods coming back: a return, whatever the order
                        return Checked(returned.workflow_id, GoodsReturned(returned))
                    workflow_id = order_workflow_id(Channel.SHOPIFY, order_id)
                    return Checked(workflow_id, EventReported(event))
                case topic if topic in PRIVACY_TOPICS:
                    asked = privacy_request_from_webhook(
                        topic, body, entry.dedupe_key, entry.received_at
                    )
                    return Checked(asked.workflow_id, PrivacyAsked(asked))
        except PayloadError as exc:
            return rejected(422, str(exc))
        return Outcome(
            InboxStatus.IGNORED, 200, detail=f"topic {entry.topic} is kept, not acted on"
        )

    async def handle(self, entry: InboxEntry) -> Outcome:
        checked = self.precheck(entry)
        return checked if isinstance(checked, Outcome) else await self.act(checked)

    async def act(self, checked: Checked[ShopifyDelivery]) -> Outcome:
        match checked.parsed:
            case OrderCreated(order):
                return await order_started(await self._temporal.client(), self._settings, order)
            case OrderCancelled(order, reason):
                client = await self._temporal.client()
                return await order_cancelled(client, self._settings, order, reason)
            case GoodsReturned(request):
                return await return_started(
                    self._temporal, self._settings, request, may_precede=True
                )
            case EventReported(event):
                return await self._event(checked.workflow_id, event)
            case PrivacyAsked(request):
                client = await self._temporal.client()
                return await privacy_request_started(client, self._settings, request)

    async def _event(self, workflow_id: str, event: ChannelEvent) -> Outcome:
        client = await self._temporal.client()
        try:
            with temporal_call():
                await report_channel_event(client, workflow_id, event)
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            # Kept as failed: once the order exists (or after a fix) `inbox replay` routes it.
            return Outcome(InboxStatus.FAILED, 202, workflow_id, "no open order workflow for it")
        return accepted(workflow_id)


@reads_payload("Shopify refund or fulfillment")
def _channel_event(topic: str, body: dict[str, Any]) -> tuple[ChannelEvent, str]:
    order_id = str(body["order_id"])
    if topic == "refunds/create":
        amounts = [
            Money.of(str(t["amount"]), t.get("currency") or "USD")
            for t in body.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status", "success") == "success"
        ]
        amount = sum(amounts[1:], amounts[0]) if amounts else None
        lines = sum(item.get("quantity", 0) for item in body.get("refund_line_items") or [])
        summary = f"refund {body['id']}: {lines} unit(s)" + (f", {amount}" if amount else "")
        if body.get("note"):
            summary += f" — {body['note']}"
        kind = ChannelEventKind.REFUND
    else:
        summary = f"fulfillment {body.get('name') or body['id']} {body.get('status', '')}"
        if body.get("tracking_number"):
            summary += f", {body.get('tracking_company') or ''} {body['tracking_number']}"
        kind = ChannelEventKind.FULFILLMENT
        amount = None
    event = ChannelEvent(
        kind=kind,
        event_id=str(body["id"]),
        occurred_at=body.get("created_at") or body.get("processed_at"),
        summary=summary.strip(),
        amount=amount,
    )
    return event, order_id
