"""ERP port over the NetSuite REST record API and SuiteQL.

Sales orders are upserted with `PUT /record/v1/salesOrder/eid:{key}` so a retried activity
can never create a second order, for their customer, upserted as one NetSuite customer per
identity (`customer/eid:`); cancel closes every line; billing transforms the order into an
invoice once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.http import PartnerHttp
from canonical import (
    CreditNoteRequest,
    Customer,
    ErpInvoiceRef,
    ErpOrderRef,
    ErpStockMove,
    ExceptionCode,
    ItemRef,
    Order,
    OrderReduction,
    StockLevel,
)
from canonical.customer import normalized_phone
from canonical.journal import Journal
from canonical.pos import ErpSaleRef, PosSale


class NetSuiteSettings(PartnerSettings):
    """NetSuite REST record API: NETSUITE_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("token",)
    sandbox_path: ClassVar[str] = "/netsuite/services/rest"
    configured_url: str | None = Field(None, validation_alias="NETSUITE_BASE_URL")
    token: str = Field("sandbox-token", validation_alias="NETSUITE_TOKEN")
    customer_id: str = Field("2231", validation_alias="NETSUITE_CUSTOMER_ID")
    subsidiary_id: str = Field("1", validation_alias="NETSUITE_SUBSIDIARY_ID")
    location_id: str = Field("3", validation_alias="NETSUITE_LOCATION_ID")
    adjustment_account_id: str = Field("58", validation_alias="NETSUITE_ADJUSTMENT_ACCOUNT_ID")


SYSTEM = "netsuite"
BILLED = "G"
CLOSED_STATUSES = {"C", "H"}  # Cancelled, Closed
FULFILLED_STATUSES = {"F", BILLED}  # Pending Billing, Billed
SHIPPED = "C"  # itemFulfillment shipStatus


SUITEQL_PAGE = 1000  # rows per SuiteQL page, NetSuite's most


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _invoices_of(order_id: str | int) -> str:
    return f"SELECT id FROM transaction WHERE type = 'CustInvc' AND createdfrom = {int(order_id)}"


def _last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


def error_detail(response: httpx.Response) -> tuple[str, str]:
    """(o:errorCode, detail) from NetSuite's error envelope."""
    try:
        details = response.json().get("o:errorDetails") or [{}]
    except ValueError:
        return "", response.text[:200]
    first = details[0]
    return first.get("o:errorCode", ""), first.get("detail", response.text[:200])


# NetSuite's e-mail subscription status ids, by our consent state
SUBSCRIPTION = {"subscribed": "3", "pending": "1", "not_subscribed": "2", "unsubscribed": "4"}
CONSENT_FIELDS = "id,custentity_email_consent_at,custentity_sms_consent_at"


def customer_body(
    customer: Customer, key: str, subsidiary_id: str, known: dict[str, Any]
) -> dict[str, Any]:
    """The customer record: who they are, and each consent newer than what NetSuite holds
    (`known`: its consent timestamps)."""
    first, _, last = customer.name.partition(" ")
    body: dict[str, Any] = {
        "isPerson": True,
        "isInactive": False,  # an order from them: a customer erased before is back
        "firstName": first or "Customer",
        "lastName": last or "-",
        "subsidiary": {"id": subsidiary_id},
    }
    if phone := normalized_phone(customer.phone):  # what an order lacks is kept as it was
        body["phone"] = phone
    if not key.startswith("phone:"):
        body["email"] = key.split(":", 1)[1]
    for name, consent in (("email", customer.email_consent), ("sms", customer.sms_consent)):
        held = known.get(f"custentity_{name}_consent_at")
        if consent is None or (held and consent.updated_at is None):
            continue
        if held and consent.updated_at and consent.updated_at <= datetime.fromisoformat(held):
            continue  # an older order: NetSuite holds a newer consent already
        body[f"custentity_{name}_consent"] = consent.state.value
        body[f"custentity_{name}_consent_at"] = (
            consent.updated_at.isoformat() if consent.updated_at else ""
        )
        body[f"custentity_{name}_consent_source"] = consent.source
        if name == "email":
            body["globalSubscriptionStatus"] = {"id": SUBSCRIPTION[consent.state.value]}
    return body


def sales_order_body(
    order: Order,
    items: list[ItemRef],
    *,
    customer_id: str,
    subsidiary_id: str,
    location_id: str,
    currency_id: str,
) -> dict[str, Any]:
    """Canonical order -> NetSuite salesOrder record (money as JSON numbers, as NetSuite wants,
    in the order's currency, each amount rounded to its minor unit)."""
    item_ids = {item.sku: item.erp_item_id for item in items}
    return {
        "externalId": order.key,
        "entity": {"id": customer_id},
        "subsidiary": {"id": subsidiary_id},
        "currency": {"id": currency_id},
        "tranDate": order.placed_at.date().isoformat(),
        "otherRefNum": order.order_number,
        "memo": f"Imported by retail-orchestrator from {order.channel.value} order "
        f"{order.order_number}",
        "location": {"id": location_id},
        "shippingCost": float(order.shipping.rounded().amount),
        "item": {
            "items": [
                {
                    "item": {"id": item_ids[line.sku]},
                    "quantity": line.quantity,
                    "rate": float(line.unit_price.amount),
                    "amount": float(line.net.rounded().amount),
                    "description": line.title,
                }
                for line in order.lines
            ]
        },
    }


class NetSuiteErp:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        customer_id: str,
        subsidiary_id: str,
        location_id: str,
        adjustment_account_id: str = "58",
        calls_per_second: float | None = None,
    ) -> None:
        self._http = PartnerHttp(
            SYSTEM,
            base_url,
            headers={"Authorization": f"Bearer {token}"},
            calls_per_second=calls_per_second,
        )
        self._customer_id = customer_id
        self._subsidiary_id = subsidiary_id
        self._location_id = location_id
        self._adjustment_account_id = adjustment_account_id
        self._currency_ids: dict[str, str] = {}

    async def _currency(self, code: str) -> dict[str, str]:
        """The account's currency record for an ISO code (looked up once): every record that
        carries money names it, or NetSuite books the amounts in the customer's currency."""
        if code not in self._currency_ids:
            rows = await self._suiteql(
                f"SELECT id, symbol FROM currency WHERE symbol IN ({quote(code)})"
            )
            if not rows:
                raise BusinessError(
                    SYSTEM, ExceptionCode.ERP_REJECTED, f"NetSuite has no currency {code}"
                )
            self._currency_ids[code] = str(rows[0]["id"])
        return {"id": self._currency_ids[code]}

    async def _suiteql(self, query: str) -> list[dict[str, Any]]:
        return (await self._suiteql_page(query, 0))[0]

    async def suiteql_all(self, query: str) -> list[dict[str, Any]]:
        """Every row of the query, page after page (SuiteQL answers at most 1000 at once)."""
        rows: list[dict[str, Any]] = []
        while True:
            page, more = await self._suiteql_page(query, len(rows))
            rows += page
            if not more or not page:
                return rows

    async def _suiteql_page(self, query: str, offset: int) -> tuple[list[dict[str, Any]], bool]:
        response = await self._http.request(
            "POST",
            "/query/v1/suiteql",
            json={"q": query},
            params={"limit": SUITEQL_PAGE, "offset": offset},
            headers={"Prefer": "transient"},
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        body = response.json()
        return body.get("items", []), bool(body.get("hasMore"))

    def _raise_for_error(self, response: httpx.Response, code: ExceptionCode) -> None:
        if response.is_success:
            return
        error_code, detail = error_detail(response)
        if response.status_code in (401, 403):
            # A credentials problem is fixed by ops, not by the order: keep retrying.
            raise TransientError(SYSTEM, f"{response.status_code} {error_code}: {detail}")
        raise BusinessError(SYSTEM, code, f"{error_code or response.status_code}: {detail}")

    async def resolve_items(self, skus: list[str]) -> list[ItemRef]:
        rows = await self._suiteql(
            "SELECT id, itemid FROM item WHERE itemid IN (" + ", ".join(map(quote, skus)) + ")"
        )
        found = {row["itemid"]: str(row["id"]) for row in rows}
        missing = [sku for sku in skus if sku not in found]
        if missing:
            raise BusinessError(
                SYSTEM, ExceptionCode.UNKNOWN_SKU, f"no ERP item for SKU {', '.join(missing)}"
            )
        return [ItemRef(sku=sku, erp_item_id=found[sku]) for sku in skus]

    async def _read(self, order_key: str) -> dict[str, Any] | None:
        response = await self._http.request(
            "GET",
            f"/record/v1/salesOrder/eid:{order_key}",
            params={"fields": "id,tranId,orderStatus,externalId", "expandSubResources": "true"},
        )
        if response.status_code == 404:
            return None
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        record: dict[str, Any] = response.json()
        return record

    @staticmethod
    def _ref(record: dict[str, Any]) -> ErpOrderRef:
        status = (record.get("orderStatus") or {}).get("id")
        return ErpOrderRef(
            external_id=record["externalId"],
            erp_id=str(record["id"]),
            number=record.get("tranId"),
            status=status,
            shipment_state="sent" if status in FULFILLED_STATUSES else "waiting",
        )

    async def sales_order(self, order_key: str) -> ErpOrderRef | None:
        record = await self._read(order_key)
        return self._ref(record) if record else None

    async def fulfil_sales_order(
        self, ref: ErpOrderRef, shipped_from: Sequence[ErpStockMove] = ()
    ) -> None:
        """Transform the order into an item fulfillment once (a retry finds it fulfilled),
        each line taken from the locations its units left."""
        record = await self._read(ref.external_id)
        if record and (record.get("orderStatus") or {}).get("id") in FULFILLED_STATUSES:
            return
        body: dict[str, Any] = {"shipStatus": {"id": SHIPPED}}
        if shipped_from and record:
            body["item"] = {"items": await self._picks(record, shipped_from)}
        response = await self._http.request(
            "POST",
            f"/record/v1/salesOrder/{ref.erp_id}/!transform/itemFulfillment",
            json=body,
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)

    async def _picks(
        self, record: dict[str, Any], shipped_from: Sequence[ErpStockMove]
    ) -> list[dict[str, Any]]:
        """Fulfillment lines: each open order line's units from the locations they left,
        what no location covers from the order's own."""
        lines = list((record.get("item") or {}).get("items", []))
        item_ids = await self._item_ids(record, {move.sku for move in shipped_from})
        skus = {item_id: sku for sku, item_id in item_ids.items()}
        remaining: dict[tuple[str, str], int] = {}
        for move in shipped_from:
            key = (move.sku, move.location or self._location_id)
            remaining[key] = remaining.get(key, 0) + move.quantity
        picks: list[dict[str, Any]] = []
        for line in lines:
            if line.get("isClosed"):
                continue
            sku, need = skus.get(str(line["item"]["id"])), int(line["quantity"])
            for (moved, location), units in remaining.items():
                take = min(need, units) if moved == sku else 0
                if take:
                    remaining[moved, location] -= take
                    need -= take
                    picks.append(self._pick(line["line"], location, take))
            if need:
                picks.append(self._pick(line["line"], self._location_id, need))
        return picks

    async def _item_ids(self, record: dict[str, Any], skus: set[str]) -> dict[str, str]:
        """SKU -> item id, from the order's lines (an item reference's `refName` is the item's
        name, its `itemid`); resolved by a query where those do not cover `skus`."""
        named = {
            line["item"].get("refName"): str(line["item"]["id"])
            for line in (record.get("item") or {}).get("items", [])
        }
        if skus <= named.keys():
            return {sku: named[sku] for sku in skus}
        return {item.sku: item.erp_item_id for item in await self.resolve_items(sorted(skus))}

    @staticmethod
    def _pick(order_line: int, location: str, quantity: int) -> dict[str, Any]:
        return {
            "orderLine": order_line,
            "location": {"id": location},
            "quantity": quantity,
            "itemReceive": True,
        }

    async def restock_return(
        self, restock_key: str, order_key: str, moves: Sequence[ErpStockMove]
    ) -> None:
        """`PUT inventoryAdjustment/eid:{key}`: returned goods back on hand at their location,
        once per key (NetSuite's credit memo moves no stock)."""
        items = await self.resolve_items(sorted({move.sku for move in moves}))
        item_ids = {item.sku: item.erp_item_id for item in items}
        location = moves[0].location or self._location_id
        body = {
            "subsidiary": {"id": self._subsidiary_id},
            "account": {"id": self._adjustment_account_id},
            "adjLocation": {"id": location},
            "memo": f"Returned goods fit to sell, order {order_key}",
            "inventory": {
                "items": [
                    {
                        "item": {"id": item_ids[move.sku]},
                        "location": {"id": move.location or self._location_id},
                        "adjustQtyBy": move.quantity,
                    }
                    for move in moves
                ]
            },
        }
        response = await self._http.request(
            "PUT", f"/record/v1/inventoryAdjustment/eid:{restock_key}", json=body
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)

    async def reduce_sales_order(self, reduction: OrderReduction) -> None:
        """PATCH the order's lines: a line that keeps nothing is closed, the others get their
        new quantity (lines are numbered as the order's lines were sent)."""
        order = reduction.order
        record = await self._read(order.key)
        if record is None:
            raise BusinessError(SYSTEM, ExceptionCode.ERP_REJECTED, f"no sales order {order.key}")
        erp_lines = (record.get("item") or {}).get("items", [])
        changes: list[dict[str, Any]] = []
        for line, erp_line in zip(order.lines, erp_lines, strict=False):
            keep = reduction.keep.get(line.line_id)
            if keep is None or erp_line.get("isClosed"):
                continue
            if keep == 0:
                changes.append({"line": erp_line["line"], "isClosed": True})
            elif keep != erp_line.get("quantity"):
                amount = line.keeping(keep).net.rounded().amount
                changes.append(
                    {"line": erp_line["line"], "quantity": keep, "amount": float(amount)}
                )
        if not changes:
            return
        body = {"currency": await self._currency(order.currency), "item": {"items": changes}}
        response = await self._http.request(
            "PATCH", f"/record/v1/salesOrder/eid:{order.key}", json=body
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)

    async def credit_return(self, request: CreditNoteRequest) -> ErpInvoiceRef:
        """`PUT creditMemo/eid:{credit_key}` from the order's invoice: once per key."""
        record = await self._read(request.order_key)
        if record is None:
            raise BusinessError(
                SYSTEM, ExceptionCode.ERP_REJECTED, f"no sales order {request.order_key}"
            )
        invoices = await self._suiteql(_invoices_of(record["id"]))
        if not invoices:
            raise BusinessError(
                SYSTEM, ExceptionCode.ERP_REJECTED, f"sales order {record['tranId']} not billed"
            )
        item_ids = await self._item_ids(record, {line.sku for line in request.lines})
        rates = {
            str(line["item"]["id"]): line.get("rate")
            for line in (record.get("item") or {}).get("items", [])
        }
        priced = [line.unit_price for line in request.lines if line.unit_price]
        # The order's currency: the refund's own amounts', else the sales order's.
        currency = await self._currency(priced[0].currency) if priced else record.get("currency")
        body = {
            "createdFrom": {"id": str(invoices[0]["id"])},
            "entity": {"id": self._customer_id},
            **({"currency": currency} if currency else {}),
            "memo": request.reason,
            "item": {
                "items": [
                    {
                        "item": {"id": item_ids[line.sku]},
                        "quantity": line.quantity,
                        "rate": float(line.unit_price.amount)
                        if line.unit_price
                        else rates.get(item_ids[line.sku]),
                    }
                    for line in request.lines
                ]
            },
        }
        response = await self._http.request(
            "PUT", f"/record/v1/creditMemo/eid:{request.credit_key}", json=body
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        return ErpInvoiceRef(
            erp_id=_last_segment(response.headers.get("Location", "")), order_erp_id=record["id"]
        )

    async def stock_levels(self, skus: list[str]) -> list[StockLevel]:
        rows = await self._suiteql(
            "SELECT item.itemid, inventorybalance.location, inventorybalance.quantityonhand, "
            "inventorybalance.quantityavailable FROM inventorybalance "
            "JOIN item ON item.id = inventorybalance.item WHERE item.itemid IN ("
            + ", ".join(map(quote, skus))
            + ")"
        )
        return [
            StockLevel(
                sku=row["itemid"],
                warehouse=str(row["location"]),
                on_hand=int(row["quantityonhand"]),
                forecast=int(row["quantityavailable"]),
            )
            for row in rows
        ]

    async def upsert_customer(self, customer: Customer) -> str | None:
        """The order's customer as one NetSuite customer however many orders and channels
        name them (`PUT customer/eid:` keyed by their identity's digest), their marketing
        consent replaced only by a newer one; None when the order names nobody to key by."""
        key, ref = customer.identity_key(), customer.customer_ref
        if key is None or ref is None:
            return None
        path = f"/record/v1/customer/eid:{ref}"
        response = await self._http.request("GET", path, params={"fields": CONSENT_FIELDS})
        known = response.json() if response.status_code == 200 else {}
        if response.status_code not in (200, 404):
            self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        body = customer_body(customer, key, self._subsidiary_id, known)
        response = await self._http.request("PUT", path, json=body)
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        return _last_segment(response.headers.get("Location", "")) or str(known.get("id", ""))

    async def customer_reference(self, customer_ref: str) -> str | None:
        response = await self._http.request(
            "GET", f"/record/v1/customer/eid:{customer_ref}", params={"fields": "id"}
        )
        if response.status_code == 404:
            return None
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        return str(response.json()["id"])

    async def anonymize_customer(self, customer_ref: str) -> str | None:
        """The customer record kept (orders and invoices name it), who they are erased, their
        subscriptions withdrawn, the record made inactive."""
        reference = await self.customer_reference(customer_ref)
        if reference is None:
            return None
        erased = {
            "firstName": "Erased",
            "lastName": "customer",
            "email": "",
            "phone": "",
            "altEmail": "",
            "isInactive": True,
            "globalSubscriptionStatus": {"id": SUBSCRIPTION["unsubscribed"]},
            "custentity_email_consent": "",
            "custentity_sms_consent": "",
            "custentity_email_consent_source": "",
            "custentity_sms_consent_source": "",
        }
        response = await self._http.request(
            "PATCH", f"/record/v1/customer/eid:{customer_ref}", json=erased
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        return reference

    async def upsert_sales_order(self, order: Order, items: list[ItemRef]) -> ErpOrderRef:
        """The customer upserted, then one `PUT …/eid:` call; the 204's Location names the
        record (a closed order refuses the upsert with a user error, a business error)."""
        body = sales_order_body(
            order,
            items,
            customer_id=await self.upsert_customer(order.customer) or self._customer_id,
            subsidiary_id=self._subsidiary_id,
            location_id=self._location_id,
            currency_id=(await self._currency(order.currency))["id"],
        )
        del body["externalId"]  # carried by the eid: path
        response = await self._http.request(
            "PUT", f"/record/v1/salesOrder/eid:{order.key}", json=body
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        erp_id = _last_segment(response.headers.get("Location", ""))
        if not erp_id:
            record = await self._read(order.key)
            if record is None:
                raise TransientError(SYSTEM, f"sales order {order.key} not readable after upsert")
            return self._ref(record)
        return ErpOrderRef(external_id=order.key, erp_id=erp_id)

    async def cancel_sales_order(self, order_key: str) -> None:
        record = await self._read(order_key)
        if record is None or (record.get("orderStatus") or {}).get("id") in CLOSED_STATUSES:
            return
        lines = (record.get("item") or {}).get("items", [])
        response = await self._http.request(
            "PATCH",
            f"/record/v1/salesOrder/eid:{order_key}",
            json={"item": {"items": [{"line": line["line"], "isClosed": True} for line in lines]}},
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)

    async def invoice_sales_order(self, ref: ErpOrderRef) -> ErpInvoiceRef:
        """Transform the order into an invoice; if it is billed already (a retry after the
        first call succeeded), return the invoice created from it."""
        response = await self._http.request(
            "POST", f"/record/v1/salesOrder/{ref.erp_id}/!transform/invoice", json={}
        )
        if response.is_success:
            invoice_id = _last_segment(response.headers.get("Location", ""))
            return ErpInvoiceRef(erp_id=invoice_id, order_erp_id=ref.erp_id)
        record = await self._read(ref.external_id)
        if record and (record.get("orderStatus") or {}).get("id") == BILLED:
            rows = await self._suiteql(_invoices_of(record["id"]))
            if rows:
                return ErpInvoiceRef(erp_id=str(rows[0]["id"]), order_erp_id=ref.erp_id)
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        raise BusinessError(
            SYSTEM, ExceptionCode.ERP_REJECTED, f"sales order {ref.erp_id} not billed"
        )

    async def post_cash_sale(
        self, sale: PosSale, items: list[ItemRef], location: str | None = None
    ) -> ErpSaleRef:
        """`PUT cashSale/eid:{key}`: a store sale is recorded once however often it is posted."""
        item_ids = {item.sku: item.erp_item_id for item in items}
        body = {
            "entity": {"id": self._customer_id},
            "subsidiary": {"id": self._subsidiary_id},
            "currency": await self._currency(sale.currency),
            "tranDate": sale.business_day.isoformat(),
            "memo": f"POS store {sale.store_id} transaction {sale.transaction_id} ({sale.tender})",
            "location": {"id": location or self._location_id},
            "item": {
                "items": [
                    {
                        "item": {"id": item_ids[line.sku]},
                        "quantity": line.quantity,
                        "rate": float(line.unit_price.amount),
                        "amount": float((line.unit_price * line.quantity).rounded().amount),
                    }
                    for line in sale.lines
                ]
            },
        }
        response = await self._http.request("PUT", f"/record/v1/cashSale/eid:{sale.key}", json=body)
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        return ErpSaleRef(
            external_id=sale.key, erp_id=_last_segment(response.headers.get("Location", ""))
        )

    async def post_journal(self, journal: Journal) -> str:
        """`PUT journalEntry/eid:{journal id}`: a settlement is booked once however often it
        is posted."""
        body = {
            "subsidiary": {"id": self._subsidiary_id},
            "currency": await self._currency(journal.currency),
            "tranDate": journal.date.isoformat(),
            "memo": journal.memo,
            "line": {
                "items": [
                    {
                        "account": {"id": line.account},
                        **({"debit": float(line.debit)} if line.debit else {}),
                        **({"credit": float(line.credit)} if line.credit else {}),
                        "memo": line.memo,
                    }
                    for line in journal.lines
                ]
            },
        }
        response = await self._http.request(
            "PUT", f"/record/v1/journalEntry/eid:{journal.journal_id}", json=body
        )
        self._raise_for_error(response, ExceptionCode.ERP_REJECTED)
        return _last_segment(response.headers.get("Location", ""))

    async def aclose(self) -> None:
        await self._http.aclose()
