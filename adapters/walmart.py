"""Walmart Marketplace API v3: client-credentials token, released orders, acknowledge, ship,
cancel. Walmart splits a multi-unit purchase into quantity-1 lines: the canonical order groups
them by SKU and keeps the line numbers (`OrderLine.channel_lines`) for shipping and cancelling.
Ship and cancel re-read the PO first and skip lines already in the target status."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.availability import set_each
from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError, no_store_pickup
from adapters.http import PartnerHttp, error_list
from adapters.payload import PayloadError, reads_payload
from canonical import (
    Address,
    Channel,
    Customer,
    ExceptionCode,
    Money,
    Order,
    OrderLine,
    Shipment,
)
from canonical.cancellation import LineCancellation
from canonical.correction import OrderCorrection
from canonical.inventory import AvailableToSell
from canonical.money import total
from canonical.pickup import Handover
from canonical.returns import ChannelRefund, ReturnLine, ReturnRequest, ReturnSource


class WalmartSettings(PartnerSettings):
    """Walmart Marketplace API: WALMART_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("client_secret",)
    sandbox_path: ClassVar[str] = "/walmart"
    configured_url: str | None = Field(None, validation_alias="WALMART_API_URL")
    client_id: str = Field("sandbox-client", validation_alias="WALMART_CLIENT_ID")
    client_secret: str = Field("sandbox-secret", validation_alias="WALMART_CLIENT_SECRET")
    ship_node: str = Field("721407", validation_alias="WALMART_SHIP_NODE")


FEED_PAGE = 1000  # items per page of a feed's status, Walmart's most
SYSTEM = "walmart"
COUNTRIES = {"USA": "US", "US": "US"}
CARRIERS = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}
FINAL = {"Shipped", "Delivered", "Cancelled", "Refund"}


def _amount(charge: dict[str, Any] | None) -> Decimal:
    return Decimal(str((charge or {}).get("amount") or 0))


def line_status(line: dict[str, Any]) -> str:
    return str(line["orderLineStatuses"]["orderLineStatus"][-1]["status"])


def corrected_po(po: dict[str, Any], correction: OrderCorrection) -> dict[str, Any]:
    """The purchase order with support's correction in Walmart's own fields (a line id here
    is the SKU its quantity-1 lines share)."""
    po = copy.deepcopy(po)
    if correction.ship_to:
        a = correction.ship_to
        info = po.setdefault("shippingInfo", {})
        info["postalAddress"] = {
            "name": a.name, "address1": a.line1, "address2": a.line2, "city": a.city,
            "state": a.region, "postalCode": a.postal_code, "country": a.country,
            "addressType": "RESIDENTIAL",
        }  # fmt: skip
        info["phone"] = a.phone or info.get("phone")
    lines = (po.get("orderLines") or {}).get("orderLine") or []
    for line_id, sku in correction.skus.items():
        named = [line for line in lines if (line.get("item") or {}).get("sku") == line_id]
        if not named:
            raise PayloadError(f"the purchase order has no line {line_id}")
        for line in named:
            line["item"]["sku"] = sku
    return po


@reads_payload("Walmart purchase order")
def order_from_walmart(po: dict[str, Any]) -> Order:
    lines_by_sku: dict[str, dict[str, Any]] = {}
    currency = "USD"
    shipping: list[Decimal] = []
    for raw in po["orderLines"]["orderLine"]:
        sku = raw["item"]["sku"]
        quantity = int(raw["orderLineQuantity"]["amount"])
        grouped = lines_by_sku.setdefault(
            sku,
            {
                "title": raw["item"].get("productName", ""),
                "quantity": 0,
                "price": [],
                "tax": [],
                "refs": {},
            },
        )
        grouped["quantity"] += quantity
        grouped["refs"][str(raw["lineNumber"])] = quantity
        for charge in raw["charges"]["charge"]:
            currency = charge["chargeAmount"].get("currency", currency)
            if charge["chargeType"] == "PRODUCT":
                grouped["price"].append(_amount(charge["chargeAmount"]))
            else:
                shipping.append(_amount(charge["chargeAmount"]))
            tax = (charge.get("tax") or {}).get("taxAmount")
            if tax:
                grouped["tax"].append(_amount(tax))
    lines = []
    for sku, grouped in lines_by_sku.items():
        line_total = Money(amount=sum(grouped["price"], Decimal(0)), currency=currency)
        tax = Money(amount=sum(grouped["tax"], Decimal(0)), currency=currency)
        lines.append(
            OrderLine(
                line_id=sku,
                sku=sku,
                title=grouped["title"],
                quantity=grouped["quantity"],
                unit_price=Money(
                    amount=line_total.amount / grouped["quantity"], currency=currency
                ).rounded(),
                extended_price=line_total,
                tax=None if tax.is_zero() else tax,
                channel_lines=grouped["refs"],
            )
        )
    address = po["shippingInfo"]["postalAddress"]
    shipping_total = Money(amount=sum(shipping, Decimal(0)), currency=currency)
    tax_total = total([line.tax for line in lines if line.tax], currency)
    subtotal = total([line.gross for line in lines], currency)
    return Order(
        channel=Channel.WALMART,
        external_id=po["purchaseOrderId"],
        order_number=po.get("customerOrderId") or po["purchaseOrderId"],
        channel_ref=po["purchaseOrderId"],
        placed_at=datetime.fromtimestamp(po["orderDate"] / 1000, tz=UTC),
        currency=currency,
        customer=Customer(email=po.get("customerEmailId"), name=address.get("name", "")),
        ship_to=Address(
            name=address.get("name", ""),
            line1=address.get("address1") or "",
            line2=address.get("address2"),
            city=address.get("city") or "",
            region=address.get("state"),
            postal_code=address.get("postalCode"),
            country=COUNTRIES.get(address.get("country", ""), address.get("country", "")[:2]),
            phone=po["shippingInfo"].get("phone"),
        ),
        lines=lines,
        shipping=shipping_total,
        tax_total=tax_total,
        # Walmart is a marketplace facilitator too, and states the PO total line by line.
        tax_collected_by_channel=True,
        total=subtotal + shipping_total + tax_total,
    )


@reads_payload("Walmart return order")
def returns_from_walmart(raw: dict[str, Any]) -> list[ReturnRequest]:
    """A Walmart return order (`GET /v3/returns`) -> one return per purchase order it spans.
    Walmart gave the customer the label; our canonical Walmart lines are keyed by SKU."""
    by_po: dict[str, dict[str, ReturnLine]] = {}
    for line in raw["returnOrderLines"]:
        sku, units = line["item"]["sku"], int(line["quantity"]["measurementValue"])
        lines = by_po.setdefault(str(line["purchaseOrderId"]), {})
        earlier = lines.get(sku)  # Walmart's quantity-1 lines: one per unit
        lines[sku] = ReturnLine(
            line_id=sku,
            sku=sku,
            quantity=units + (earlier.quantity if earlier else 0),
            reason=line.get("returnReason") or "",
        )
    return [
        ReturnRequest(
            return_id=str(raw["returnOrderId"]),
            channel=Channel.WALMART,
            external_order_id=po,
            source=ReturnSource.CHANNEL,
            lines=list(lines.values()),
            requested_at=raw["returnOrderDate"],
            label_by_channel=True,
        )
        for po, lines in by_po.items()
    ]


class WalmartClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self._http = PartnerHttp(SYSTEM, base_url)
        self._credentials = (client_id, client_secret)
        self._token: str | None = None
        self._token_expires = 0.0

    def _raise_for_error(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        error = error_list(response)[0]
        message = f"{error.get('code', response.status_code)}: {error.get('description', '')}"
        if response.status_code in (401, 403):
            self._token = None  # expired or revoked: the retry fetches a new one
            raise TransientError(SYSTEM, message)
        code = ExceptionCode.UNKNOWN_SKU if response.status_code == 404 else None
        raise BusinessError(SYSTEM, code or ExceptionCode.CHANNEL_REJECTED, message)

    async def _headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._token_expires:
            response = await self._http.request(
                "POST",
                "/v3/token",
                auth=self._credentials,
                data={"grant_type": "client_credentials"},
                headers=self._service_headers(),
            )
            self._raise_for_error(response)
            body = response.json()
            self._token = body["access_token"]
            self._token_expires = time.monotonic() + float(body.get("expires_in", 900)) - 60
        return {**self._service_headers(), "WM_SEC.ACCESS_TOKEN": self._token or ""}

    @staticmethod
    def _service_headers() -> dict[str, str]:
        return {
            "WM_SVC.NAME": "Walmart Marketplace",
            "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
            "Accept": "application/json",
        }

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._http.request(method, path, headers=await self._headers(), **kwargs)
        self._raise_for_error(response)
        body: dict[str, Any] = response.json()
        return body

    async def released_orders(self) -> AsyncIterator[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100, "shipNodeType": "SellerFulfilled"}
        while True:
            page = (await self._call("GET", "/v3/orders/released", params=params))["list"]
            for po in page["elements"]["order"]:
                yield po
            cursor = page["meta"].get("nextCursor")
            if not cursor:
                return
            params = {"nextCursor": cursor}

    async def initiated_returns(self) -> AsyncIterator[dict[str, Any]]:
        """Return orders customers opened and the seller has not settled (`INITIATED`)."""
        params: dict[str, Any] = {"status": "INITIATED", "limit": 100}
        while True:
            page = await self._call("GET", "/v3/returns", params=params)
            for raw in page.get("returnOrders") or []:
                yield raw
            cursor = (page.get("meta") or {}).get("nextCursor")
            if not cursor:
                return
            params = {"nextCursor": cursor}

    async def get_order(self, po: str) -> dict[str, Any]:
        order: dict[str, Any] = (await self._call("GET", f"/v3/orders/{po}"))["order"]
        return order

    async def acknowledge(self, po: str) -> None:
        await self._call("POST", f"/v3/orders/{po}/acknowledge")

    async def update_lines(
        self, po: str, action: str, wrapper: str, lines: list[dict[str, Any]]
    ) -> None:
        await self._call(
            "POST",
            f"/v3/orders/{po}/{action}",
            json={wrapper: {"orderLines": {"orderLine": lines}}},
        )

    async def refund_lines(self, po: str, lines: list[dict[str, Any]]) -> None:
        await self._call(
            "POST",
            f"/v3/orders/{po}/refund",
            json={"orderRefund": {"purchaseOrderId": po, "orderLines": {"orderLine": lines}}},
        )

    async def set_inventory(self, sku: str, ship_node: str, quantity: int) -> None:
        await self._call(
            "PUT",
            "/v3/inventory",
            params={"sku": sku, "shipNode": ship_node},
            json={"sku": sku, "quantity": {"unit": "EACH", "amount": quantity}},
        )

    async def submit_feed(self, feed_type: str, feed: dict[str, Any]) -> str:
        """`POST /v3/feeds?feedType=…`: the feed file uploaded; its feed id."""
        body = json.dumps(feed).encode()
        answer = await self._call(
            "POST",
            "/v3/feeds",
            params={"feedType": feed_type},
            files={"file": ("feed.json", body, "application/json")},
        )
        return str(answer["feedId"])

    async def feed_status(self, feed_id: str, offset: int = 0) -> dict[str, Any]:
        """A feed's status with a page of its items' ingestion (at most 1000 a page)."""
        return await self._call(
            "GET",
            f"/v3/feeds/{feed_id}",
            params={"includeDetails": "true", "offset": offset, "limit": FEED_PAGE},
        )

    async def recon_report_dates(self) -> list[str]:
        """The dates (YYYYMMDD) of the reconciliation reports Walmart has made."""
        body = await self._call(
            "GET", "/v3/report/reconreport/availableReconFiles", params={"reportVersion": "v1"}
        )
        return [str(day) for day in body.get("availableApReportDates") or []]

    async def recon_report(self, report_date: str) -> dict[str, Any]:
        """One reconciliation report v1 as JSON."""
        return await self._call(
            "GET",
            "/v3/report/reconreport/reconFileJson",
            params={"reportDate": report_date, "reportVersion": "v1"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _refund_line(raw: dict[str, Any], comment: str) -> dict[str, Any]:
    """One Walmart line refunded in full: its product charge and tax, negated."""
    charges = [c for c in raw["charges"]["charge"] if c["chargeType"] == "PRODUCT"]
    return {
        "lineNumber": str(raw["lineNumber"]),
        "refunds": {
            "refund": [
                {
                    "refundComments": comment,
                    "refundCharges": {
                        "refundCharge": [
                            {
                                "refundReason": "CustomerChangedMind",
                                "charge": {
                                    "chargeType": "PRODUCT",
                                    "chargeName": charge.get("chargeName", "ItemPrice"),
                                    "chargeAmount": {
                                        "currency": charge["chargeAmount"]["currency"],
                                        "amount": -float(_amount(charge["chargeAmount"])),
                                    },
                                    "tax": {
                                        "taxName": (charge.get("tax") or {}).get("taxName", "Tax1"),
                                        "taxAmount": {
                                            "currency": charge["chargeAmount"]["currency"],
                                            "amount": -float(
                                                _amount((charge.get("tax") or {}).get("taxAmount"))
                                            ),
                                        },
                                    },
                                },
                            }
                            for charge in charges
                        ]
                    },
                }
            ]
        },
    }


def _open_refs(order: Order, po: dict[str, Any], line_ids: dict[str, int]) -> list[tuple[str, int]]:
    """Walmart line numbers (and quantities) still open for `line_ids` (canonical line -> qty)."""
    status = {str(raw["lineNumber"]): line_status(raw) for raw in po["orderLines"]["orderLine"]}
    picked = []
    for line in order.lines:
        wanted = line_ids.get(line.line_id, 0)
        for ref, quantity in line.channel_lines.items():
            if wanted <= 0:
                break
            if status.get(ref) not in FINAL:
                take = min(quantity, wanted)
                picked.append((ref, take))
                wanted -= take
    return picked


class WalmartMarketplace:
    def __init__(self, client: WalmartClient, ship_node: str) -> None:
        self.inventory_batch = 1  # one SKU per call
        self.inventory_bulk_from = 0  # no bulk path of its own
        self._client = client
        self._ship_node = ship_node

    async def set_available(self, updates: list[AvailableToSell]) -> list[str]:
        """`PUT /v3/inventory`: an absolute quantity for our ship node, safe to repeat."""
        return await set_each(
            updates,
            lambda update: self._client.set_inventory(update.sku, self._ship_node, update.quantity),
        )

    async def acknowledge(self, order: Order) -> None:
        """The saga's acknowledge step: the order is valid and its stock reserved, so the
        seller commits to ship it (Walmart expects this within hours of the PO's release; a
        held PO stays `Created` until support resumes or cancels it). Acknowledging twice is
        harmless."""
        await self._client.acknowledge(order.external_id)

    async def confirm_collected(self, order: Order, handover: Handover) -> str:
        raise no_store_pickup(SYSTEM, order.order_number)

    async def confirm_shipment(self, order: Order, shipment: Shipment) -> str:
        po = await self._client.get_order(order.external_id)
        shipped = {line.line_id: line.quantity for line in shipment.lines}
        # A retry after the first call went through finds its tracking number on the lines.
        for raw in po["orderLines"]["orderLine"]:
            last = raw["orderLineStatuses"]["orderLineStatus"][-1]
            if (last.get("trackingInfo") or {}).get("trackingNumber") == shipment.tracking_number:
                shipped[raw["item"]["sku"]] = shipped.get(raw["item"]["sku"], 0) - int(
                    last["statusQuantity"]["amount"]
                )
        refs = _open_refs(order, po, shipped)
        if refs:
            tracking = {
                "shipDateTime": int(time.time() * 1000),
                "carrierName": {
                    "carrier": CARRIERS.get(shipment.carrier, shipment.carrier.upper())
                },
                "methodCode": "Standard",
                "trackingNumber": shipment.tracking_number,
                "trackingURL": shipment.tracking_url,
            }
            await self._client.update_lines(
                order.external_id,
                "shipping",
                "orderShipment",
                [
                    {
                        "lineNumber": ref,
                        "sellerOrderId": order.key,
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Shipped",
                                    "statusQuantity": {
                                        "unitOfMeasurement": "EACH",
                                        "amount": str(quantity),
                                    },
                                    "trackingInfo": tracking,
                                }
                            ]
                        },
                    }
                    for ref, quantity in refs
                ],
            )
        return shipment.shipment_id

    async def cancel(self, order: Order, reason: str, by_buyer: bool = False) -> None:
        po = await self._client.get_order(order.external_id)
        refs = _open_refs(order, po, {line.line_id: line.quantity for line in order.lines})
        out_of_stock = not by_buyer and "stock" in reason.lower()
        await self._cancel_refs(order, refs, out_of_stock=out_of_stock)

    async def cancel_lines(self, cancellation: LineCancellation) -> None:
        """Units are cancelled from a line's last Walmart lines (shipments take the first),
        the same ones on every retry; those already cancelled are skipped."""
        order = cancellation.order
        po = await self._client.get_order(order.external_id)
        status = {str(raw["lineNumber"]): line_status(raw) for raw in po["orderLines"]["orderLine"]}
        refs: dict[str, int] = {}
        for line in order.lines:
            now = cancellation.lines.get(line.line_id, 0)
            if not now:
                continue
            units = [ref for ref, quantity in line.channel_lines.items() for _ in range(quantity)]
            end = len(units) - cancellation.before.get(line.line_id, 0)
            for ref in units[max(end - now, 0) : end]:
                if status.get(ref) != "Cancelled":
                    refs[ref] = refs.get(ref, 0) + 1
        await self._cancel_refs(order, list(refs.items()), cancellation.out_of_stock)

    async def refund(self, refund: ChannelRefund) -> str:
        """`POST /v3/orders/{po}/refund` for the returned units: a line's units are refunded
        from its first shipped Walmart lines on, after those earlier returns took, the same
        ones on every retry; those already refunded are skipped."""
        order = refund.order
        po = await self._client.get_order(order.external_id)
        raw_lines = {str(raw["lineNumber"]): raw for raw in po["orderLines"]["orderLine"]}
        chosen: list[dict[str, Any]] = []
        for line in order.lines:
            now = refund.lines.get(line.line_id, 0)
            units = [ref for ref, quantity in line.channel_lines.items() for _ in range(quantity)]
            start = refund.before.get(line.line_id, 0)
            for ref in units[start : start + now]:
                if line_status(raw_lines[ref]) != "Refund":
                    chosen.append(raw_lines[ref])
        if chosen:
            await self._client.refund_lines(
                order.external_id,
                [_refund_line(raw, refund.reason or "Customer return") for raw in chosen],
            )
        return f"{order.external_id}:{refund.refund_id}"

    async def _cancel_refs(
        self, order: Order, refs: list[tuple[str, int]], out_of_stock: bool
    ) -> None:
        if not refs:
            return
        code = (
            "SELLER_CANCEL_OUT_OF_STOCK" if out_of_stock else "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
        )
        await self._client.update_lines(
            order.external_id,
            "cancel",
            "orderCancellation",
            [
                {
                    "lineNumber": ref,
                    "orderLineStatuses": {
                        "orderLineStatus": [
                            {
                                "status": "Cancelled",
                                "cancellationReason": code,
                                "statusQuantity": {
                                    "unitOfMeasurement": "EACH",
                                    "amount": str(quantity),
                                },
                            }
                        ]
                    },
                }
                for ref, quantity in refs
            ],
        )
