"""WMS port over ShipStation V1: `createorder` is an upsert on `orderKey`, cancellation is the
same upsert with status `cancelled`, and SHIP_NOTIFY webhooks are thin so shipments are fetched.
Inventory levels and return labels (`POST /v2/labels` with `is_return_label`, keyed by the
RMA as `external_shipment_id`) go over ShipStation API v2."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from adapters.withdrawal import Withdrawal
from canonical import (
    Address,
    ExceptionCode,
    FulfillmentRequest,
    Shipment,
    ShipmentLine,
    StockLevel,
)
from canonical.returns import ReturnLabel, ReturnLabelRequest


class ShipStationSettings(PartnerSettings):
    """ShipStation V1 (orders, shipments, webhooks) and API v2 (inventory, return labels):
    SHIPSTATION_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("api_key", "api_secret", "v2_api_key")
    sandbox_path: ClassVar[str] = "/shipstation"
    configured_url: str | None = Field(None, validation_alias="SHIPSTATION_BASE_URL")
    api_key: str = Field("sandbox-key", validation_alias="SHIPSTATION_API_KEY")
    api_secret: str = Field("sandbox-secret", validation_alias="SHIPSTATION_API_SECRET")
    store_id: str = Field("402211", validation_alias="SHIPSTATION_STORE_ID")
    v2_base_url: str | None = Field(None, validation_alias="SHIPSTATION_V2_URL")
    v2_api_key: str = Field("sandbox-v2-key", validation_alias="SHIPSTATION_V2_API_KEY")

    @property
    def v2_url(self) -> str:
        return self.on_sandbox(self.v2_base_url, "/shipstation")


SYSTEM = "shipstation"
TRACKING_URLS = {
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
}


def shipstation_address(address: Address) -> dict[str, Any]:
    return {
        "name": address.name,
        "company": address.company,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.region,
        "postalCode": address.postal_code,
        "country": address.country,
        "phone": address.phone,
    }


def order_body(request: FulfillmentRequest, store_id: str, status: str) -> dict[str, Any]:
    return {
        "orderNumber": request.order_number.lstrip("#"),
        "orderKey": request.order_key,
        "orderDate": None,
        "orderStatus": status,
        "billTo": shipstation_address(request.ship_to),
        "shipTo": shipstation_address(request.ship_to),
        "items": [
            {"lineItemKey": line.line_id, "sku": line.sku, "quantity": line.quantity}
            for line in request.lines
        ],
        "requestedShippingService": request.service,
        "advancedOptions": {
            "storeId": int(store_id),
            "source": "retail-orchestrator",
            **({"warehouseId": _id(request.warehouse)} if request.warehouse else {}),
        },
    }


def _id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def shipment_from(raw: dict[str, Any]) -> Shipment:
    carrier = raw.get("carrierCode") or "other"
    tracking = raw.get("trackingNumber") or ""
    url = TRACKING_URLS.get(carrier)
    return Shipment(
        shipment_id=str(raw["shipmentId"]),
        order_key=raw["orderKey"],
        carrier=carrier,
        service=raw.get("serviceCode"),
        tracking_number=tracking,
        tracking_url=url.format(tracking) if url and tracking else None,
        ship_date=date.fromisoformat(raw["shipDate"][:10]) if raw.get("shipDate") else None,
        lines=[
            ShipmentLine(line_id=item["lineItemKey"], sku=item["sku"], quantity=item["quantity"])
            for item in raw.get("shipmentItems") or []
        ],
        voided=bool(raw.get("voided")),
    )


def shipengine_address(address: Address) -> dict[str, Any]:
    return {
        "name": address.name or "Customer",
        "company_name": address.company,
        "phone": address.phone or "",
        "address_line1": address.line1,
        "address_line2": address.line2,
        "city_locality": address.city,
        "state_province": address.region,
        "postal_code": address.postal_code,
        "country_code": address.country,
    }


def _return_label(rma: str, raw: dict[str, Any]) -> ReturnLabel:
    return ReturnLabel(
        rma=rma,
        label_id=str(raw["label_id"]),
        carrier=raw.get("carrier_code") or "usps",
        tracking_number=raw.get("tracking_number") or "",
        label_url=(raw.get("label_download") or {}).get("pdf") or "",
    )


class ShipStationWms:
    """Orders and shipments over V1 (key and secret); inventory levels over API v2, which has
    its own host and key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        store_id: str,
        v2_base_url: str,
        v2_api_key: str,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = PartnerHttp(
            SYSTEM,
            base_url,
            auth=(api_key, api_secret),
            retry_after_headers=("X-Rate-Limit-Reset",),
        )
        self._v2 = PartnerHttp(SYSTEM, v2_base_url, headers={"API-Key": v2_api_key})
        self._store_id = store_id

    def _raise_for_error(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        if response.status_code in (401, 403):
            raise TransientError(SYSTEM, f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            message = response.json().get("Message") or response.text
        except ValueError:
            message = response.text
        raise BusinessError(SYSTEM, ExceptionCode.WMS_REJECTED, message[:300])

    async def _find(self, order_key: str) -> dict[str, Any] | None:
        response = await self._http.request("GET", "/orders", params={"orderKey": order_key})
        self._raise_for_error(response)
        orders: list[dict[str, Any]] = response.json().get("orders", [])
        return orders[0] if orders else None

    async def create_fulfillment(self, request: FulfillmentRequest) -> str:
        """A refusal because the order already shipped answers a retry whose first attempt
        reached the warehouse: that order is the one asked for, so its id comes back."""
        response = await self._http.request(
            "POST",
            "/orders/createorder",
            json=order_body(request, self._store_id, "awaiting_shipment"),
        )
        if response.status_code == 400:
            existing = await self._find(request.order_key)
            if existing is not None and existing.get("orderStatus") == "shipped":
                return str(existing["orderId"])
        self._raise_for_error(response)
        return str(response.json()["orderId"])

    async def cancel_fulfillment(self, order_key: str) -> None:
        """Cancelling is the same upsert with status `cancelled`."""
        withdrawal = Withdrawal(SYSTEM, "orderStatus", "cancelled", "shipped", 400,
                                self._raise_for_error)  # fmt: skip
        await withdrawal.cancel(
            order_key,
            lambda: self._find(order_key),
            lambda existing: self._http.request(
                "POST", "/orders/createorder", json={**existing, "orderStatus": "cancelled"}
            ),
        )

    async def shipments_of(self, order_key: str) -> list[Shipment]:
        response = await self._http.request(
            "GET", "/shipments", params={"orderKey": order_key, "includeShipmentItems": "true"}
        )
        self._raise_for_error(response)
        return [shipment_from(raw) for raw in response.json().get("shipments", [])]

    async def fetch_shipments(self, resource_url: str) -> list[Shipment]:
        # The notification names an absolute URL on the WMS; only follow our WMS's own.
        if not resource_url.startswith(self._base_url):
            raise BusinessError(
                SYSTEM, ExceptionCode.WMS_REJECTED, f"resource_url outside the WMS: {resource_url}"
            )
        response = await self._http.request("GET", resource_url[len(self._base_url) :])
        self._raise_for_error(response)
        return [shipment_from(raw) for raw in response.json().get("shipments", [])]

    async def subscribe(self, target_url: str, event: str = "SHIP_NOTIFY") -> None:
        """Register our webhook receiver (`POST /webhooks/subscribe`)."""
        response = await self._http.request(
            "POST",
            "/webhooks/subscribe",
            json={
                "target_url": target_url,
                "event": event,
                "store_id": int(self._store_id),
                "friendly_name": "retail-orchestrator",
            },
        )
        self._raise_for_error(response)

    async def stock_levels(self) -> list[StockLevel]:
        """`GET /v2/inventory`, every page; on hand summed over a warehouse's locations."""
        on_hand: dict[tuple[str, str], int] = {}
        available: dict[tuple[str, str], int] = {}
        page, pages = 1, 1
        while page <= pages:
            response = await self._v2.request(
                "GET", "/v2/inventory", params={"page": page, "page_size": 500}
            )
            self._raise_for_error(response)
            body = response.json()
            for row in body.get("inventory", []):
                key = (row["sku"], str(row["inventory_warehouse_id"]))
                on_hand[key] = on_hand.get(key, 0) + int(row["on_hand"])
                available[key] = available.get(key, 0) + int(row.get("available", 0))
            page, pages = page + 1, int(body.get("pages") or 1)
        return [
            StockLevel(
                sku=sku, warehouse=warehouse, on_hand=units, forecast=available[sku, warehouse]
            )
            for (sku, warehouse), units in sorted(on_hand.items())
        ]

    async def _labels(self, rma: str) -> list[dict[str, Any]]:
        """The RMA's labels that are not voided."""
        listed = await self._v2.request("GET", "/v2/labels", params={"external_shipment_id": rma})
        self._raise_for_error(listed)
        return [label for label in listed.json().get("labels", []) if label["status"] != "voided"]

    async def create_return_label(self, request: ReturnLabelRequest) -> ReturnLabel:
        """A label already made for the RMA (a retry after a lost answer) is read back."""
        made = await self._labels(request.rma)
        if made:
            return _return_label(request.rma, made[0])
        shipment = {
            "external_shipment_id": request.rma,
            "service_code": "usps_ground_advantage",
            "ship_from": shipengine_address(request.ship_from),
            "warehouse_id": request.warehouse,
            "items": [
                {"sku": line.sku, "quantity": line.quantity, "external_order_item_id": line.line_id}
                for line in request.lines
            ],
            "packages": [{"weight": {"value": request.weight_grams, "unit": "gram"}}],
        }
        response = await self._v2.request(
            "POST",
            "/v2/labels",
            json={"shipment": shipment, "is_return_label": True, "rma_number": request.rma},
        )
        self._raise_for_error(response)
        return _return_label(request.rma, response.json())

    async def void_return_label(self, rma: str) -> None:
        for label in await self._labels(rma):
            response = await self._v2.request("PUT", f"/v2/labels/{label['label_id']}/void")
            self._raise_for_error(response)
            answer = response.json()
            if not answer.get("approved", False):
                raise BusinessError(SYSTEM, ExceptionCode.WMS_REJECTED, answer.get("message", ""))

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._v2.aclose()
