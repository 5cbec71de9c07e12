"""ERP port over a real Tryton (8.2) through its JSON-RPC.

Every sales order carries `web_shop` + `web_id` = the canonical order key: Tryton refuses a
second sale with the same pair, so a create retried after a lost answer can never make two
sales — the retry finds the first and continues from its state (draft → quotation →
confirmed). Canonical items map to Tryton products by code; customers to parties by code."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field

from adapters.config import PartnerSettings
from adapters.errors import BusinessError, TransientError
from adapters.tryton_rpc import SYSTEM, TrytonRpc
from canonical import (
    Address,
    CreditNoteRequest,
    ErpInvoiceRef,
    ErpOrderRef,
    ErpStockMove,
    ExceptionCode,
    ItemRef,
    Money,
    Order,
    OrderReduction,
    StockLevel,
)
from canonical.customer import normalized_phone
from canonical.journal import Journal
from canonical.pos import ErpSaleRef, PosSale

# Shipping and order-level discounts are lines of these service products.
SHIPPING_PRODUCT = "SHIPPING"
DISCOUNT_PRODUCT = "DISCOUNT"
UNIT_PRICE_DIGITS = Decimal("0.0001")  # Tryton's default price precision
SALE_FIELDS = ["id", "number", "state", "shipment_state", "invoice_state", "web_id"]
STATE_AFTER = {"assign_force": "assigned", "pick": "picked", "pack": "packed"}


def _street(address: Address) -> str:
    return "\n".join(part for part in (address.line1, address.line2) if part)


class TrytonSettings(PartnerSettings):
    """A Tryton 8.2 over JSON-RPC: TRYTON_*."""

    secret_fields: ClassVar[tuple[str, ...]] = ("password",)
    configured_url: str | None = Field("http://127.0.0.1:8010", validation_alias="TRYTON_URL")
    database: str = Field("retail", validation_alias="TRYTON_DATABASE")
    user: str = Field("admin", validation_alias="TRYTON_USER")
    password: str = Field("admin", validation_alias="TRYTON_PASSWORD")
    web_shop: str = Field("Retail Orchestrator", validation_alias="TRYTON_WEB_SHOP")


class TrytonErp:
    def __init__(self, rpc: TrytonRpc, *, web_shop: str) -> None:
        self.rpc = rpc
        self._web_shop_name = web_shop
        self._setup: dict[str, Any] = {}
        self._products: dict[str, dict[str, Any]] = {}  # by code
        self._countries: dict[str, int | None] = {}

    # --- reference data, read once per process ---------------------------------------------

    async def _shop(self) -> dict[str, Any]:
        """The web shop (its id keys our sales), its warehouse, currencies and payment term."""
        if not self._setup:
            shops = await self.rpc.search_read(
                "web.shop", [["name", "=", self._web_shop_name]], ["id", "warehouses"]
            )
            if not shops or not shops[0]["warehouses"]:
                raise BusinessError(
                    SYSTEM,
                    ExceptionCode.ERP_REJECTED,
                    f"web shop {self._web_shop_name!r} with a warehouse not found in Tryton",
                )
            (warehouse,) = await self.rpc.model(
                "stock.location", "read", [shops[0]["warehouses"][0]], ["code"]
            )
            terms = await self.rpc.search_read("account.invoice.payment_term", [], ["id"])
            currencies = await self.rpc.search_read("currency.currency", [], ["id", "code"])
            self._setup = {
                "shop": shops[0]["id"],
                "warehouse": shops[0]["warehouses"][0],
                "warehouse_code": warehouse["code"] or str(warehouse["id"]),
                "payment_term": terms[0]["id"] if terms else None,
                "currencies": {row["code"]: row["id"] for row in currencies},
            }
        return self._setup

    async def _product_rows(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        missing = [code for code in codes if code not in self._products]
        if missing:
            rows = await self.rpc.search_read(
                "product.product", [["code", "in", missing]], ["id", "code", "default_uom"]
            )
            self._products.update({row["code"]: row for row in rows})
        return {code: self._products[code] for code in codes if code in self._products}

    async def _country(self, code: str) -> int | None:
        if code not in self._countries:
            rows = await self.rpc.search_read("country.country", [["code", "=", code]], ["id"])
            self._countries[code] = rows[0]["id"] if rows else None
        return self._countries[code]

    # --- items ------------------------------------------------------------------------------

    async def resolve_items(self, skus: list[str]) -> list[ItemRef]:
        found = await self._product_rows(skus)
        missing = [sku for sku in skus if sku not in found]
        if missing:
            raise BusinessError(
                SYSTEM, ExceptionCode.UNKNOWN_SKU, f"no Tryton product with code {missing}"
            )
        return [ItemRef(sku=sku, erp_item_id=str(found[sku]["id"])) for sku in skus]

    # --- customers --------------------------------------------------------------------------

    async def _address_values(self, address: Address | None, name: str) -> dict[str, Any]:
        if address is None:
            return {"party_name": name or None}
        return {
            "street": _street(address),
            "city": address.city,
            "postal_code": address.postal_code or "",
            "country": await self._country(address.country),
            "party_name": address.name or name or None,
        }

    async def _customer(
        self,
        code: str,
        name: str,
        email: str | None,
        address: Address | None,
        phone: str | None = None,
    ) -> tuple[int, int]:
        """(party, address): the party found by code, which Tryton keeps unique, or created
        with its address in one call; a create that lost a race (or whose answer was lost)
        is found by the search after it."""
        values = await self._address_values(address, name)
        for attempt in (1, 2):
            found = await self._party_of(code)
            if found:
                if not found["active"]:  # erased at their request, and back
                    await self._returning(found["id"], name, email, phone)
                return found["id"], await self._party_address(found["id"], values)
            if attempt == 2:
                break
            party: dict[str, Any] = {"name": name or code, "code": code}
            party["addresses"] = [["create", [values]]]
            if contacts := _contacts(email, phone):
                party["contact_mechanisms"] = [["create", contacts]]
            try:
                (created,) = await self.rpc.model("party.party", "create", [party])
            except BusinessError:
                continue
            (row,) = await self.rpc.model("party.party", "read", [created], ["addresses"])
            return created, row["addresses"][0]
        raise TransientError(SYSTEM, f"party {code} neither found nor created")

    async def _returning(self, party: int, name: str, email: str | None, phone: str | None) -> None:
        """An erased customer's party, theirs again."""
        values: dict[str, Any] = {"name": name}
        if contacts := _contacts(email, phone):
            values["contact_mechanisms"] = [["create", contacts]]
        # An inactive party is read-only: made active first.
        await self.rpc.model("party.party", "write", [party], {"active": True})
        await self.rpc.model("party.party", "write", [party], values)

    async def customer_reference(self, customer_ref: str) -> str | None:
        party = await self._party_of(customer_ref)
        return str(party["id"]) if party else None

    async def _party_of(self, code: str) -> dict[str, Any] | None:
        """The party with this code (Tryton keeps it unique), an erased (inactive) one too."""
        rows = await self.rpc.search_read(
            "party.party", [["code", "=", code], ["active", "in", [True, False]]], ["id", "active"]
        )
        return rows[0] if rows else None

    async def anonymize_customer(self, customer_ref: str) -> str | None:
        """The party kept (sales and invoices name it, and Tryton keeps its code) but made
        inactive, renamed, its contact mechanisms deleted and its addresses emptied. A customer
        who comes back makes it active again, under their name."""
        found = await self._party_of(customer_ref)
        if found is None:
            return None
        party = int(found["id"])
        if not found["active"]:
            return str(party)  # erased already (an inactive party is read-only)
        contacts = await self.rpc.search_read(
            "party.contact_mechanism",
            [["party", "=", party], ["active", "in", [True, False]]],
            ["id"],
        )
        if contacts:
            await self.rpc.model(
                "party.contact_mechanism", "delete", [row["id"] for row in contacts]
            )
        addresses = await self.rpc.search_read(
            "party.address", [["party", "=", party], ["active", "in", [True, False]]], ["id"]
        )
        if addresses:
            erased = {"street": "", "city": "", "postal_code": "", "party_name": None}
            await self.rpc.model("party.address", "write", [row["id"] for row in addresses], erased)
        erased_party = {"name": "Erased customer", "active": False}
        await self.rpc.model("party.party", "write", [party], erased_party)
        return str(party)

    async def _party_address(self, party: int, values: dict[str, Any]) -> int:
        """The party's address equal to `values`, created when new."""
        domain: list[Any] = [["party", "=", party]]
        domain += [[field, "=", values[field]] for field in ("street", "city", "postal_code")
                   if field in values]  # fmt: skip
        rows = await self.rpc.search_read("party.address", domain, ["id"])
        if rows:
            return int(rows[0]["id"])
        (created,) = await self.rpc.model("party.address", "create", [{"party": party, **values}])
        return int(created)

    # --- sales orders -----------------------------------------------------------------------

    async def _sale(self, key: str) -> dict[str, Any] | None:
        shop = await self._shop()
        rows = await self.rpc.search_read(
            "sale.sale", [["web_shop", "=", shop["shop"]], ["web_id", "=", key]], SALE_FIELDS
        )
        return rows[0] if rows else None

    async def _required_sale(self, key: str) -> dict[str, Any]:
        sale = await self._sale(key)
        if sale is None:
            raise BusinessError(SYSTEM, ExceptionCode.ERP_REJECTED, f"no Tryton sale for {key}")
        return sale

    async def _sale_values(
        self, key: str, reference: str, party: int, address: int, currency: str
    ) -> dict[str, Any]:
        shop = await self._shop()
        if currency not in shop["currencies"]:
            raise BusinessError(
                SYSTEM, ExceptionCode.ERP_REJECTED, f"currency {currency} is not set up in Tryton"
            )
        return {
            "web_shop": shop["shop"],
            "web_id": key,
            "reference": reference,
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "currency": shop["currencies"][currency],
            "warehouse": shop["warehouse"],
            "payment_term": shop["payment_term"],
            "invoice_method": "order",
            "shipment_method": "order",
        }

    async def _lines(self, lines: list[tuple[str, Decimal, Money]]) -> list[dict[str, Any]]:
        """(product code, quantity, line amount) -> sale lines; the unit price is the amount
        over the quantity, because Tryton computes the amount and does not take one."""
        products = await self._product_rows(sorted({code for code, _, _ in lines}))
        missing = sorted({code for code, _, _ in lines} - products.keys())
        if missing:
            raise BusinessError(
                SYSTEM, ExceptionCode.UNKNOWN_SKU, f"no Tryton product with code {missing}"
            )
        return [
            {
                "type": "line",
                "product": products[code]["id"],
                "quantity": float(quantity),
                "unit": products[code]["default_uom"],
                "unit_price": (amount.amount / abs(quantity)).quantize(UNIT_PRICE_DIGITS),
            }
            for code, quantity, amount in lines
        ]

    def _order_lines(self, order: Order) -> list[tuple[str, Decimal, Money]]:
        lines = [(line.sku, Decimal(line.quantity), line.net) for line in order.lines]
        if order.shipping.amount:
            lines.append((SHIPPING_PRODUCT, Decimal(1), order.shipping))
        if order.order_discount and order.order_discount.amount:
            lines.append((DISCOUNT_PRODUCT, Decimal(1), -order.order_discount))
        return lines

    async def _create_sale(self, key: str, build: Any) -> dict[str, Any]:
        """Create once. Tryton refuses a second sale with the same (web_shop, web_id), so a
        retry whose first create took effect (its answer lost) is refused and finds that sale
        by the search that follows; the usual first attempt costs no search at all."""
        values = await build()
        try:
            (created,) = await self.rpc.model("sale.sale", "create", [values])
        except BusinessError:
            sale = await self._sale(key)
            if sale is None:
                raise
            return sale
        return {"id": created, "state": "draft", "number": None, "web_id": key}

    async def _confirm(self, sale: dict[str, Any]) -> dict[str, Any]:
        """Carry a sale on from whatever state a previous attempt left it in."""
        if sale["state"] == "cancelled":
            raise BusinessError(
                SYSTEM,
                ExceptionCode.ERP_REJECTED,
                f"Tryton sale {sale['number'] or sale['id']} ({sale['web_id']}) is cancelled",
            )
        if sale["state"] == "draft":
            await self.rpc.model("sale.sale", "quote", [sale["id"]])
            sale["state"] = "quotation"
        if sale["state"] == "quotation":
            await self.rpc.model("sale.sale", "confirm", [sale["id"]])
        (fresh,) = await self.rpc.model("sale.sale", "read", [sale["id"]], SALE_FIELDS)
        return dict(fresh)

    @staticmethod
    def _ref(sale: dict[str, Any]) -> ErpOrderRef:
        return ErpOrderRef(
            external_id=sale["web_id"],
            erp_id=str(sale["id"]),
            number=sale["number"],
            status=sale["state"],
            shipment_state=sale["shipment_state"],
        )

    async def upsert_sales_order(self, order: Order, items: list[ItemRef]) -> ErpOrderRef:
        async def build() -> dict[str, Any]:
            customer = order.customer
            # Keyed by the identity's digest: one party however many channels name them, and
            # no e-mail in a code that outlives an erasure.
            code = customer.customer_ref or (
                f"{order.channel.value}:{customer.external_id or 'guest'}"
            )
            name = customer.name or (order.ship_to.name if order.ship_to else "") or code
            party, address = await self._customer(
                code, name, customer.email, order.ship_to, normalized_phone(customer.phone)
            )
            values = await self._sale_values(
                order.key, order.order_number, party, address, order.currency
            )
            values["lines"] = [["create", await self._lines(self._order_lines(order))]]
            return values

        sale = await self._create_sale(order.key, build)
        return self._ref(await self._confirm(sale))

    async def sales_order(self, order_key: str) -> ErpOrderRef | None:
        sale = await self._sale(order_key)
        return self._ref(sale) if sale else None

    async def cancel_sales_order(self, order_key: str) -> None:
        """Draft and quoted sales are cancelled. A confirmed sale cannot be in Tryton: its
        shipment and draft invoice are cancelled instead and the exceptions this raises on the
        sale are accepted (nothing re-created), so it closes with nothing delivered or billed.
        Once goods left or the invoice is posted, this is a business error: it needs a return."""
        sale = await self._sale(order_key)
        if sale is None or sale["state"] == "cancelled":
            return
        if sale["state"] in ("draft", "quotation"):
            await self.rpc.model("sale.sale", "cancel", [sale["id"]])
            return
        if sale["shipment_state"] in ("sent", "partially shipped"):
            raise BusinessError(
                SYSTEM,
                ExceptionCode.ERP_REJECTED,
                f"Tryton sale {sale['number']} has shipped goods; record a return instead",
            )
        invoices = await self.rpc.search_read(
            "account.invoice", [["sales", "=", sale["id"]]], ["id", "state", "number"]
        )
        posted = [inv for inv in invoices if inv["state"] in ("posted", "paid")]
        if posted:
            raise BusinessError(
                SYSTEM,
                ExceptionCode.ERP_REJECTED,
                f"Tryton sale {sale['number']} is invoiced ({posted[0]['number']}); "
                "credit it instead",
            )
        shipments = [
            s["id"]
            for s in await self._shipments(sale["id"])
            if s["state"] not in ("cancelled", "done")
        ]
        if shipments:
            await self.rpc.model("stock.shipment.out", "cancel", shipments)
        drafts = [inv["id"] for inv in invoices if inv["state"] in ("draft", "validated")]
        if drafts:
            await self.rpc.model("account.invoice", "cancel", drafts)
        await self._ignore_exceptions(sale["id"], [inv["id"] for inv in invoices])

    async def reduce_sales_order(self, reduction: OrderReduction) -> None:
        """A sale in process is amended (module sale_amendment): the lines get their new
        quantities and Tryton rebuilds the waiting shipment and the draft invoice from them.
        The order's lines are the sale's first lines, in order. A line already at its
        quantity is left alone, so a retry amends nothing."""
        order = reduction.order
        sale = await self._required_sale(order.key)
        if sale["shipment_state"] in ("sent", "partially shipped"):
            raise BusinessError(
                SYSTEM,
                ExceptionCode.ERP_REJECTED,
                f"Tryton sale {sale['number']} has shipped goods; record a return instead",
            )
        rows = await self.rpc.search_read(
            "sale.line",
            [["sale", "=", sale["id"]], ["type", "=", "line"]],
            ["id", "quantity", "product", "unit", "unit_price", "description"],
        )
        changes = []
        for line, row in zip(order.lines, sorted(rows, key=lambda r: r["id"]), strict=False):
            keep = reduction.keep.get(line.line_id)
            if keep is not None and keep != row["quantity"]:
                fields = ("product", "unit", "unit_price", "description")
                changes.append(
                    {"action": "line", "line": row["id"], "quantity": float(keep)}
                    | {field: row[field] for field in fields}
                )
        if not changes:
            return
        amendment = await self.rpc.model(
            "sale.amendment",
            "create",
            [{"sale": sale["id"], "description": "lines reduced", "lines": [["create", changes]]}],
        )
        await self.rpc.model("sale.amendment", "validate_amendment", amendment)

    async def _shipments(self, sale_id: int) -> list[dict[str, Any]]:
        (sale,) = await self.rpc.model("sale.sale", "read", [sale_id], ["shipments.state"])
        rows: list[dict[str, Any]] = sale["shipments."]
        return rows

    async def _ignore_exceptions(self, sale_id: int, invoices: list[int]) -> None:
        """What Tryton's 'handle exception' wizards do when told to re-create nothing: the
        cancelled moves and invoices are ignored, and processing closes the sale."""
        lines = await self.rpc.search_read("sale.line", [["sale", "=", sale_id]], ["id", "moves"])
        moves = [m for line in lines for m in line["moves"]]
        states = await self.rpc.model("stock.move", "read", moves, ["state"]) if moves else []
        cancelled = {row["id"] for row in states if row["state"] == "cancelled"}
        pairs: list[Any] = []
        for line in lines:
            if ignored := [m for m in line["moves"] if m in cancelled]:
                pairs += [[line["id"]], {"moves_ignored": [["add", ignored]]}]
        if pairs:
            await self.rpc.model("sale.line", "write", *pairs)
        if invoices:
            await self.rpc.model(
                "sale.sale", "write", [sale_id], {"invoices_ignored": [["add", invoices]]}
            )
        await self.rpc.model("sale.sale", "process", [sale_id])

    async def fulfil_sales_order(
        self, ref: ErpOrderRef, shipped_from: Sequence[ErpStockMove] = ()
    ) -> None:
        """Our nodes shipped: walk the sale's customer shipments to done, so Tryton's stock
        drops. Goods that left are a fact, so the assignment is forced: a shortage in Tryton's
        books shows in reconciliation rather than holding the order. Tryton books the web
        shop's one warehouse, so `shipped_from` is not used."""
        shipments = await self._shipments(int(ref.erp_id))
        by_state = {s["id"]: s["state"] for s in shipments}
        # Tryton only offers each button in its state: waiting -> assigned -> picked -> packed.
        for button, state in (
            ("assign_force", "waiting"),
            ("pick", "assigned"),
            ("pack", "picked"),
        ):
            ready = [i for i, current in by_state.items() if current == state]
            if ready:
                await self.rpc.model("stock.shipment.out", button, ready)
                by_state.update(dict.fromkeys(ready, STATE_AFTER[button]))
        to_do = [i for i, state in by_state.items() if state not in ("done", "cancelled")]
        if to_do:
            await self.rpc.model("stock.shipment.out", "do", to_do)

    # --- invoices ---------------------------------------------------------------------------

    async def _post_invoices(self, domain: list[Any], what: str) -> dict[str, Any]:
        invoices = await self.rpc.search_read("account.invoice", domain, ["id", "state", "number"])
        live = [inv for inv in invoices if inv["state"] != "cancelled"]
        if not live:
            raise TransientError(SYSTEM, f"no invoice for {what} yet")
        drafts = [inv["id"] for inv in live if inv["state"] in ("draft", "validated")]
        if drafts:
            await self.rpc.model("account.invoice", "post", drafts)
        (posted,) = await self.rpc.model("account.invoice", "read", [live[0]["id"]], ["number"])
        return {"id": live[0]["id"], "number": posted["number"]}

    async def invoice_sales_order(self, ref: ErpOrderRef) -> ErpInvoiceRef:
        """The sale made its invoice at confirmation (invoice method 'order'); post it.
        Posting twice is harmless: a posted invoice is left as it is."""
        invoice = await self._post_invoices(
            [["sales", "=", int(ref.erp_id)]], f"sale {ref.number or ref.erp_id}"
        )
        return ErpInvoiceRef(
            erp_id=str(invoice["id"]), order_erp_id=ref.erp_id, number=invoice["number"]
        )

    async def credit_return(self, request: CreditNoteRequest) -> ErpInvoiceRef:
        """A return sale (negative quantities, keyed by `credit_key`) for the original
        customer: Tryton makes the return shipment and the credit note, which is posted."""
        original = await self._required_sale(request.order_key)
        order_lines = await self.rpc.search_read(
            "sale.line",
            [["sale", "=", original["id"]], ["type", "=", "line"]],
            ["product.code", "unit_price", "quantity"],
        )
        prices = {row["product."]["code"]: row["unit_price"] for row in order_lines}

        async def build() -> dict[str, Any]:
            (sale,) = await self.rpc.model(
                "sale.sale", "read", [original["id"]],
                ["party", "shipment_address", "currency.code"],
            )  # fmt: skip
            currency = sale["currency."]
            values = await self._sale_values(
                request.credit_key,
                f"return of {original['number']}",
                sale["party"],
                sale["shipment_address"],
                currency["code"],
            )
            lines = []
            for line in request.lines:
                if line.unit_price is None and line.sku not in prices:
                    raise BusinessError(
                        SYSTEM,
                        ExceptionCode.ERP_REJECTED,
                        f"{line.sku} is not on Tryton sale {original['number']}",
                    )
                price = line.unit_price or Money.of(prices[line.sku], currency["code"])
                lines.append((line.sku, Decimal(-line.quantity), price * line.quantity))
            values["lines"] = [["create", await self._lines(lines)]]
            values["comment"] = request.reason
            return values

        sale = await self._confirm(await self._create_sale(request.credit_key, build))
        invoice = await self._post_invoices(
            [["sales", "=", sale["id"]]], f"return {request.credit_key}"
        )
        return ErpInvoiceRef(
            erp_id=str(invoice["id"]), order_erp_id=str(original["id"]), number=invoice["number"]
        )

    async def restock_return(
        self, restock_key: str, order_key: str, moves: Sequence[ErpStockMove]
    ) -> None:
        """The return sale `credit_return` made under the same key waits for its goods: its
        return shipment keeps the units fit to sell and is received and done, into the web
        shop's one warehouse. Tryton then asks for the rest again in a new return shipment:
        that is cancelled and ignored (the 'handle exception' wizard's answer), so the return
        sale ends. A retry finishes what an earlier attempt began."""
        sale = await self._required_sale(restock_key)
        shipments = await self._return_shipments(sale["id"])
        if not any(s["state"] in ("received", "done") for s in shipments):
            drafts = [s for s in shipments if s["state"] == "draft"]
            await self._keep_fit([m for s in drafts for m in s["moves"]], moves)
            await self.rpc.model("stock.shipment.out.return", "receive", [s["id"] for s in drafts])
            shipments = await self._return_shipments(sale["id"])
        received = [s["id"] for s in shipments if s["state"] == "received"]
        if received:
            await self.rpc.model("stock.shipment.out.return", "do", received)
        leftovers = [s["id"] for s in shipments if s["state"] == "draft"]
        if leftovers:
            await self.rpc.model("stock.shipment.out.return", "cancel", leftovers)
            await self._ignore_exceptions(sale["id"], [])

    async def _return_shipments(self, sale_id: int) -> list[dict[str, Any]]:
        (sale,) = await self.rpc.model("sale.sale", "read", [sale_id], ["shipment_returns"])
        rows: list[dict[str, Any]] = await self.rpc.model(
            "stock.shipment.out.return", "read", sale["shipment_returns"], ["state", "moves"]
        )
        return rows

    async def _keep_fit(self, move_ids: list[int], moves: Sequence[ErpStockMove]) -> None:
        """A return shipment's draft moves keep the units fit to sell; the others go."""
        fit: dict[str, int] = {}
        for move in moves:
            fit[move.sku] = fit.get(move.sku, 0) + move.quantity
        incoming = await self.rpc.model(
            "stock.move", "read", move_ids, ["product.code", "quantity"]
        )
        unfit, pairs = [], []
        for move in incoming:
            code, quantity = move["product."]["code"], int(move["quantity"])
            keep = min(quantity, fit.get(code, 0))
            fit[code] = fit.get(code, 0) - keep
            if keep == 0:
                unfit.append(move["id"])
            elif keep != quantity:
                pairs += [[move["id"]], {"quantity": keep}]
        if pairs:
            await self.rpc.model("stock.move", "write", *pairs)
        if unfit:
            await self.rpc.model("stock.move", "delete", unfit)

    # --- store sales ------------------------------------------------------------------------

    async def post_journal(self, journal: Journal) -> str:
        """An `account.move` in the Miscellaneous journal described by the journal's id: a
        second call finds it (and posts it, had the first stopped at draft). Tryton books in
        the company's currency; the accounts are named by code."""
        found = await self.rpc.search_read(
            "account.move", [["description", "=", journal.journal_id]], ["id", "state"]
        )
        move = found[0] if found else await self._create_move(journal)
        if move["state"] == "draft":
            await self.rpc.model("account.move", "post", [move["id"]])
        (posted,) = await self.rpc.model("account.move", "read", [move["id"]], ["number"])
        return str(posted["number"] or move["id"])

    async def _create_move(self, journal: Journal) -> dict[str, Any]:
        (company,) = await self.rpc.search_read("company.company", [], ["id", "currency"])
        currencies = (await self._shop())["currencies"]
        if currencies.get(journal.currency) != company["currency"]:
            raise BusinessError(
                SYSTEM,
                ExceptionCode.ERP_REJECTED,
                f"{journal.journal_id} is in {journal.currency}; Tryton books this company "
                "in its own currency only",
            )
        codes = sorted({line.account for line in journal.lines})
        accounts = {
            row["code"]: row["id"]
            for row in await self.rpc.search_read(
                "account.account", [["code", "in", codes], ["closed", "!=", True]], ["id", "code"]
            )
        }
        missing = [code for code in codes if code not in accounts]
        misc = await self.rpc.search_read("account.journal", [["code", "=", "MISC"]], ["id"])
        periods = await self.rpc.search_read(
            "account.period",
            [
                ["company", "=", company["id"]], ["type", "=", "standard"], ["state", "=", "open"],
                ["start_date", "<=", journal.date], ["end_date", ">=", journal.date],
            ],
            ["id"],
        )  # fmt: skip
        refusal = (
            f"no account {', '.join(missing)} in Tryton" if missing
            else "no Miscellaneous (MISC) journal in Tryton" if not misc
            else f"no open period for {journal.date} in Tryton" if not periods
            else None
        )  # fmt: skip
        if refusal:
            raise BusinessError(SYSTEM, ExceptionCode.ERP_REJECTED, refusal)
        lines = [
            {
                "account": accounts[line.account], "debit": line.debit, "credit": line.credit,
                "description": line.memo,
            }
            for line in journal.lines
        ]  # fmt: skip
        (move_id,) = await self.rpc.model(
            "account.move",
            "create",
            [
                {
                    "company": company["id"], "period": periods[0]["id"], "journal": misc[0]["id"],
                    "date": journal.date, "description": journal.journal_id,
                    "lines": [["create", lines]],
                }
            ],
        )  # fmt: skip
        return {"id": move_id, "state": "draft"}

    async def post_cash_sale(
        self, sale: PosSale, items: list[ItemRef], location: str | None = None
    ) -> ErpSaleRef:
        """A store sale is a Tryton sale of the store's walk-in party, keyed by `sale.key`;
        the goods left over the counter, so its shipment is done and its invoice posted (from
        the web shop's one warehouse: `location` is not used)."""

        async def build() -> dict[str, Any]:
            code = f"pos:{sale.store_id}"
            name = f"Store {sale.store_id} walk-in customer"
            party, address = await self._customer(code, name, None, None)
            values = await self._sale_values(
                sale.key, f"POS {sale.store_id} {sale.transaction_id}", party, address,
                sale.currency,
            )  # fmt: skip
            lines = [
                (line.sku, Decimal(line.quantity), line.unit_price * line.quantity)
                for line in sale.lines
            ]
            values["lines"] = [["create", await self._lines(lines)]]
            values["sale_date"] = sale.business_day
            return values

        ref = self._ref(await self._confirm(await self._create_sale(sale.key, build)))
        await self.fulfil_sales_order(ref)
        await self.invoice_sales_order(ref)
        return ErpSaleRef(external_id=sale.key, erp_id=ref.erp_id)

    # --- stock ------------------------------------------------------------------------------

    async def stock_levels(self, skus: list[str]) -> list[StockLevel]:
        """Quantity on hand and forecast in the web shop's warehouse (named by its location
        code, e.g. WH), per product code."""
        shop = await self._shop()
        products = await self._product_rows(skus)
        if not products:
            return []
        rows = await self.rpc.model(
            "product.product",
            "read",
            [row["id"] for row in products.values()],
            ["code", "quantity", "forecast_quantity"],
            locations=[shop["warehouse"]],
        )
        return [
            StockLevel(
                sku=row["code"],
                warehouse=shop["warehouse_code"],
                on_hand=int(row["quantity"]),
                forecast=int(row["forecast_quantity"]),
            )
            for row in rows
        ]

    async def aclose(self) -> None:
        await self.rpc.aclose()


def _contacts(email: str | None, phone: str | None) -> list[dict[str, str]]:
    """A party's contact mechanisms for what the order names."""
    contacts = [{"type": "email", "value": email}] if email else []
    return contacts + ([{"type": "phone", "value": phone}] if phone else [])
