"""Amazon over the Selling Partner API (Orders v0): reading orders (with a restricted data token
for the address), mapping them to canonical, confirming shipments.

Mapping rules that matter: `ItemPrice` and `ItemTax` are line totals, not unit amounts;
`TaxCollection.Model = MarketplaceFacilitator` means Amazon remits the sales tax (the tax engine
records the sale without charging it again); AFN orders are fulfilled by Amazon and never go
to our warehouse; a `Pending` order has no address or total yet and is not imported."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.availability import set_each
from adapters.config import PartnerSettings
from adapters.errors import BusinessError, RateLimitedError, TransientError, no_store_pickup
from adapters.http import PartnerHttp, error_list
from adapters.pacing import Pacer, UsagePlan
from adapters.payload import reads_payload
from canonical import (
    Address,
    Channel,
    Customer,
    ExceptionCode,
    FulfillmentMethod,
    Money,
    Order,
    OrderLine,
    Shipment,
)
from canonical.cancellation import LineCancellation
from canonical.inventory import AvailableToSell
from canonical.money import total
from canonical.pickup import Handover
from canonical.returns import ChannelRefund, ReturnLine, ReturnRequest, ReturnSource


class AmazonSettings(PartnerSettings):
    """Amazon Selling Partner API: AMAZON_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    sandbox_path: ClassVar[str] = "/amazon"
    configured_url: str | None = Field(None, validation_alias="AMAZON_SP_API_URL")
    access_token: str = Field("Atza|sandbox", validation_alias="AMAZON_ACCESS_TOKEN")
    marketplace_id: str = Field("ATVPDKIKX0DER", validation_alias="AMAZON_MARKETPLACE_ID")
    seller_id: str = Field("A1EXAMPLESELLERZ", validation_alias="AMAZON_SELLER_ID")


FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
PATCH_CALLS_PER_SECOND = 5.0  # patchListingsItem's usage plan
BULK_AVAILABILITY_FROM = 10  # SKUs at once: two seconds of patches, against one feed
PATCHES_AT_MOST = 100  # SKUs patched one by one in a push (20 s) when no feed is left


def availability_patch(quantity: int) -> dict[str, Any]:
    """The listing's merchant-fulfilled quantity, set (absolute)."""
    return {
        "op": "replace",
        "path": "/attributes/fulfillment_availability",
        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
    }


SYSTEM = "amazon"
# SP-API sends no Retry-After on 429: wait one token of the slowest plan we call (0.5 rps).
QUOTA_WAIT_SECONDS = 2.0
IMPORTABLE = {"Unshipped", "PartiallyShipped", "Shipped"}
CARRIERS = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}
RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
REPORT_POLLS, REPORT_POLL_SECONDS = 30, 2.0


def _money(value: dict[str, Any] | None, currency: str) -> Money:
    return Money(amount=Decimal((value or {}).get("Amount") or "0"), currency=currency)


def buyer_cancel_reason(items: list[dict[str, Any]]) -> str | None:
    """The buyer's reason when they asked to cancel (any item flagged
    `BuyerRequestedCancel.IsBuyerRequestedCancel`, a string "true" in getOrderItems); None
    when nobody asked."""
    for item in items:
        request = item.get("BuyerRequestedCancel") or {}
        if str(request.get("IsBuyerRequestedCancel", "")).lower() == "true":
            return str(request.get("BuyerCancelReason") or "no reason given")
    return None


@reads_payload("Amazon order")
def order_from_sp_api(order: dict[str, Any], items: list[dict[str, Any]]) -> Order:
    """getOrder + getOrderItems payloads -> canonical order."""
    currency = order["OrderTotal"]["CurrencyCode"]
    lines, shipping, taxes = [], [], []
    for item in items:
        quantity = int(item["QuantityOrdered"])
        line_total = _money(item.get("ItemPrice"), currency)
        discount = _money(item.get("PromotionDiscount"), currency)
        item_tax = _money(item.get("ItemTax"), currency) - _money(
            item.get("PromotionDiscountTax"), currency
        )
        lines.append(
            OrderLine(
                line_id=str(item["OrderItemId"]),
                sku=item.get("SellerSKU") or "",
                title=item.get("Title") or "",
                quantity=quantity,
                unit_price=Money(amount=line_total.amount / quantity, currency=currency).rounded(),
                extended_price=line_total,
                discount=None if discount.is_zero() else discount,
                tax=None if item_tax.is_zero() else item_tax,
            )
        )
        shipping.append(
            _money(item.get("ShippingPrice"), currency)
            - _money(item.get("ShippingDiscount"), currency)
        )
        taxes += [
            item_tax,
            _money(item.get("ShippingTax"), currency)
            - _money(item.get("ShippingDiscountTax"), currency),
        ]
    raw_address = order.get("ShippingAddress") or {}
    address = (
        Address(
            name=raw_address.get("Name") or "",
            line1=raw_address.get("AddressLine1") or "",
            line2=raw_address.get("AddressLine2"),
            city=raw_address.get("City") or "",
            region=raw_address.get("StateOrRegion"),
            postal_code=raw_address.get("PostalCode"),
            country=raw_address.get("CountryCode") or "",
            phone=raw_address.get("Phone"),
        )
        if raw_address
        else None
    )
    afn = order.get("FulfillmentChannel") == "AFN"
    return Order(
        channel=Channel.AMAZON,
        external_id=order["AmazonOrderId"],
        order_number=order["AmazonOrderId"],
        channel_ref=order["AmazonOrderId"],
        placed_at=order["PurchaseDate"],
        currency=currency,
        customer=Customer(email=(order.get("BuyerInfo") or {}).get("BuyerEmail")),
        ship_to=address,
        lines=lines,
        shipping=total(shipping, currency),
        tax_total=total(taxes, currency),
        tax_collected_by_channel=any(
            (item.get("TaxCollection") or {}).get("Model") == "MarketplaceFacilitator"
            for item in items
        ),
        total=_money(order["OrderTotal"], currency),
        fulfillment=FulfillmentMethod.CHANNEL if afn else FulfillmentMethod.SHIP,
    )


@reads_payload("Amazon returns report row")
def return_from_amazon_rows(rows: list[dict[str, str]]) -> ReturnRequest:
    """The returns report's rows of one order and Amazon RMA -> its return. Amazon's prepaid
    label; the report names SKUs, so the lines are matched to the order's by SKU when the
    return starts."""
    return ReturnRequest(
        return_id=rows[0]["Amazon RMA ID"],
        channel=Channel.AMAZON,
        external_order_id=rows[0]["Order ID"],
        source=ReturnSource.CHANNEL,
        lines=[
            ReturnLine(
                line_id="",
                sku=row["Merchant SKU"],
                quantity=int(row["Return quantity"]),
                reason=row.get("Return reason") or "",
            )
            for row in rows
        ],
        requested_at=rows[0]["Return request date"],
        label_by_channel=True,
    )


class SpApiClient:
    def __init__(self, base_url: str, access_token: str, marketplace_id: str) -> None:
        self._http = PartnerHttp(
            SYSTEM,
            base_url,
            headers={"x-amz-access-token": access_token, "user-agent": "retail-orchestrator/0.1"},
            default_retry_after=QUOTA_WAIT_SECONDS,
        )
        self.marketplace_id = marketplace_id
        # createFeed's usage plan (one feed every two minutes, a burst of 15), as this process
        # spends it: a bulk change goes as a feed only while the plan has one left.
        self.feeds = UsagePlan(burst=15, per_second=1 / 120)
        self._patches = Pacer(PATCH_CALLS_PER_SECOND)  # patchListingsItem: 5 a second

    def _raise_for_error(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        errors = error_list(response)
        message = f"{errors[0].get('code', response.status_code)}: {errors[0].get('message', '')}"
        if response.status_code in (401, 403):
            raise TransientError(SYSTEM, message)  # credentials: fixed by ops, not by the order
        code = ExceptionCode.UNKNOWN_SKU if response.status_code == 404 else None
        raise BusinessError(SYSTEM, code or ExceptionCode.CHANNEL_REJECTED, message)

    async def _restricted_token(self, path: str) -> str:
        response = await self._http.request(
            "POST",
            "/tokens/2021-03-01/restrictedDataToken",
            json={
                "restrictedResources": [
                    {
                        "method": "GET",
                        "path": path,
                        "dataElements": ["buyerInfo", "shippingAddress"],
                    }
                ]
            },
        )
        self._raise_for_error(response)
        token: str = response.json()["restrictedDataToken"]
        return token

    async def get_order(self, order_id: str) -> dict[str, Any]:
        """The order with its address PII (read with a restricted data token)."""
        path = f"/orders/v0/orders/{order_id}"
        token = await self._restricted_token(path)
        response = await self._http.request("GET", path, headers={"x-amz-access-token": token})
        self._raise_for_error(response)
        payload: dict[str, Any] = response.json()["payload"]
        return payload

    async def get_order_items(self, order_id: str) -> list[dict[str, Any]]:
        response = await self._http.request("GET", f"/orders/v0/orders/{order_id}/orderItems")
        self._raise_for_error(response)
        items: list[dict[str, Any]] = response.json()["payload"]["OrderItems"]
        return items

    async def confirm_shipment(self, order_id: str, package: dict[str, Any]) -> None:
        response = await self._http.request(
            "POST",
            f"/orders/v0/orders/{order_id}/shipmentConfirmation",
            json={"marketplaceId": self.marketplace_id, "packageDetail": package},
        )
        self._raise_for_error(response)

    async def returns_report(self, since: datetime) -> list[dict[str, str]]:
        """The flat-file returns report for returns requested since `since`: requested,
        waited for (`processingStatus` DONE), its document downloaded from its URL."""
        response = await self._http.request(
            "POST",
            "/reports/2021-06-30/reports",
            json={
                "reportType": RETURNS_REPORT,
                "marketplaceIds": [self.marketplace_id],
                "dataStartTime": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        self._raise_for_error(response)
        report_id = response.json()["reportId"]
        for _ in range(REPORT_POLLS):
            response = await self._http.request("GET", f"/reports/2021-06-30/reports/{report_id}")
            self._raise_for_error(response)
            report = response.json()
            if report["processingStatus"] in ("CANCELLED", "FATAL"):
                raise TransientError(SYSTEM, f"returns report {report_id}: {report}")
            if report["processingStatus"] == "DONE":
                break
            await asyncio.sleep(REPORT_POLL_SECONDS)
        else:
            raise TransientError(SYSTEM, f"returns report {report_id} not done yet")
        text = await self._document(report["reportDocumentId"])
        return list(csv.DictReader(io.StringIO(text), delimiter="\t"))

    async def settlement_reports(self, since: datetime) -> list[str]:
        """The settlement reports Amazon made since `since` (they cannot be requested: found
        with getReports, oldest first), each document's text."""
        texts, params = (
            [],
            {
                "reportTypes": SETTLEMENT_REPORT,
                "processingStatuses": "DONE",
                "createdSince": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        while True:
            response = await self._http.request("GET", "/reports/2021-06-30/reports", params=params)
            self._raise_for_error(response)
            page = response.json()
            for report in page.get("reports") or []:
                texts.append(await self._document(report["reportDocumentId"]))
            if not page.get("nextToken"):
                return texts
            params = {"nextToken": page["nextToken"]}

    async def _document(self, document_id: str) -> str:
        """A report document's text, downloaded from its pre-signed URL (gunzipped when
        Amazon compressed it)."""
        response = await self._http.request("GET", f"/reports/2021-06-30/documents/{document_id}")
        self._raise_for_error(response)
        meta = response.json()
        async with httpx.AsyncClient(timeout=60) as plain:  # a pre-signed URL: no SP-API headers
            document = await plain.get(meta["url"])
        if document.status_code >= 400:
            raise TransientError(SYSTEM, f"report document: HTTP {document.status_code}")
        if meta.get("compressionAlgorithm") == "GZIP":
            return gzip.decompress(document.content).decode("utf-8")
        return document.text

    async def patch_availability(self, seller_id: str, sku: str, quantity: int) -> None:
        await self._patches.wait()
        response = await self._http.request(
            "PATCH",
            f"/listings/2021-08-01/items/{seller_id}/{sku}",
            params={"marketplaceIds": self.marketplace_id},
            json={"productType": "PRODUCT", "patches": [availability_patch(quantity)]},
        )
        self._raise_for_error(response)
        body = response.json()
        if body.get("status") == "INVALID":
            issues = "; ".join(i.get("message", "") for i in body.get("issues", []))
            raise BusinessError(SYSTEM, ExceptionCode.CHANNEL_REJECTED, f"{sku}: {issues}")

    async def put_listing(
        self, seller_id: str, sku: str, body: dict[str, Any], preview: bool = False
    ) -> dict[str, Any]:
        """`putListingsItem`: the listing whole; with `preview`, validated and not saved."""
        mode = {"mode": "VALIDATION_PREVIEW"} if preview else {}
        response = await self._http.request(
            "PUT",
            f"/listings/2021-08-01/items/{seller_id}/{sku}",
            params={"marketplaceIds": self.marketplace_id, "includedData": "issues", **mode},
            json=body,
        )
        self._raise_for_error(response)
        answer: dict[str, Any] = response.json()
        return answer

    async def get_listing(self, seller_id: str, sku: str) -> dict[str, Any] | None:
        """`getListingsItem` with its issues and summaries; None when Amazon has no such SKU."""
        response = await self._http.request(
            "GET",
            f"/listings/2021-08-01/items/{seller_id}/{sku}",
            params={"marketplaceIds": self.marketplace_id, "includedData": "issues,summaries"},
        )
        if response.status_code == 404:
            return None
        self._raise_for_error(response)
        answer: dict[str, Any] = response.json()
        return answer

    async def submit_feed(self, feed_type: str, content: dict[str, Any]) -> str:
        """A feed of many listings at once: its document created and uploaded to the
        (pre-signed) URL, then the feed created (a call of its usage plan spent); its id."""
        self.feeds.take()
        response = await self._http.request(
            "POST", "/feeds/2021-06-30/documents", json={"contentType": FEED_CONTENT_TYPE}
        )
        self._raise_for_error(response)
        document = response.json()
        async with httpx.AsyncClient(timeout=60) as plain:  # a pre-signed URL: no SP-API headers
            uploaded = await plain.put(
                document["url"],
                content=json.dumps(content).encode(),
                headers={"Content-Type": FEED_CONTENT_TYPE},
            )
        if uploaded.status_code >= 400:
            raise TransientError(SYSTEM, f"feed document upload: HTTP {uploaded.status_code}")
        response = await self._http.request(
            "POST",
            "/feeds/2021-06-30/feeds",
            json={
                "feedType": feed_type,
                "marketplaceIds": [self.marketplace_id],
                "inputFeedDocumentId": document["feedDocumentId"],
            },
        )
        self._raise_for_error(response)
        return str(response.json()["feedId"])

    async def feed_report(self, feed_id: str) -> dict[str, Any] | None:
        """The feed's processing report once Amazon is done with it (None before); a feed it
        gave up on (FATAL, CANCELLED) is refused."""
        response = await self._http.request("GET", f"/feeds/2021-06-30/feeds/{feed_id}")
        self._raise_for_error(response)
        feed = response.json()
        status = feed.get("processingStatus")
        if status in ("FATAL", "CANCELLED"):
            raise BusinessError(SYSTEM, ExceptionCode.CHANNEL_REJECTED, f"feed {feed_id}: {status}")
        if status != "DONE":
            return None
        response = await self._http.request(
            "GET", f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}"
        )
        self._raise_for_error(response)
        meta = response.json()
        async with httpx.AsyncClient(timeout=60) as plain:
            document = await plain.get(meta["url"])
        if document.status_code >= 400:
            raise TransientError(SYSTEM, f"feed report: HTTP {document.status_code}")
        text = (
            gzip.decompress(document.content).decode("utf-8")
            if meta.get("compressionAlgorithm") == "GZIP"
            else document.text
        )
        report: dict[str, Any] = json.loads(text)
        return report

    async def aclose(self) -> None:
        await self._http.aclose()


class AmazonMarketplace:
    def __init__(self, sp_api: SpApiClient, seller_id: str) -> None:
        self.inventory_batch = 1  # one SKU per patchListingsItem
        # So many SKUs at once take longer to patch one by one (5 a second) than a feed: they
        # go as one JSON_LISTINGS_FEED instead, while createFeed's usage plan allows.
        self.inventory_bulk_from = BULK_AVAILABILITY_FROM
        self._sp_api = sp_api
        self._seller_id = seller_id

    async def set_available(self, updates: list[AvailableToSell]) -> list[str]:
        """`fulfillment_availability`, an absolute quantity, safe to repeat: one SKU by
        patchListingsItem; many as one JSON_LISTINGS_FEED of PATCH messages (Amazon applies
        it when it processes the feed; a SKU it does not list is in the feed's processing
        report, not returned here), else one by one when no feed is left in the usage plan."""
        if len(updates) >= self.inventory_bulk_from and self._sp_api.feeds.next_in() == 0:
            header = {"sellerId": self._seller_id, "version": "2.0", "issueLocale": "en_US"}
            messages = [
                {"messageId": n, "sku": update.sku, "operationType": "PATCH",
                 "productType": "PRODUCT", "patches": [availability_patch(update.quantity)]}
                for n, update in enumerate(updates, start=1)
            ]  # fmt: skip
            await self._sp_api.submit_feed(
                "JSON_LISTINGS_FEED", {"header": header, "messages": messages}
            )
            return []
        if len(updates) > PATCHES_AT_MOST:  # longer one by one than waiting for a feed
            wait = self._sp_api.feeds.next_in()
            raise RateLimitedError(SYSTEM, f"{len(updates)} SKUs: next feed in {wait:.0f} s", wait)
        return await set_each(
            updates,
            lambda update: self._sp_api.patch_availability(
                self._seller_id, update.sku, update.quantity
            ),
        )

    async def acknowledge(self, order: Order) -> None:
        """Orders v0 has no acknowledgement: an Unshipped MFN order is ours to ship."""

    async def confirm_collected(self, order: Order, handover: Handover) -> str:
        raise no_store_pickup(SYSTEM, order.order_number)

    async def confirm_shipment(self, order: Order, shipment: Shipment) -> str:
        """confirmShipment has no idempotency key: the package reference is our shipment id,
        and quantities Amazon already counts as shipped are not confirmed again."""
        items = {i["OrderItemId"]: i for i in await self._sp_api.get_order_items(order.external_id)}
        remaining = {k: i["QuantityOrdered"] - i["QuantityShipped"] for k, i in items.items()}
        if any(remaining.get(line.line_id, 0) < line.quantity for line in shipment.lines):
            return shipment.shipment_id  # a retry after the first confirmation went through
        await self._sp_api.confirm_shipment(
            order.external_id,
            {
                "packageReferenceId": shipment.shipment_id,
                "carrierCode": CARRIERS.get(shipment.carrier, "Other"),
                "carrierName": CARRIERS.get(shipment.carrier, shipment.carrier),
                "shippingMethod": shipment.service or "Standard",
                "trackingNumber": shipment.tracking_number,
                "shipDate": f"{shipment.ship_date.isoformat()}T12:00:00Z"
                if shipment.ship_date
                else None,
                "orderItems": [
                    {"orderItemId": line.line_id, "quantity": line.quantity}
                    for line in shipment.lines
                ],
            },
        )
        return shipment.shipment_id

    async def cancel(self, order: Order, reason: str, by_buyer: bool = False) -> None:
        """Orders v0 cannot cancel a seller's order: it is done in Seller Central (or by an
        order-acknowledgement feed), with the cancel reason `BuyerCanceled` when the buyer asked.
        Raising keeps the order in NEEDS_ATTENTION with that task; support resumes it with
        `--done-by-hand`."""
        code = " with reason BuyerCanceled" if by_buyer else ""
        raise BusinessError(
            SYSTEM,
            ExceptionCode.CHANNEL_REJECTED,
            f"cancel Amazon order {order.external_id} in Seller Central{code} ({reason})",
        )

    async def refund(self, refund: ChannelRefund) -> str:
        """Orders v0 has no refund call: refunds are issued in Seller Central (or by a
        payment adjustment feed). Raising keeps the return in NEEDS_ATTENTION with the task;
        support resumes it once refunded there."""
        units = ", ".join(f"{q} x line {line}" for line, q in refund.lines.items())
        raise BusinessError(
            SYSTEM,
            ExceptionCode.CHANNEL_REJECTED,
            f"refund {units} of Amazon order {refund.order.external_id} in Seller Central "
            f"(return {refund.refund_id})",
        )

    async def cancel_lines(self, cancellation: LineCancellation) -> None:
        """Items are cancelled in Seller Central too: the order needs attention with the task."""
        units = ", ".join(f"{q} x line {line}" for line, q in cancellation.lines.items())
        raise BusinessError(
            SYSTEM,
            ExceptionCode.CHANNEL_REJECTED,
            f"cancel {units} of Amazon order {cancellation.order.external_id} in Seller "
            f"Central ({cancellation.reason})",
        )
