"""Marketplace port over the Shopify Admin GraphQL API, and the mapping of Shopify's REST-shaped
webhook order into the canonical `Order`."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, RateLimitedError
from adapters.http import PartnerHttp
from adapters.payload import PayloadError, reads_payload
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
    ShipmentLine,
)
from canonical.cancellation import LineCancellation
from canonical.correction import OrderCorrection
from canonical.customer import ConsentState, MarketingConsent
from canonical.inventory import AvailableToSell
from canonical.money import total
from canonical.pickup import Handover, PickLine
from canonical.privacy import PrivacyRequest, PrivacyRequestKind, PrivacySubject
from canonical.returns import ChannelRefund, ReturnLine, ReturnRequest, ReturnSource


class ShopifySettings(PartnerSettings):
    """Shopify Admin GraphQL: SHOPIFY_ADMIN_URL, SHOPIFY_ACCESS_TOKEN, SHOPIFY_API_VERSION."""

    secret_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    sandbox_path: ClassVar[str] = "/shopify/northwick-candle-co.myshopify.com"
    configured_url: str | None = Field(None, validation_alias="SHOPIFY_ADMIN_URL")
    access_token: str = Field("shpat_sandbox", validation_alias="SHOPIFY_ACCESS_TOKEN")
    api_version: str = Field("2026-01", validation_alias="SHOPIFY_API_VERSION")


SYSTEM = "shopify"

# --- inbound: webhook payload -> canonical -------------------------------------------------


def _money(value: Any, currency: str) -> Money:
    return Money(amount=Decimal(str(value or "0")), currency=currency)


def _sum(allocations: list[dict[str, Any]], currency: str) -> Money:
    return total([_money(a.get("amount"), currency) for a in allocations], currency)


def _address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    name = raw.get("name") or " ".join(
        part for part in (raw.get("first_name"), raw.get("last_name")) if part
    )
    return Address(
        name=name,
        company=raw.get("company"),
        line1=raw.get("address1") or "",
        line2=raw.get("address2"),
        city=raw.get("city") or "",
        region=raw.get("province_code"),
        postal_code=raw.get("zip"),
        country=raw.get("country_code") or "",
        phone=raw.get("phone"),
    )


def pickup_store_of(body: dict[str, Any], pickup_locations: Mapping[str, str]) -> str | None:
    """The store of a local pickup order. Shopify's REST order does not say "pickup" (its
    `delivery_category` is gone since 2023-07): a pickup shipping line carries the pickup
    location's name as `code`, so the merchant's location names are mapped to our stores."""
    for line in body.get("shipping_lines") or []:
        store = pickup_locations.get(str(line.get("code") or ""))
        if store:
            return store
    return None


def corrected_order(body: dict[str, Any], correction: OrderCorrection) -> dict[str, Any]:
    """The `orders/create` body with support's correction in Shopify's own fields."""
    body = copy.deepcopy(body)
    if correction.ship_to:
        a = correction.ship_to
        body["shipping_address"] = {
            "name": a.name, "company": a.company, "address1": a.line1, "address2": a.line2,
            "city": a.city, "province_code": a.region, "zip": a.postal_code,
            "country_code": a.country, "phone": a.phone,
        }  # fmt: skip
    items = {str(item.get("id")): item for item in body.get("line_items") or []}
    for line_id, sku in correction.skus.items():
        if line_id not in items:
            raise PayloadError(f"the order has no line {line_id}; its lines: {', '.join(items)}")
        items[line_id]["sku"] = sku
    return body


@reads_payload("Shopify order")
def order_from_webhook(
    body: dict[str, Any], pickup_locations: Mapping[str, str] | None = None
) -> Order:
    """Shopify `orders/create` body -> canonical order. Discounts come from each line's
    `discount_allocations` (order-level discounts are allocated there too), so the canonical
    order never double-counts them; shipping is net of its own allocations. A shipping line
    at one of `pickup_locations` (Shopify location name -> store node) makes it a pickup."""
    currency = body["currency"]
    customer = body.get("customer") or {}
    lines = []
    for item in body["line_items"]:
        discount = _sum(item.get("discount_allocations") or [], currency)
        tax = total(
            [_money(t.get("price"), currency) for t in item.get("tax_lines") or []], currency
        )
        lines.append(
            OrderLine(
                line_id=str(item["id"]),
                sku=item.get("sku") or "",
                title=item.get("name") or item.get("title") or "",
                quantity=item.get("current_quantity") or item["quantity"],
                unit_price=_money(item["price"], currency),
                discount=None if discount.is_zero() else discount,
                tax=None if tax.is_zero() else tax,
            )
        )
    shipping = total(
        [
            _money(s.get("price"), currency) - _sum(s.get("discount_allocations") or [], currency)
            for s in body.get("shipping_lines") or []
        ],
        currency,
    )
    pickup_store = pickup_store_of(body, pickup_locations or {})
    return Order(
        channel=Channel.SHOPIFY,
        external_id=str(body["id"]),
        order_number=body.get("name") or str(body.get("order_number", body["id"])),
        channel_ref=body.get("admin_graphql_api_id") or f"gid://shopify/Order/{body['id']}",
        placed_at=body["created_at"],
        currency=currency,
        customer=Customer(
            external_id=str(customer["id"]) if customer.get("id") else None,
            email=body.get("email") or customer.get("email"),
            name=" ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p),
            phone=body.get("phone") or customer.get("phone"),
            email_consent=_consent(customer.get("email_marketing_consent")),
            sms_consent=_consent(customer.get("sms_marketing_consent")),
        ),
        ship_to=_address(body.get("shipping_address")),
        fulfillment=FulfillmentMethod.PICKUP if pickup_store else FulfillmentMethod.SHIP,
        pickup_store=pickup_store,
        lines=lines,
        shipping=shipping,
        tax_total=_money(body.get("total_tax"), currency),
        taxes_included=bool(body.get("taxes_included")),
        total=_money(body["total_price"], currency),
    )


@reads_payload("Shopify refund")
def return_from_refund(body: dict[str, Any]) -> ReturnRequest | None:
    """A refund whose line items were restocked as a return (`restock_type` "return") is a
    return the merchant already paid back; other refunds (cancel, no restock) are not."""
    lines = [
        ReturnLine(
            line_id=str(item["line_item_id"]),
            sku=(item.get("line_item") or {}).get("sku") or "",
            quantity=int(item["quantity"]),
            reason=body.get("note") or "",
        )
        for item in body.get("refund_line_items") or []
        if item.get("restock_type") == "return" and int(item.get("quantity") or 0) > 0
    ]
    if not lines:
        return None
    return ReturnRequest(
        return_id=str(body["id"]),
        channel=Channel.SHOPIFY,
        external_order_id=str(body["order_id"]),
        source=ReturnSource.CHANNEL,
        lines=lines,
        requested_at=body.get("created_at") or body.get("processed_at"),
        refunded_by_channel=body.get("admin_graphql_api_id") or str(body["id"]),
    )


# Shopify's mandatory privacy (GDPR) topics and what each asks.
PRIVACY_TOPICS = {
    "customers/data_request": PrivacyRequestKind.DATA_REQUEST,
    "customers/redact": PrivacyRequestKind.CUSTOMER_REDACT,
    "shop/redact": PrivacyRequestKind.SHOP_REDACT,
}


def privacy_subject(body: dict[str, Any]) -> PrivacySubject:
    """Who a privacy request is about: its `customer`'s e-mail and phone (either may be
    missing; a shop redaction names nobody)."""
    customer = body.get("customer") or {}
    return PrivacySubject(email=customer.get("email") or None, phone=customer.get("phone") or None)


@reads_payload("Shopify privacy request")
def privacy_request_from_webhook(
    topic: str, body: dict[str, Any], delivery_id: str, received_at: datetime
) -> PrivacyRequest:
    """`customers/data_request` (`orders_requested`), `customers/redact` (`orders_to_redact`)
    or `shop/redact`: by reference only, who they are stays in the delivery."""
    orders = body.get("orders_requested") or body.get("orders_to_redact") or []
    return PrivacyRequest(
        kind=PRIVACY_TOPICS[topic],
        channel=Channel.SHOPIFY,
        shop=str(body["shop_domain"]),
        delivery_id=delivery_id,
        subject_ref=privacy_subject(body).subject_ref,
        order_ids=[str(order_id) for order_id in orders],
        received_at=received_at,
    )


def _line_items_to_fulfil(
    current: dict[str, Any], lines: Sequence[ShipmentLine | PickLine], *, pickup: bool
) -> list[dict[str, Any]]:
    """`lineItemsByFulfillmentOrder` for these order lines, from the open fulfillment orders
    of a pickup (`PICK_UP`) or of a shipment (any other method)."""
    wanted = {line.line_id: line.quantity for line in lines}
    by_fo = []
    for fo in current["fulfillmentOrders"]["nodes"]:
        method = (fo.get("deliveryMethod") or {}).get("methodType")
        if fo["status"] not in ("OPEN", "IN_PROGRESS") or (method == "PICK_UP") != pickup:
            continue
        items = []
        for node in fo["lineItems"]["nodes"]:
            line_id = gid_id(node["lineItem"]["id"])
            quantity = min(wanted.get(line_id, 0), node["remainingQuantity"])
            if quantity > 0:
                items.append({"id": node["id"], "quantity": quantity})
                wanted[line_id] -= quantity
        if items:
            by_fo.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
    return by_fo


# --- outbound: GraphQL Admin API -----------------------------------------------------------

FULFILLMENT_ORDERS = """
query FOs($id: ID!) { order(id: $id) { id name cancelledAt
  fulfillments(first: 50) { id trackingInfo(first: 5) { number } }
  fulfillmentOrders(first: 10) { nodes { id status deliveryMethod { methodType }
    lineItems(first: 50) {
    nodes { id remainingQuantity totalQuantity lineItem { id sku } } } } } } }
"""
FULFILLMENT_CREATE = """
mutation fulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status } userErrors { field message } } }
"""
TAGS_ADD = """
mutation tagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }
"""
ORDER_CANCEL = """
mutation orderCancel($orderId: ID!, $reason: OrderCancelReason!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason,
              refundMethod: {originalPaymentMethodsRefund: true},
              restock: true, notifyCustomer: true, staffNote: $staffNote) {
    job { id done } orderCancelUserErrors { field message code } } }
"""
ORDER_STATE = "query O($id: ID!) { order(id: $id) { id cancelledAt } }"
SUGGESTED_REFUND = """
query Suggest($id: ID!, $lines: [RefundLineItemInput!]) { order(id: $id) {
  suggestedRefund(refundLineItems: $lines) { amountSet { shopMoney { amount currencyCode } }
    suggestedTransactions { gateway parentTransaction { id }
      amountSet { presentmentMoney { amount currencyCode } } } } } }
"""
REFUND_CREATE = """
mutation Refund($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message } } }
"""
INVENTORY_ITEM = """
query Item($query: String!) { productVariants(first: 1, query: $query) {
  nodes { sku inventoryItem { id } } } locations(first: 1) { nodes { id } } }
"""
SET_AVAILABLE = """
mutation SetAvail($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { createdAt reason } userErrors { code field message } } }
"""


def _consent(raw: dict[str, Any] | None) -> MarketingConsent | None:
    """Shopify's `email_marketing_consent` / `sms_marketing_consent` of the order's customer
    (None when absent, redacted or a state we do not know)."""
    if not raw or raw.get("state") not in {state.value for state in ConsentState}:
        return None
    collected = raw.get("consent_collected_from") or ""
    return MarketingConsent(
        state=ConsentState(raw["state"]),
        opt_in_level=raw.get("opt_in_level"),
        updated_at=raw.get("consent_updated_at"),
        source="shopify" + (f" ({collected.lower()})" if collected else ""),
    )


def throttle_delay(body: dict[str, Any]) -> float:
    """Seconds until the leaky bucket holds enough points for the rejected query."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    needed = float(cost.get("requestedQueryCost") or 0) - float(
        status.get("currentlyAvailable") or 0
    )
    rate = float(status.get("restoreRate") or 50)
    return max(1.0, math.ceil(max(needed, 0) / rate))


def gid_id(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


class ShopifyMarketplace:
    def __init__(self, admin_url: str, access_token: str, api_version: str) -> None:
        self._http = PartnerHttp(
            SYSTEM,
            f"{admin_url.rstrip('/')}/admin/api/{api_version}",
            headers={"X-Shopify-Access-Token": access_token},
        )
        self._items: dict[str, tuple[str, str]] = {}
        self.inventory_batch = 250  # quantities per inventorySetQuantities
        self.inventory_bulk_from = 0  # no bulk path of its own

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.request(
            "POST", "/graphql.json", json={"query": query, "variables": variables}
        )
        body: dict[str, Any] = response.json()
        errors = body.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            raise RateLimitedError(SYSTEM, "THROTTLED", throttle_delay(body))
        if errors or not response.is_success:
            message = "; ".join(e.get("message", "") for e in errors) or response.text[:200]
            raise BusinessError(SYSTEM, ExceptionCode.CHANNEL_REJECTED, message)
        data: dict[str, Any] = body["data"]
        return data

    @staticmethod
    def _user_errors(payload: dict[str, Any], key: str = "userErrors") -> None:
        errors = payload.get(key) or []
        if errors:
            message = "; ".join(e.get("message", "") for e in errors)
            raise BusinessError(SYSTEM, ExceptionCode.CHANNEL_REJECTED, message)

    async def _order(self, order: Order) -> dict[str, Any]:
        data = await self.graphql(FULFILLMENT_ORDERS, {"id": order.channel_ref})
        if data.get("order") is None:
            raise BusinessError(
                SYSTEM, ExceptionCode.CHANNEL_REJECTED, f"order {order.channel_ref} not found"
            )
        result: dict[str, Any] = data["order"]
        return result

    async def acknowledge(self, order: Order) -> None:
        data = await self.graphql(
            TAGS_ADD, {"id": order.channel_ref, "tags": ["orchestrator-accepted"]}
        )
        self._user_errors(data["tagsAdd"])

    async def confirm_shipment(self, order: Order, shipment: Shipment) -> str:
        """`fulfillmentCreate` is not idempotent: re-read the order first and skip a
        shipment whose tracking number is already on a fulfillment."""
        current = await self._order(order)
        for fulfillment in current.get("fulfillments") or []:
            numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or []}
            if shipment.tracking_number in numbers:
                return str(fulfillment["id"])
        by_fo = _line_items_to_fulfil(current, shipment.lines, pickup=False)
        if not by_fo:
            raise BusinessError(
                SYSTEM,
                ExceptionCode.CHANNEL_REJECTED,
                f"nothing left to fulfil on {order.order_number} "
                f"for shipment {shipment.shipment_id}",
            )
        tracking = {"company": shipment.carrier.upper(), "number": shipment.tracking_number}
        if shipment.tracking_url:
            tracking["url"] = shipment.tracking_url
        return await self._fulfil(
            {"notifyCustomer": True, "trackingInfo": tracking, "lineItemsByFulfillmentOrder": by_fo}
        )

    async def confirm_collected(self, order: Order, handover: Handover) -> str:
        """Local pickup: the pickup location's fulfillment order (`PICK_UP`) is fulfilled with
        what the customer took, as Shopify's "mark as picked up" does. Re-read first: once
        nothing of it is left to fulfil (a retry after a lost answer), its fulfillment is it."""
        current = await self._order(order)
        by_fo = _line_items_to_fulfil(current, handover.lines, pickup=True)
        if by_fo:
            return await self._fulfil(
                {"notifyCustomer": False, "lineItemsByFulfillmentOrder": by_fo}
            )
        fulfillments = current.get("fulfillments") or []
        if not fulfillments:
            raise BusinessError(
                SYSTEM,
                ExceptionCode.CHANNEL_REJECTED,
                f"{order.order_number} has no pickup left to fulfil at {handover.store}",
            )
        return str(fulfillments[-1]["id"])

    async def _fulfil(self, fulfillment: dict[str, Any]) -> str:
        data = await self.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment})
        payload = data["fulfillmentCreate"]
        self._user_errors(payload)
        return str(payload["fulfillment"]["id"])

    async def cancel(self, order: Order, reason: str, by_buyer: bool = False) -> None:
        data = await self.graphql(ORDER_STATE, {"id": order.channel_ref})
        if data.get("order") is None or data["order"].get("cancelledAt"):
            return
        why = "CUSTOMER" if by_buyer else "OTHER"  # OrderCancelReason
        data = await self.graphql(
            ORDER_CANCEL, {"orderId": order.channel_ref, "reason": why, "staffNote": reason}
        )
        self._user_errors(data["orderCancel"], "orderCancelUserErrors")

    async def cancel_lines(self, cancellation: LineCancellation) -> None:
        """A refund with restock type CANCEL takes the units off the order and pays them back
        as Shopify suggests (`@idempotent` on the cancellation id)."""
        await self._refund(
            cancellation.order,
            cancellation.lines,
            restock="CANCEL",
            key=cancellation.cancellation_id,
            note=cancellation.reason,
        )

    async def refund(self, refund: ChannelRefund) -> str:
        """Returned units paid back as Shopify suggests; restocking is the inventory
        service's (NO_RESTOCK). `@idempotent` on the refund id: one refund per return."""
        return await self._refund(
            refund.order,
            refund.lines,
            restock="NO_RESTOCK",
            key=refund.refund_id,
            note=refund.reason,
        )

    async def _refund(
        self, order: Order, lines: dict[str, int], *, restock: str, key: str, note: str
    ) -> str:
        items = [
            {"lineItemId": f"gid://shopify/LineItem/{line_id}", "quantity": quantity}
            for line_id, quantity in lines.items()
            if quantity > 0
        ]
        data = await self.graphql(SUGGESTED_REFUND, {"id": order.channel_ref, "lines": items})
        if data.get("order") is None:
            raise BusinessError(
                SYSTEM, ExceptionCode.CHANNEL_REJECTED, f"order {order.channel_ref} not found"
            )
        suggested = data["order"]["suggestedRefund"]
        # In the customer's (presentment) currency, named on the refund as Shopify requires
        # when it is not the shop's.
        paid = [t["amountSet"]["presentmentMoney"] for t in suggested["suggestedTransactions"]]
        transactions = [
            {
                "orderId": order.channel_ref,
                "parentId": t["parentTransaction"]["id"],
                "gateway": t["gateway"],
                "kind": "REFUND",
                "amount": money["amount"],
            }
            for t, money in zip(suggested["suggestedTransactions"], paid, strict=True)
        ]
        data = await self.graphql(
            REFUND_CREATE,
            {
                "key": key,
                "input": {
                    "orderId": order.channel_ref,
                    "note": note,
                    "notify": True,
                    "refundLineItems": [item | {"restockType": restock} for item in items],
                    "currency": paid[0]["currencyCode"] if paid else order.currency,
                    "transactions": transactions,
                },
            },
        )
        payload = data["refundCreate"]
        self._user_errors(payload)
        return str(payload["refund"]["id"])

    async def _inventory_item(self, sku: str) -> tuple[str, str] | None:
        """(inventory item GID, location GID) of a SKU, looked up once; None when unlisted."""
        if sku not in self._items:
            data = await self.graphql(INVENTORY_ITEM, {"query": f"sku:'{sku}'"})
            variants = data["productVariants"]["nodes"]
            if not variants:
                return None
            location = data["locations"]["nodes"][0]["id"]
            self._items[sku] = (variants[0]["inventoryItem"]["id"], location)
        return self._items[sku]

    async def set_available(self, updates: list[AvailableToSell]) -> list[str]:
        """One `inventorySetQuantities` for the batch, `@idempotent` on its push id; no
        compare-and-swap (`changeFromQuantity: null`): our inventory service is the truth."""
        quantities, unlisted = [], []
        for update in updates:
            found = await self._inventory_item(update.sku)
            if found is None:
                unlisted.append(update.sku)
                continue
            item, location = found
            quantities.append(
                {
                    "inventoryItemId": item,
                    "locationId": location,
                    "quantity": update.quantity,
                    "changeFromQuantity": None,
                }
            )
        if quantities:
            push_id = updates[0].push_id
            data = await self.graphql(
                SET_AVAILABLE,
                {
                    "key": push_id,
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "referenceDocumentUri": f"gid://retail-orchestrator/InventoryPush/{push_id}",
                        "quantities": quantities,
                    },
                },
            )
            self._user_errors(data["inventorySetQuantities"])
        return unlisted

    async def aclose(self) -> None:
        await self._http.aclose()


# --- webhook signatures -------------------------------------------------------------------


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
