"""Drop-ship port over a supplier's ShipBob-shaped fulfilment API (`POST /{version}/order`,
ShipBob's published Orders API): the order's `reference_id` is our group key, unique in
the account, so a repeated create answers 422 and the order is read back by it. Shipments
arrive as `order.shipped` webhooks signed the Standard Webhooks way (`signature_valid`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from adapters.withdrawal import Withdrawal
from canonical import ExceptionCode, FulfillmentRequest, Shipment, ShipmentLine


class ShipBobSettings(PartnerSettings):
    """The drop-ship supplier's ShipBob-shaped API: DROPSHIP_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("api_token",)
    sandbox_path: ClassVar[str] = "/shipbob/2026-07"
    configured_url: str | None = Field(None, validation_alias="DROPSHIP_API_URL")
    api_token: str = Field("sandbox-shipbob-token", validation_alias="DROPSHIP_API_TOKEN")
    channel_id: str = Field("184402", validation_alias="DROPSHIP_CHANNEL_ID")


SYSTEM = "shipbob"
SUPPLIER_TOPICS = ("order.shipped", "order.shipment.cancelled")  # what our webhook handles


def order_body(request: FulfillmentRequest) -> dict[str, Any]:
    address = request.ship_to
    return {
        "reference_id": request.order_key,
        "order_number": request.order_number.lstrip("#"),
        "shipping_method": request.service,
        "type": "DTC",
        "recipient": {
            "name": address.name or "",
            "email": None,
            "phone_number": address.phone,
            "address": {
                "address1": address.line1,
                "address2": address.line2,
                "company_name": address.company,
                "city": address.city,
                "state": address.region,
                "country": address.country,
                "zip_code": address.postal_code,
            },
        },
        "products": [
            {"reference_id": line.sku, "quantity": line.quantity, "external_line_id": line.line_id}
            for line in request.lines
        ],
        "tags": [{"name": "source", "value": "retail-orchestrator"}],
    }


def shipment_from(raw: dict[str, Any]) -> Shipment:
    """A ShipBob shipment (the `order.shipped` payload) in canonical terms."""
    tracking = raw.get("tracking") or {}
    return Shipment(
        shipment_id=f"shipbob-{raw['id']}",
        order_key=raw["reference_id"],
        carrier=(tracking.get("carrier") or "other").lower(),
        tracking_number=tracking.get("tracking_number") or "",
        tracking_url=tracking.get("tracking_url"),
        lines=[
            ShipmentLine(
                line_id=str(product.get("external_line_id") or ""),
                sku=product["reference_id"],
                quantity=int(product["quantity"]),
            )
            for product in raw.get("products") or []
        ],
    )


class ShipBobDropShip:
    def __init__(self, base_url: str, token: str, channel_id: str) -> None:
        self._http = PartnerHttp(
            SYSTEM,
            base_url,
            headers={"Authorization": f"Bearer {token}", "shipbob_channel_id": channel_id},
            retry_after_headers=("x-retry-after",),
        )

    @staticmethod
    def _raise_for_error(response: httpx.Response) -> None:
        if response.is_success:
            return
        if response.status_code in (401, 403):
            raise TransientError(SYSTEM, f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
            message = body.get("message") or body.get("title") or response.text
        except ValueError:
            message = response.text
        raise BusinessError(SYSTEM, ExceptionCode.SUPPLIER_REJECTED, str(message)[:300])

    async def _find(self, reference_id: str) -> dict[str, Any] | None:
        response = await self._http.request("GET", "/order", params={"ReferenceIds": reference_id})
        self._raise_for_error(response)
        orders: list[dict[str, Any]] = response.json()
        return orders[0] if orders else None

    async def create_order(self, request: FulfillmentRequest) -> str:
        response = await self._http.request("POST", "/order", json=order_body(request))
        if response.status_code == 422:  # a duplicate reference_id: created before
            existing = await self._find(request.order_key)
            if existing is not None:
                return str(existing["id"])
        self._raise_for_error(response)
        return str(response.json()["id"])

    async def cancel_order(self, order_key: str) -> None:
        withdrawal = Withdrawal(SYSTEM, "status", "Cancelled", "Fulfilled", 422,
                                self._raise_for_error)  # fmt: skip
        await withdrawal.cancel(
            order_key,
            lambda: self._find(order_key),
            lambda existing: self._http.request("POST", f"/order/{existing['id']}/cancel"),
        )

    async def shipments_of(self, order_key: str) -> list[Shipment]:
        existing = await self._find(order_key)
        return [shipment_from(raw) for raw in (existing or {}).get("shipments") or []]

    async def subscribe(self, target_url: str, topics: tuple[str, ...]) -> None:
        """`POST /webhook` per topic (ShipBob answers an existing subscription again)."""
        for topic in topics:
            response = await self._http.request(
                "POST", "/webhook", json={"topic": topic, "subscription_url": target_url}
            )
            self._raise_for_error(response)

    async def aclose(self) -> None:
        await self._http.aclose()


SIGNATURE_TOLERANCE_SECONDS = 300  # Standard Webhooks: older deliveries are refused


def signature_valid(secret: str, headers: dict[str, str], raw: bytes, now: float) -> bool:
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        return False
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    given = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, g.encode()) for g in given if g)
