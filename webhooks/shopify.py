"""`POST /webhooks/shopify`: HMAC-verified before anything is parsed, stored, deduplicated on
`X-Shopify-Webhook-Id`, routed by `X-Shopify-Topic`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from adapters.payload import PayloadError, reads_payload
from adapters.shopify import order_from_webhook, return_from_refund
from canonical import ChannelEvent, ChannelEventKind, Money
from canonical.inventory import NodeKind
from canonical.order import Channel, order_workflow_id
from inbox.store import InboxEntry, InboxStatus
from infra.order_client import report_channel_event
from infra.settings import Settings
from inventory.network import load_network
from webhooks.dispatcher import Dispatcher
from webhooks.order_outcomes import order_cancelled, order_started
from webhooks.outcome import Outcome, accepted, rejected, temporal_call
from webhooks.returns import return_started
from webhooks.temporal_link import TemporalLink

SOURCE = "shopify"
KEPT_HEADERS = ("topic", "shop-domain", "api-version", "webhook-id", "event-id", "triggered-at")


def header(request: Request, name: str) -> str | None:
    """Shopify header `name` in either naming (`X-Shopify-…` or the newer `Shopify-…`);
    Starlette already matches case-insensitively."""
    return request.headers.get(f"x-shopify-{name}") or request.headers.get(f"shopify-{name}")


def sign(raw_body: bytes, secret: str) -> str:
    """Shopify's `X-Shopify-Hmac-Sha256`: base64(HMAC-SHA256(secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def signature_valid(raw_body: bytes, signature: str | None, secrets: list[str]) -> bool:
    """Compared in constant time against every accepted secret (the current one and, during a
    rotation, the previous one), before the body is parsed."""
    if not signature:
        return False
    valid = False
    for secret in secrets:
        valid |= hmac.compare_digest(sign(raw_body, secret).encode(), signature.encode())
    return valid


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


class ShopifyTopics:
    """What each Shopify topic does to the order workflows."""

    def __init__(self, temporal: TemporalLink, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings
        stores = [
            n for n in load_network(settings.inventory_network).nodes if n.kind is NodeKind.STORE
        ]
        # A pickup shipping line names the Shopify location: by default a store's name or code.
        self._pickup_locations = {
            **{n.name: n.code for n in stores},
            **{n.code: n.code for n in stores},
            **settings.shopify_pickup_locations,
        }

    def precheck(self, entry: InboxEntry) -> Outcome:
        """Everything that needs neither Temporal nor a partner, so the answer is fast."""
        body = _checked_body(entry)
        if isinstance(body, Outcome):
            return body
        try:
            match entry.topic:
                case "orders/create" | "orders/cancelled":
                    workflow_id = order_from_webhook(body, self._pickup_locations).workflow_id
                case "refunds/create" | "fulfillments/create":
                    returned = return_from_refund(body) if entry.topic == "refunds/create" else None
                    workflow_id = (
                        returned.workflow_id
                        if returned
                        else order_workflow_id(
                            Channel.SHOPIFY, _channel_event(entry.topic, body)[1]
                        )
                    )
                case _:
                    return Outcome(
                        InboxStatus.IGNORED,
                        200,
                        detail=f"topic {entry.topic} is kept, not acted on",
                    )
        except PayloadError as exc:
            return rejected(422, str(exc))
        once = entry.topic == "orders/create"
        return Outcome(InboxStatus.RECEIVED, 202, workflow_id, once_per_workflow=once)

    async def handle(self, entry: InboxEntry) -> Outcome:
        body = _checked_body(entry)
        if isinstance(body, Outcome):
            return body
        match entry.topic:
            case "orders/create":
                return await self._create(body)
            case "orders/cancelled":
                return await self._cancelled(body)
            case "refunds/create" | "fulfillments/create":
                return await self._event(entry.topic, body)
        return Outcome(
            InboxStatus.IGNORED, 200, detail=f"topic {entry.topic} is kept, not acted on"
        )

    async def _create(self, body: dict[str, Any]) -> Outcome:
        try:
            order = order_from_webhook(body, self._pickup_locations)
        except PayloadError as exc:
            return rejected(422, str(exc))
        return await order_started(await self._temporal.client(), self._settings, order)

    async def _cancelled(self, body: dict[str, Any]) -> Outcome:
        try:
            order = order_from_webhook(body, self._pickup_locations)
        except PayloadError as exc:
            return rejected(422, str(exc))
        reason = f"cancelled on Shopify ({body.get('cancel_reason') or 'no reason given'})"
        client = await self._temporal.client()
        return await order_cancelled(client, self._settings, order, reason)

    async def _event(self, topic: str, body: dict[str, Any]) -> Outcome:
        try:
            event, order_id = _channel_event(topic, body)
            returned = return_from_refund(body) if topic == "refunds/create" else None
        except PayloadError as exc:
            return rejected(422, str(exc))
        if returned is not None:  # goods coming back: a return, whatever the order's state
            return await return_started(self._temporal, self._settings, returned, may_precede=True)
        workflow_id = order_workflow_id(Channel.SHOPIFY, order_id)
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


def router(dispatcher: Dispatcher, secrets: list[str]) -> APIRouter:
    api = APIRouter(tags=["shopify"])

    @api.post(
        "/webhooks/shopify",
        status_code=202,
        responses={
            200: {"description": "duplicate delivery, or the order already settled it"},
            400: {"description": "malformed JSON or missing Shopify headers (stored)"},
            401: {"description": "bad or missing X-Shopify-Hmac-Sha256 (nothing stored)"},
            422: {"description": "not a valid payload for the topic (stored as rejected)"},
            503: {"description": "Temporal unreachable (stored, re-driven when it is back)"},
        },
    )
    async def shopify_webhook(request: Request) -> JSONResponse:
        """Shopify webhook topics `orders/create`, `orders/cancelled`, `refunds/create`,
        `fulfillments/create` (others are stored and ignored)."""
        raw = await request.body()
        if not signature_valid(raw, header(request, "hmac-sha256"), secrets):
            return JSONResponse({"detail": "invalid or missing HMAC signature"}, status_code=401)
        kept = {name: value for name in KEPT_HEADERS if (value := header(request, name))}
        webhook_id = kept.get("webhook-id") or f"no-webhook-id:{hashlib.sha256(raw).hexdigest()}"
        return await dispatcher.receive(SOURCE, kept.get("topic", ""), webhook_id, kept, raw)

    return api
