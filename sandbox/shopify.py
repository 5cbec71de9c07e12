"""Shopify-shaped Admin GraphQL API for the operations the adapter uses (order read with
fulfillment orders, `fulfillmentCreate`, `tagsAdd`, `orderCancel`, `suggestedRefund`,
`refundCreate`, `inventorySetQuantities`), with a cost-based throttle, plus a control route
that creates storefront orders."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from canonical.money import minor_units
from sandbox.catalog import BY_ERP_ID, BY_SKU
from sandbox.push_log import PushLog
from sandbox.shopify_orders import OrderFactory

QUERY_COST = 10
ITEM_GID = "gid://shopify/InventoryItem/"
LOCATION = "gid://shopify/Location/81234567169"


def _method_type(body: dict[str, Any]) -> str:
    """The fulfillment order's `deliveryMethod.methodType`: PICK_UP for a local pickup."""
    lines = body.get("shipping_lines") or []
    pickup = any(line.get("carrier_identifier") == "local-pickup" for line in lines)
    return "PICK_UP" if pickup else "SHIPPING"


class ShopifyPlan(BaseModel):
    """The GraphQL leaky bucket of the shop's plan (Shopify: 100/200/1000/2000 points/s)."""

    maximum_available: float = Field(2000.0, gt=0)
    restore_rate: float = Field(100.0, gt=0)


class ShopifyState:
    def __init__(self, plan: ShopifyPlan | None = None) -> None:
        self.orders: dict[str, dict[str, Any]] = {}  # by order GID
        self.factory = OrderFactory()
        self.plan = plan or ShopifyPlan()
        self.bucket, self.bucket_at = self.plan.maximum_available, time.monotonic()
        # Unique across sandbox restarts, as a persisted Temporal keeps ids (refunds, jobs) too.
        self.next_id = int(time.time() * 1000) * 1000
        self.available: dict[str, int] = {}  # inventory item GID -> available
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.pushes = 0
        self.push_log = PushLog()
        self.graphql_handlers: list[Callable[[str, dict[str, Any]], dict[str, Any] | None]] = []
        self.throttled = 0  # queries answered THROTTLED: the plan's limit reached

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def add(self, body: dict[str, Any]) -> None:
        fo_id = self.new_id()
        self.orders[body["admin_graphql_api_id"]] = {
            "body": body,
            "tags": [],
            "cancelledAt": None,
            "fulfillments": [],
            "refunds": [],
            "fulfillmentOrder": {
                "id": f"gid://shopify/FulfillmentOrder/{fo_id}",
                "status": "OPEN",
                # A local pickup's shipping line has no carrier: Shopify's `local-pickup`.
                "deliveryMethod": {"methodType": _method_type(body)},
                "lineItems": [
                    {
                        "id": f"gid://shopify/FulfillmentOrderLineItem/{fo_id}{n}",
                        "remainingQuantity": line["quantity"],
                        "totalQuantity": line["quantity"],
                        "lineItem": {"id": line["admin_graphql_api_id"], "sku": line["sku"]},
                    }
                    for n, line in enumerate(body["line_items"])
                ],
            },
        }

    def spend(self) -> dict[str, Any] | None:
        """Leaky bucket of the plan: the THROTTLED body when the query cannot run."""
        now = time.monotonic()
        plan = self.plan
        self.bucket = min(
            plan.maximum_available, self.bucket + (now - self.bucket_at) * plan.restore_rate
        )
        self.bucket_at = now
        if self.bucket < QUERY_COST:
            self.throttled += 1
            return {
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {"cost": self._cost(None)},
            }
        self.bucket -= QUERY_COST
        return None

    def _cost(self, actual: int | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": QUERY_COST,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.plan.maximum_available,
                "currentlyAvailable": int(self.bucket),
                "restoreRate": self.plan.restore_rate,
            },
        }

    def view(self, order: dict[str, Any]) -> dict[str, Any]:
        fo = order["fulfillmentOrder"]
        return {
            "id": order["body"]["admin_graphql_api_id"],
            "name": order["body"]["name"],
            "cancelledAt": order["cancelledAt"],
            "tags": order["tags"],
            "fulfillments": order["fulfillments"],
            "refunds": order["refunds"],
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": fo["id"],
                        "status": fo["status"],
                        "deliveryMethod": fo["deliveryMethod"],
                        "lineItems": {"nodes": fo["lineItems"]},
                    }
                ]
            },
        }

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        for handler in self.graphql_handlers:  # the other Shopify APIs the sandbox plays
            answer = handler(query, variables)
            if answer is not None:
                return answer
        if "inventorySetQuantities(" in query:
            return {"inventorySetQuantities": self._set_quantities(variables)}
        if "productVariants(" in query:
            sku = variables["query"].removeprefix("sku:").strip("'\"")
            item = BY_SKU.get(sku)
            nodes = (
                [{"sku": sku, "inventoryItem": {"id": f"{ITEM_GID}{item.erp_item_id}"}}]
                if item
                else []
            )
            return {"productVariants": {"nodes": nodes}, "locations": {"nodes": [{"id": LOCATION}]}}
        if "fulfillmentCreate(" in query:
            return {"fulfillmentCreate": self._fulfillment_create(variables)}
        if "tagsAdd(" in query:
            order = self.orders.get(variables["id"])
            if order is None:
                return {
                    "tagsAdd": {
                        "node": None,
                        "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
                    }
                }
            order["tags"] = sorted(set(order["tags"]) | set(variables["tags"]))
            return {"tagsAdd": {"node": {"id": variables["id"]}, "userErrors": []}}
        if "suggestedRefund(" in query:
            order = self.orders.get(variables["id"])
            if order is None:
                return {"order": None}
            return {"order": {"suggestedRefund": self._suggest(order, variables["lines"])}}
        if "refundCreate(" in query:
            return {"refundCreate": self._idempotent(variables, self._refund)}
        if "orderCancel(" in query:
            return {"orderCancel": self._cancel(variables)}
        if "order(id:" in query:
            order = self.orders.get(variables["id"])
            return {"order": self.view(order) if order else None}
        raise ValueError("the sandbox does not implement this operation")

    def _fulfillment_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        spec = variables["fulfillment"]
        wanted = {
            item["id"]: item["quantity"]
            for group in spec["lineItemsByFulfillmentOrder"]
            for item in group["fulfillmentOrderLineItems"]
        }
        fo_ids = {group["fulfillmentOrderId"] for group in spec["lineItemsByFulfillmentOrder"]}
        order = next(
            (o for o in self.orders.values() if o["fulfillmentOrder"]["id"] in fo_ids), None
        )
        message = "Invalid fulfillment order line item quantity requested."
        error = {
            "fulfillment": None,
            "userErrors": [{"field": ["fulfillment"], "message": message}],
        }
        if order is None or order["cancelledAt"]:
            return error
        lines = {line["id"]: line for line in order["fulfillmentOrder"]["lineItems"]}
        if any(k not in lines or lines[k]["remainingQuantity"] < q for k, q in wanted.items()):
            return error
        for key, quantity in wanted.items():
            lines[key]["remainingQuantity"] -= quantity
        left = sum(line["remainingQuantity"] for line in lines.values())
        order["fulfillmentOrder"]["status"] = "CLOSED" if left == 0 else "IN_PROGRESS"
        fulfillment = {
            "id": f"gid://shopify/Fulfillment/{self.new_id()}",
            "status": "SUCCESS",
            "trackingInfo": [spec.get("trackingInfo") or {}],
        }
        order["fulfillments"].append(fulfillment)
        return {"fulfillment": {"id": fulfillment["id"], "status": "SUCCESS"}, "userErrors": []}

    def _idempotent(
        self, variables: dict[str, Any], mutate: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """`@idempotent(key:)`: the same key returns the first result and changes nothing."""
        key = variables.get("key")
        if not key:
            return {
                "userErrors": [
                    {
                        "code": "IDEMPOTENCY_KEY_REQUIRED",
                        "field": None,
                        "message": "@idempotent key required",
                    }
                ],
            }
        if key not in self.idempotent:
            result = mutate(variables)
            if result.get("userErrors"):
                return result
            self.idempotent[key] = result
        return self.idempotent[key]

    def _suggest(self, order: dict[str, Any], wanted: list[dict[str, Any]]) -> dict[str, Any]:
        """What refunding these line items gives back: price less discount, plus tax, pro rata."""
        body = order["body"]
        by_gid = {line["admin_graphql_api_id"]: line for line in body["line_items"]}
        amount = Decimal(0)
        for item in wanted:
            line = by_gid[item["lineItemId"]]
            share = Decimal(item["quantity"]) / Decimal(line["quantity"])
            tax = sum((Decimal(t["price"]) for t in line.get("tax_lines") or []), Decimal(0))
            gross = Decimal(line["price"]) * line["quantity"] - Decimal(line["total_discount"])
            amount += ((gross + tax) * share).quantize(
                Decimal(1).scaleb(-minor_units(body["currency"]))
            )
        money = {"amount": str(amount), "currencyCode": body["currency"]}
        presentment = body.get("presentment_currency") or body["currency"]
        paid = {"amount": str(amount), "currencyCode": presentment}  # one rate: the sandbox's
        return {
            "amountSet": {"shopMoney": money, "presentmentMoney": paid},
            "suggestedTransactions": [
                {
                    "gateway": "shopify_payments",
                    "kind": "SUGGESTED_REFUND",
                    "parentTransaction": {"id": f"gid://shopify/OrderTransaction/{body['id']}"},
                    "amountSet": {"shopMoney": money, "presentmentMoney": paid},
                }
            ],
        }

    def _refund(self, variables: dict[str, Any]) -> dict[str, Any]:
        """A refund that cancels unfulfilled units (restock CANCEL) takes them off the
        fulfillment order; a refund of returned units (RETURN, NO_RESTOCK) needs them fulfilled."""
        spec = variables["input"]
        order = self.orders.get(spec["orderId"])
        if order is None:
            return {
                "refund": None,
                "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
            }
        presentment = order["body"].get("presentment_currency") or order["body"]["currency"]
        if spec.get("currency", presentment) != presentment:
            return {
                "refund": None,
                "userErrors": [
                    {"field": ["currency"], "message": f"Currency must be {presentment}"}
                ],
            }
        remaining = {
            item["lineItem"]["id"]: item for item in order["fulfillmentOrder"]["lineItems"]
        }
        refunded: dict[str, int] = {}
        for refund in order["refunds"]:
            for item in refund["refundLineItems"]:
                refunded[item["lineItemId"]] = (
                    refunded.get(item["lineItemId"], 0) + item["quantity"]
                )
        for item in spec.get("refundLineItems") or []:
            line = remaining.get(item["lineItemId"])
            open_units = line["remainingQuantity"] if line else 0
            total = line["totalQuantity"] if line else 0
            if item.get("restockType") == "CANCEL":
                fits = item["quantity"] <= open_units
            else:
                fulfilled = total - open_units
                fits = item["quantity"] <= fulfilled - refunded.get(item["lineItemId"], 0)
            if line is None or not fits:
                what = "purchased" if item.get("restockType") == "CANCEL" else "fulfilled"
                message = f"Quantity cannot refund more items than were {what}"
                return {
                    "refund": None,
                    "userErrors": [{"field": ["refundLineItems"], "message": message}],
                }
        for item in spec.get("refundLineItems") or []:
            if item.get("restockType") == "CANCEL":
                remaining[item["lineItemId"]]["remainingQuantity"] -= item["quantity"]
        if (
            all(line["remainingQuantity"] == 0 for line in remaining.values())
            and not order["fulfillments"]
        ):
            order["fulfillmentOrder"]["status"] = "CLOSED"
        amount = sum((Decimal(t["amount"]) for t in spec.get("transactions") or []), Decimal(0))
        refund = {
            "id": f"gid://shopify/Refund/{self.new_id()}",
            "note": spec.get("note"),
            "refundLineItems": spec.get("refundLineItems") or [],
            "totalRefundedSet": {
                "shopMoney": {"amount": str(amount), "currencyCode": order["body"]["currency"]}
            },
        }
        order["refunds"].append(refund)
        return {
            "refund": {"id": refund["id"], "totalRefundedSet": refund["totalRefundedSet"]},
            "userErrors": [],
        }

    def _set_quantities(self, variables: dict[str, Any]) -> dict[str, Any]:
        return self._idempotent(variables, self._apply_quantities)

    def _apply_quantities(self, variables: dict[str, Any]) -> dict[str, Any]:
        quantities = variables["input"]["quantities"]
        known = {f"{ITEM_GID}{item.erp_item_id}" for item in BY_SKU.values()}
        for n, quantity in enumerate(quantities):
            if "changeFromQuantity" not in quantity or quantity["inventoryItemId"] not in known:
                return {
                    "inventoryAdjustmentGroup": None,
                    "userErrors": [
                        {
                            "code": "INVALID",
                            "field": ["input", "quantities", str(n)],
                            "message": "unknown inventory item or missing changeFromQuantity",
                        }
                    ],
                }
        for quantity in quantities:
            self.available[quantity["inventoryItemId"]] = quantity["quantity"]
            item = BY_ERP_ID[quantity["inventoryItemId"].removeprefix(ITEM_GID)]
            self.push_log.record(item.sku, quantity["quantity"])
        self.pushes += 1
        result = {
            "inventoryAdjustmentGroup": {
                "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": "Inventory correction",
            },
            "userErrors": [],
        }
        return result

    def _cancel(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["orderId"])
        problem = (
            "Order does not exist" if order is None
            else "Order has already been cancelled" if order["cancelledAt"]
            else "Cannot cancel an order with fulfillments" if order["fulfillments"]
            else None
        )  # fmt: skip
        if order is None or problem:
            return {
                "job": None,
                "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": problem, "code": "INVALID"}
                ],
            }
        order["cancelledAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        order["cancelReason"] = variables.get("reason")
        order["staffNote"] = variables.get("staffNote")
        return {
            "job": {"id": f"gid://shopify/Job/{self.new_id()}", "done": False},
            "orderCancelUserErrors": [],
        }


class NewOrders(BaseModel):
    count: int = Field(1, ge=1, le=1000)
    skus: list[tuple[str, int]] | None = Field(None, description="fixed lines (sku, quantity)")
    customer: int | None = Field(None, ge=0, description="one of the sandbox's customers")
    pickup_location: str | None = Field(
        None, description="local pickup at this Shopify location (its name), not shipped"
    )


class ReturnedLine(BaseModel):
    line_item_id: int
    quantity: int = Field(gt=0)


class MerchantReturn(BaseModel):
    """The merchant refunds goods coming back (restock type `return`) in the Shopify admin."""

    lines: list[ReturnedLine] = Field(min_length=1)
    note: str = ""


def refund_webhook_body(state: ShopifyState, gid: str, spec: MerchantReturn) -> dict[str, Any]:
    """Refund in the sandbox shop, and the REST `refunds/create` body Shopify then sends."""
    order = state.orders[gid]
    body = order["body"]
    by_id = {line["id"]: line for line in body["line_items"]}
    wanted = [
        {"lineItemId": by_id[line.line_item_id]["admin_graphql_api_id"], "quantity": line.quantity}
        for line in spec.lines
    ]
    money = state._suggest(order, wanted)["amountSet"]["shopMoney"]
    made = state._refund(
        {
            "input": {
                "orderId": gid,
                "note": spec.note,
                "refundLineItems": [{**item, "restockType": "RETURN"} for item in wanted],
                "transactions": [{"amount": money["amount"], "kind": "REFUND"}],
            }
        }
    )
    if made["userErrors"]:
        raise ValueError(made["userErrors"][0]["message"])
    refund_id = int(made["refund"]["id"].rsplit("/", 1)[1])
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "id": refund_id,
        "admin_graphql_api_id": made["refund"]["id"],
        "order_id": body["id"],
        "created_at": now,
        "processed_at": now,
        "note": spec.note,
        "restock": True,
        "refund_line_items": [
            {
                "id": state.new_id(),
                "line_item_id": line.line_item_id,
                "quantity": line.quantity,
                "restock_type": "return",
                "line_item": {"id": line.line_item_id, "sku": by_id[line.line_item_id]["sku"]},
            }
            for line in spec.lines
        ],
        "transactions": [
            {
                "id": state.new_id(),
                "order_id": body["id"],
                "kind": "refund",
                "gateway": "shopify_payments",
                "status": "success",
                "amount": money["amount"],
                "currency": money["currencyCode"],
                "created_at": now,
            }
        ],
    }


def router(state: ShopifyState) -> APIRouter:
    api = APIRouter(prefix="/shopify/{shop}/admin/api/{version}")

    @api.post("/graphql.json")
    async def graphql(shop: str, version: str, request: Request) -> Response:
        throttled = state.spend()
        if throttled:
            return JSONResponse(throttled)
        body = await request.json()
        try:
            data = state.execute(body.get("query", ""), body.get("variables") or {})
        except (KeyError, ValueError) as exc:
            return JSONResponse({"errors": [{"message": f"Sandbox: {exc!s}"}]}, status_code=200)
        return JSONResponse({"data": data, "extensions": {"cost": state._cost(QUERY_COST)}})

    return api


def control_router(state: ShopifyState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/shopify", tags=["sandbox control"])

    @api.post("/orders")
    async def create_orders(spec: NewOrders) -> list[dict[str, Any]]:
        """Place storefront orders; returns their `orders/create` webhook bodies."""
        bodies = [
            state.factory.make(spec.skus, spec.customer, pickup=spec.pickup_location)
            for _ in range(spec.count)
        ]
        for body in bodies:
            state.add(body)
        return bodies

    @api.post("/orders/{order_id}/returns")
    async def merchant_return(order_id: int, spec: MerchantReturn) -> Response:
        """The merchant refunds returned goods; returns the `refunds/create` webhook body."""
        gid = f"gid://shopify/Order/{order_id}"
        if gid not in state.orders:
            return JSONResponse({"detail": "no such order"}, status_code=404)
        try:
            return JSONResponse(refund_webhook_body(state, gid, spec))
        except (KeyError, ValueError) as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)

    @api.put("/plan")
    async def set_plan(plan: ShopifyPlan) -> ShopifyPlan:
        state.plan = plan
        state.bucket = plan.maximum_available
        return plan

    @api.get("/inventory")
    async def inventory() -> dict[str, Any]:
        by_gid = {f"{ITEM_GID}{item.erp_item_id}": sku for sku, item in BY_SKU.items()}
        return {
            "available": {by_gid[g]: q for g, q in state.available.items()},
            "pushes": state.pushes,
        }

    @api.post("/orders/import")
    async def import_order(body: dict[str, Any]) -> dict[str, Any]:
        """Register an order given in its `orders/create` shape (e.g. a contract example)."""
        state.add(body)
        return state.view(state.orders[body["admin_graphql_api_id"]])

    @api.get("/orders/{order_id}")
    async def read_order(order_id: str) -> Response:
        order = state.orders.get(f"gid://shopify/Order/{order_id}")
        if order is None:
            return JSONResponse({"detail": "unknown order"}, status_code=404)
        return JSONResponse(state.view(order))

    return api
