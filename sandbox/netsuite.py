"""NetSuite-shaped ERP: REST record API for sales orders (upsert by `eid:`, close lines,
`!transform/itemFulfillment`, `!transform/invoice`), credit memos, inventory adjustments, cash
sales, journal entries (refused unless balanced) and the SuiteQL forms the adapter sends. Its
stock book is kept per location: the two warehouses open with the catalogue's stock; a
fulfillment line (or a cash sale) takes from its location, the order's when it names none; an
adjustment adds to or takes from its location; a credit memo moves no stock (returned goods
come back through an adjustment)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from sandbox.catalog import BY_ERP_ID, BY_SKU, CATALOG, INITIAL_STOCK
from sandbox.vendor_errors import VendorError

# The account's currency records (internal id by ISO code), as SuiteQL's `currency` table.
CURRENCIES = {"USD": "1", "GBP": "2", "CAD": "3", "EUR": "4", "AUD": "5", "JPY": "6", "HKD": "7",
              "KWD": "8"}  # fmt: skip
STATUS_NAMES = {"B": "Pending Fulfillment", "F": "Pending Billing", "G": "Billed", "H": "Closed"}
BILLABLE = {"B", "F"}
RECORD = "/services/rest/record/v1"
WAREHOUSE_LOCATIONS = ("3", "4")  # the account's stocked warehouses (East, West)


def error(status: int, code: str, detail: str, path: str | None = None) -> JSONResponse:
    item = {"detail": detail, "o:errorCode": code} | ({"o:errorPath": path} if path else {})
    titles = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
    return JSONResponse(
        {
            "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": titles.get(status, "Error"),
            "status": status,
            "o:errorDetails": [item],
        },
        status_code=status,
    )


def invalid_item(lines: list[dict[str, Any]], field: str) -> JSONResponse | None:
    """NetSuite's answer to a line naming an item the account does not have; None if none."""
    for n, line in enumerate(lines):
        item_id = str((line.get("item") or {}).get("id"))
        if item_id not in BY_ERP_ID:
            return error(
                400,
                "INVALID_CONTENT",
                "Error while accessing resource: You have entered an Invalid Field Value "
                f"{item_id} for the following field: item",
                f"{field}[{n}].item",
            )
    return None


def location_of(reference: dict[str, Any] | None, default: str = WAREHOUSE_LOCATIONS[0]) -> str:
    """The location a record or line names, else `default` (the order's, or the first)."""
    return str((reference or {}).get("id", default))


class NetSuiteState:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}  # by externalId
        self.invoices: dict[str, dict[str, Any]] = {}
        self.cash_sales: dict[str, dict[str, Any]] = {}  # by externalId
        self.credit_memos: dict[str, dict[str, Any]] = {}  # by externalId
        self.adjustments: dict[str, dict[str, Any]] = {}  # by externalId
        self.journals: dict[str, dict[str, Any]] = {}  # by externalId
        self.customers: dict[str, dict[str, Any]] = {}  # by externalId
        # location -> item id -> on hand; other locations get a balance when stock moves there
        self.stock: dict[str, dict[str, int]] = {
            location: {item.erp_item_id: INITIAL_STOCK for item in CATALOG}
            for location in WAREHOUSE_LOCATIONS
        }
        self.next_id = 88200
        # More SuiteQL forms (the item master's): each answers its rows, or None
        self.suiteql_handlers: list[Callable[[str], list[dict[str, Any]] | None]] = []

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def move(self, location: str, item_id: str, units: int) -> None:
        on_hand = self.stock.setdefault(location, {})
        on_hand[item_id] = on_hand.get(item_id, 0) + units


class Count(BaseModel):
    on_hand: int


class Received(BaseModel):
    received: int


def router(state: NetSuiteState) -> APIRouter:
    api = APIRouter(prefix="/netsuite")

    def existing(external_id: str) -> dict[str, Any]:
        record = state.orders.get(external_id)
        if record is None:
            raise VendorError(
                error(404, "NONEXISTENT_ID", f"Record eid:{external_id} was not found.")
            )
        return record

    def by_record_id(record_id: str) -> dict[str, Any]:
        record = next((o for o in state.orders.values() if o["id"] == record_id), None)
        if record is None:
            raise VendorError(error(404, "NONEXISTENT_ID", f"Record {record_id} was not found."))
        return record

    @api.post("/services/rest/query/v1/suiteql")
    async def suiteql(request: Request, limit: int = 1000, offset: int = 0) -> Response:
        """A page of the query's rows: at most `limit` (1000, as NetSuite) from `offset`."""
        query = (await request.json()).get("q", "")
        rows: list[dict[str, Any]]
        answers = (handle(query) for handle in state.suiteql_handlers)
        if (found := next((a for a in answers if a is not None), None)) is not None:
            rows = found
        elif m := re.search(r"FROM item WHERE itemid IN \((.*)\)", query, re.I):
            skus = [s.replace("''", "'") for s in re.findall(r"'((?:[^']|'')*)'", m.group(1))]
            rows = [{"id": BY_SKU[s].erp_item_id, "itemid": s} for s in skus if s in BY_SKU]
        elif m := re.search(r"FROM currency WHERE symbol IN \((.*)\)", query, re.I):
            codes = re.findall(r"'([A-Z]{3})'", m.group(1))
            rows = [{"id": CURRENCIES[c], "symbol": c} for c in codes if c in CURRENCIES]
        elif m := re.search(r"type = 'CustInvc' AND createdfrom = (\d+)", query, re.I):
            rows = [{"id": i} for i, inv in state.invoices.items() if inv["createdFrom"] == m[1]]
        elif m := re.search(r"FROM inventorybalance .*itemid IN \((.*)\)", query, re.I):
            skus = [s.replace("''", "'") for s in re.findall(r"'((?:[^']|'')*)'", m.group(1))]
            rows = [
                {"itemid": sku, "location": location, "quantityonhand": n, "quantityavailable": n}
                for location, on_hand in state.stock.items()
                for sku in skus
                if sku in BY_SKU and (n := on_hand.get(BY_SKU[sku].erp_item_id)) is not None
            ]
        else:
            return error(400, "INVALID_PARAMETER", "Sandbox SuiteQL does not support this query")
        limit = max(1, min(limit, 1000))
        items = [{"links": []} | row for row in rows[offset : offset + limit]]
        return JSONResponse(
            {
                "links": [],
                "count": len(items),
                "hasMore": offset + len(items) < len(rows),
                "items": items,
                "offset": offset,
                "totalResults": len(rows),
            }
        )

    @api.put(RECORD + "/salesOrder/eid:{external_id}")
    async def upsert(external_id: str, request: Request) -> Response:
        body = await request.json()
        lines = body.get("item", {}).get("items", [])
        if refusal := invalid_item(lines, "item.items"):
            return refusal
        if not lines:
            return error(
                400, "USER_ERROR", "You must enter at least one line item for this transaction."
            )
        existing = state.orders.get(external_id)
        if existing and existing["orderStatus"]["id"] != "B":
            return error(400, "USER_ERROR", "This transaction can no longer be edited.")
        record_id = existing["id"] if existing else state.new_id()
        state.orders[external_id] = {
            **body,
            "id": record_id,
            "externalId": external_id,
            "tranId": existing["tranId"] if existing else f"SO{record_id}",
            "orderStatus": {"id": "B", "refName": STATUS_NAMES["B"]},
            "item": {
                "items": [
                    {
                        "line": n + 1,
                        "isClosed": False,
                        **line,
                        "item": {**line["item"], "refName": BY_ERP_ID[str(line["item"]["id"])].sku},
                    }
                    for n, line in enumerate(lines)
                ]
            },
        }
        location = f"{request.base_url}netsuite{RECORD}/salesOrder/{record_id}"
        return Response(status_code=204, headers={"Location": location})

    def upserted(
        records: dict[str, dict[str, Any]],
        record_type: str,
        external_id: str,
        body: dict[str, Any],
        request: Request,
    ) -> tuple[bool, Response]:
        """The record kept under its external id (its first internal id kept): whether it is
        new, and NetSuite's 204 naming it."""
        existing = records.get(external_id)
        record_id = existing["id"] if existing else state.new_id()
        records[external_id] = {**body, "id": record_id, "externalId": external_id}
        location = f"{request.base_url}netsuite{RECORD}/{record_type}/{record_id}"
        return existing is None, Response(status_code=204, headers={"Location": location})

    @api.put(RECORD + "/cashSale/eid:{external_id}")
    async def upsert_cash_sale(external_id: str, request: Request) -> Response:
        body = await request.json()
        lines = body.get("item", {}).get("items", [])
        if refusal := invalid_item(lines, "item.items"):
            return refusal
        new, answer = upserted(state.cash_sales, "cashSale", external_id, body, request)
        if new:  # the goods left over the store's counter
            location = location_of(body.get("location"))
            for line in lines:
                state.move(location, str(line["item"]["id"]), -int(line["quantity"]))
        return answer

    @api.get(RECORD + "/salesOrder/eid:{external_id}")
    async def read(external_id: str, request: Request) -> Response:
        return JSONResponse(existing(external_id))

    @api.patch(RECORD + "/salesOrder/eid:{external_id}")
    async def update_lines(external_id: str, request: Request) -> Response:
        """Close lines or change their quantity, until the order is fulfilled."""
        record = existing(external_id)
        if record["orderStatus"]["id"] in ("F", "G"):
            status = record["orderStatus"]["refName"]
            return error(
                400, "USER_ERROR", f"You cannot edit lines of a {status.lower()} sales order."
            )
        changes = {u["line"]: u for u in (await request.json()).get("item", {}).get("items", [])}
        for line in record["item"]["items"]:
            change = changes.get(line["line"], {})
            line["isClosed"] = line["isClosed"] or bool(change.get("isClosed"))
            for field in ("quantity", "amount"):
                if field in change and not line["isClosed"]:
                    line[field] = change[field]
        if all(line["isClosed"] for line in record["item"]["items"]):
            record["orderStatus"] = {"id": "H", "refName": STATUS_NAMES["H"]}
        return Response(status_code=204)

    @api.post(RECORD + "/salesOrder/{record_id}/!transform/invoice")
    async def invoice(record_id: str, request: Request) -> Response:
        record = by_record_id(record_id)
        if record["orderStatus"]["id"] not in BILLABLE:
            return error(
                400,
                "USER_ERROR",
                f"Sales order is {record['orderStatus']['refName']}; it cannot be billed.",
            )
        invoice_id = state.new_id()
        billed = [line for line in record["item"]["items"] if not line["isClosed"]]
        state.invoices[invoice_id] = {
            "id": invoice_id,
            "createdFrom": record_id,
            "item": {"items": billed},
            "total": round(sum(line["amount"] for line in billed), 2),
        }
        record["orderStatus"] = {"id": "G", "refName": STATUS_NAMES["G"]}
        location = f"{request.base_url}netsuite{RECORD}/invoice/{invoice_id}"
        return Response(status_code=204, headers={"Location": location})

    @api.post(RECORD + "/salesOrder/{record_id}/!transform/itemFulfillment")
    async def fulfil(record_id: str, request: Request) -> Response:
        record = by_record_id(record_id)
        if record["orderStatus"]["id"] != "B":
            return error(
                400,
                "USER_ERROR",
                f"Sales order is {record['orderStatus']['refName']}; nothing to fulfill.",
            )
        default = location_of(record.get("location"))
        lines = {line["line"]: line for line in record["item"]["items"] if not line["isClosed"]}
        picked = ((await request.json()) or {}).get("item", {}).get("items")
        if picked is None:  # everything open, from the order's location
            picked = [{"orderLine": n, "quantity": line["quantity"]} for n, line in lines.items()]
        for n, pick in enumerate(picked):
            line = lines.get(pick.get("orderLine"))
            if line is None:
                return error(
                    400, "INVALID_CONTENT", "Invalid Field Value for orderLine",
                    f"item.items[{n}].orderLine",
                )  # fmt: skip
        for pick in picked:
            item_id = str(lines[pick["orderLine"]]["item"]["id"])
            state.move(location_of(pick.get("location"), default), item_id, -int(pick["quantity"]))
        record["orderStatus"] = {"id": "F", "refName": STATUS_NAMES["F"]}
        fulfillment_id = state.new_id()
        location = f"{request.base_url}netsuite{RECORD}/itemFulfillment/{fulfillment_id}"
        return Response(status_code=204, headers={"Location": location})

    @api.put(RECORD + "/creditMemo/eid:{external_id}")
    async def upsert_credit_memo(external_id: str, request: Request) -> Response:
        body = await request.json()
        invoice_id = str((body.get("createdFrom") or {}).get("id"))
        if invoice_id not in state.invoices:
            return error(
                400, "INVALID_CONTENT", f"Invalid Field Value {invoice_id} for createdFrom"
            )
        return upserted(state.credit_memos, "creditMemo", external_id, body, request)[1]

    @api.put(RECORD + "/customer/eid:{external_id}")
    async def upsert_customer(external_id: str, request: Request) -> Response:
        """A customer: the fields sent set, the others kept (an upsert updates)."""
        body = await request.json()
        before = state.customers.get(external_id, {})
        _, answer = upserted(state.customers, "customer", external_id, body, request)
        state.customers[external_id] = {**before, **state.customers[external_id]}
        return answer

    @api.patch(RECORD + "/customer/eid:{external_id}")
    async def update_customer(external_id: str, request: Request) -> Response:
        """The fields sent replace the customer's (a PATCH updates an existing record only)."""
        record = state.customers.get(external_id)
        if record is None:
            return error(404, "NONEXISTENT_ID", f"Record eid:{external_id} was not found.")
        record.update(await request.json())
        return Response(status_code=204)

    @api.get(RECORD + "/customer/eid:{external_id}")
    async def read_customer(external_id: str) -> Response:
        record = state.customers.get(external_id)
        if record is None:
            return error(404, "NONEXISTENT_ID", f"Record eid:{external_id} was not found.")
        return JSONResponse(record)

    @api.put(RECORD + "/journalEntry/eid:{external_id}")
    async def upsert_journal(external_id: str, request: Request) -> Response:
        """A journal entry: refused unless its debits equal its credits."""
        body = await request.json()
        lines = (body.get("line") or {}).get("items", [])
        if not lines or any(not (line.get("account") or {}).get("id") for line in lines):
            return error(400, "USER_ERROR", "Please enter value(s) for: Account")
        debits = sum(Decimal(str(line.get("debit", 0))) for line in lines)
        credits = sum(Decimal(str(line.get("credit", 0))) for line in lines)
        if debits != credits:
            return error(400, "USER_ERROR", "The total debits must equal the total credits.")
        return upserted(state.journals, "journalEntry", external_id, body, request)[1]

    @api.put(RECORD + "/inventoryAdjustment/eid:{external_id}")
    async def upsert_adjustment(external_id: str, request: Request) -> Response:
        """Stock found or lost at a location; an adjustment moves stock once, however often
        it is upserted."""
        body = await request.json()
        lines = (body.get("inventory") or {}).get("items", [])
        if refusal := invalid_item(lines, "inventory.items"):
            return refusal
        if not body.get("account"):
            return error(400, "USER_ERROR", "Please enter value(s) for: Adjustment Account")
        new, answer = upserted(state.adjustments, "inventoryAdjustment", external_id, body, request)
        if new:
            default = location_of(body.get("adjLocation"))
            for line in lines:
                location = location_of(line.get("location"), default)
                state.move(location, str(line["item"]["id"]), int(line["adjustQtyBy"]))
        return answer

    return api


def control_router(state: NetSuiteState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/netsuite", tags=["sandbox control"])

    @api.put("/inventory/{location}/{sku}")
    async def set_stock(location: str, sku: str, count: Count) -> Response:
        """Count a SKU at a location (the books change without a transaction of ours)."""
        if sku not in BY_SKU:
            return JSONResponse({"detail": f"unknown SKU {sku}"}, status_code=404)
        state.stock.setdefault(location, {})[BY_SKU[sku].erp_item_id] = count.on_hand
        return JSONResponse({"location": location, "sku": sku, "on_hand": count.on_hand})

    @api.post("/inventory/{location}/{sku}")
    async def receive(location: str, sku: str, goods: Received) -> Response:
        """Goods received at a location, booked by the location's own staff."""
        if sku not in BY_SKU:
            return JSONResponse({"detail": f"unknown SKU {sku}"}, status_code=404)
        state.move(location, BY_SKU[sku].erp_item_id, goods.received)
        on_hand = state.stock[location][BY_SKU[sku].erp_item_id]
        return JSONResponse({"location": location, "sku": sku, "on_hand": on_hand})

    @api.get("/customers")
    async def customers() -> list[dict[str, Any]]:
        return list(state.customers.values())

    @api.get("/journalEntries")
    async def journals() -> list[dict[str, Any]]:
        return list(state.journals.values())

    @api.get("/inventoryAdjustments")
    async def adjustments() -> list[dict[str, Any]]:
        return list(state.adjustments.values())

    return api
