"""The ERP port against a real Tryton 8.2 (started by the `tryton` fixture), over JSON-RPC;
answers lost on the wire come from a proxy that cuts the connection after the request."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.errors import BusinessError, TransientError
from adapters.tryton import TrytonErp
from adapters.tryton_rpc import TrytonRpc
from canonical import (
    Address,
    Channel,
    CreditLine,
    CreditNoteRequest,
    Customer,
    ErpStockMove,
    ExceptionCode,
    Money,
    Order,
    OrderLine,
    OrderReduction,
    OrderStatus,
)
from canonical.journal import settlement_journal
from canonical.pos import PosSale, PosSaleLine
from canonical.settlement import AmountKind, Settlement, SettlementLine
from sandbox.lossy_proxy import LossyProxy
from sandbox.shipstation import AutoShip
from services.orders import start_order
from settlements.accounts import account_map_path, load_account_map
from testing.eventually import reaches
from testing.harness import order_harness
from tests.test_integration import new_order, run_order
from tests.test_settlement_flow import run_import
from tryton_local.instance import ADMIN_PASSWORD, ADMIN_USER, DATABASE, TrytonInstance
from workflows.order_to_cash import OrderToCashWorkflow

WEB_SHOP = "Retail Orchestrator"
CANDLE, MUG = "CANDLE-CEDAR-8OZ", "MUG-STONE-350"


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def an_order(**changes: Any) -> Order:
    order = Order(
        channel=Channel.SHOPIFY,
        external_id=f"T-{uuid.uuid4().hex[:10]}",
        order_number="#T1",
        placed_at=datetime.now(UTC),
        currency="USD",
        customer=Customer(email=f"{uuid.uuid4().hex[:8]}@example.com", name="Ann Buyer"),
        ship_to=Address(
            name="Ann Buyer",
            line1="1 Main St",
            city="Boston",
            region="MA",
            postal_code="02110",
            country="US",
        ),
        lines=[
            OrderLine(line_id="1", sku=CANDLE, quantity=2, unit_price=usd("22.50")),
            OrderLine(
                line_id="2", sku=MUG, quantity=1, unit_price=usd("18.00"), discount=usd("3.00")
            ),
        ],
        shipping=usd("5.00"),
        order_discount=usd("2.00"),
        tax_total=usd("0"),
        total=usd("63.00"),
    )
    return order.model_copy(update=changes)


def rpc_to(url: str) -> TrytonRpc:
    return TrytonRpc(url, DATABASE, ADMIN_USER, ADMIN_PASSWORD)


@pytest.fixture
async def erp(tryton: TrytonInstance) -> AsyncIterator[TrytonErp]:
    adapter = TrytonErp(rpc_to(tryton.url), web_shop=WEB_SHOP)
    yield adapter
    await adapter.aclose()


@pytest.fixture
def proxy(tryton: TrytonInstance) -> Iterator[LossyProxy]:
    with LossyProxy(tryton.url) as lossy:
        yield lossy


async def sales_for(erp: TrytonErp, key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await erp.rpc.search_read(
        "sale.sale",
        [["web_id", "=", key]],
        ["id", "state", "shipment_state", "invoice_state", "total_amount", "shipments"],
    )
    return rows


async def invoices_of(erp: TrytonErp, sale_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await erp.rpc.search_read(
        "account.invoice", [["sales", "=", sale_id]], ["id", "state", "total_amount"]
    )
    return rows


async def on_hand(erp: TrytonErp, sku: str) -> int:
    (level,) = await erp.stock_levels([sku])
    assert level.warehouse == "WH"  # the location code, as the inventory network names it
    return level.on_hand


async def test_a_lost_create_answer_still_makes_exactly_one_confirmed_sale(
    erp: TrytonErp, proxy: LossyProxy
) -> None:
    order = an_order()
    items = await erp.resolve_items(order.skus())
    lossy = TrytonErp(rpc_to(proxy.url), web_shop=WEB_SHOP)
    proxy.cut_after_request(r'"model\.sale\.sale\.create"')
    with pytest.raises(TransientError):
        await lossy.upsert_sales_order(order, items)
    assert proxy.cut == 1
    (draft,) = await sales_for(erp, order.key)
    assert draft["state"] == "draft"  # the create happened, its answer did not arrive
    ref = await lossy.upsert_sales_order(order, items)  # the activity's retry
    again = await lossy.upsert_sales_order(order, items)
    await lossy.aclose()

    (sale,) = await sales_for(erp, order.key)
    assert ref == again and ref.erp_id == str(sale["id"]) and ref.number
    assert sale["state"] == "processing" and ref.shipment_state == "waiting"
    # lines + shipping - order discount, at the channel's net prices
    assert sale["total_amount"] == Decimal("45.00") + Decimal("15.00") + 5 - 2
    assert len(sale["shipments"]) == 1


async def lost_then_retried(proxy: LossyProxy, method: str, call: Any) -> None:
    """`call(lossy_erp)` once with the answer to `method` cut after Tryton carried it out,
    then again: the retry must take Tryton's state for done."""
    lossy = TrytonErp(rpc_to(proxy.url), web_shop=WEB_SHOP)
    proxy.cut_after_request(rf'"model\.{re.escape(method)}"')
    with pytest.raises(TransientError):
        await call(lossy)
    assert proxy.cut == 1, f"no answer to {method} was cut"
    await call(lossy)
    await lossy.aclose()


async def test_a_lost_cancel_answer(erp: TrytonErp, proxy: LossyProxy) -> None:
    order = an_order()
    await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    await lost_then_retried(
        proxy, "stock.shipment.out.cancel", lambda lossy: lossy.cancel_sales_order(order.key)
    )
    (sale,) = await sales_for(erp, order.key)
    assert sale["shipment_state"] == "none"


async def test_a_lost_delivery_answer_drops_stock_once(erp: TrytonErp, proxy: LossyProxy) -> None:
    order = an_order()
    ref = await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    candles = await on_hand(erp, CANDLE)
    await lost_then_retried(
        proxy, "stock.shipment.out.do", lambda lossy: lossy.fulfil_sales_order(ref)
    )
    assert await on_hand(erp, CANDLE) == candles - 2


async def test_a_lost_invoice_answer_posts_one_invoice(erp: TrytonErp, proxy: LossyProxy) -> None:
    order = an_order()
    ref = await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    await erp.fulfil_sales_order(ref)
    await lost_then_retried(
        proxy, "account.invoice.post", lambda lossy: lossy.invoice_sales_order(ref)
    )
    assert [i["state"] for i in await invoices_of(erp, int(ref.erp_id))] == ["posted"]


async def test_a_draft_or_quoted_sale_is_cancelled(erp: TrytonErp) -> None:
    order = an_order()
    items = await erp.resolve_items(order.skus())
    rpc = erp.rpc
    # A create that stopped before confirmation (e.g. the worker died): still a draft.
    shop = (await rpc.search_read("web.shop", [["name", "=", WEB_SHOP]], ["id"]))[0]
    party = (await rpc.search_read("party.party", [], ["id", "addresses"]))[0]
    await rpc.model(
        "sale.sale",
        "create",
        [{"web_shop": shop["id"], "web_id": order.key, "party": party["id"],
          "invoice_address": party["addresses"][0], "shipment_address": party["addresses"][0]}],
    )  # fmt: skip
    await erp.cancel_sales_order(order.key)
    await erp.cancel_sales_order(order.key)  # idempotent
    await erp.cancel_sales_order("shopify-never-seen")  # unknown counts as cancelled
    (sale,) = await sales_for(erp, order.key)
    assert sale["state"] == "cancelled"
    with pytest.raises(BusinessError, match="cancelled"):
        await erp.upsert_sales_order(order, items)


async def test_a_confirmed_sale_is_unwound_until_goods_leave(erp: TrytonErp) -> None:
    order = an_order()
    items = await erp.resolve_items(order.skus())
    await erp.upsert_sales_order(order, items)
    before = await on_hand(erp, CANDLE)
    await erp.cancel_sales_order(order.key)
    await erp.cancel_sales_order(order.key)

    (sale,) = await sales_for(erp, order.key)
    shipments = await erp.rpc.model("stock.shipment.out", "read", sale["shipments"], ["state"])
    assert [s["state"] for s in shipments] == ["cancelled"]
    assert [i["state"] for i in await invoices_of(erp, sale["id"])] == ["cancelled"]
    assert sale["state"] == "done" and sale["shipment_state"] == "none"
    assert await on_hand(erp, CANDLE) == before

    shipped = an_order()
    ref = await erp.upsert_sales_order(shipped, items)
    await erp.fulfil_sales_order(ref)
    with pytest.raises(BusinessError, match="record a return") as refused:
        await erp.cancel_sales_order(shipped.key)
    assert refused.value.code is ExceptionCode.ERP_REJECTED


async def test_delivery_drops_stock_and_the_invoice_is_posted_once(erp: TrytonErp) -> None:
    order = an_order()
    ref = await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    candles, mugs = await on_hand(erp, CANDLE), await on_hand(erp, MUG)
    await erp.fulfil_sales_order(ref)
    await erp.fulfil_sales_order(ref)  # a retry changes nothing
    assert (await on_hand(erp, CANDLE), await on_hand(erp, MUG)) == (candles - 2, mugs - 1)
    read_back = await erp.sales_order(order.key)
    assert read_back is not None and read_back.shipment_state == "sent"

    invoice = await erp.invoice_sales_order(ref)
    assert await erp.invoice_sales_order(ref) == invoice
    (posted,) = await invoices_of(erp, int(ref.erp_id))
    assert posted["state"] == "posted" and posted["total_amount"] == Decimal("63.00")
    assert invoice.number


async def test_a_reduced_sale_ships_and_bills_only_what_it_keeps(erp: TrytonErp) -> None:
    order = an_order()
    ref = await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    candles, mugs = await on_hand(erp, CANDLE), await on_hand(erp, MUG)
    reduction = OrderReduction(order=order, keep={"1": 1, "2": 0})
    await erp.reduce_sales_order(reduction)
    await erp.reduce_sales_order(reduction)  # a retry amends nothing
    amendments = await erp.rpc.search_read(
        "sale.amendment", [["sale", "=", int(ref.erp_id)]], ["state"]
    )
    assert [a["state"] for a in amendments] == ["validated"]
    await erp.fulfil_sales_order(ref)
    assert (await on_hand(erp, CANDLE), await on_hand(erp, MUG)) == (candles - 1, mugs)
    await erp.invoice_sales_order(ref)
    (posted,) = await invoices_of(erp, int(ref.erp_id))
    assert posted["total_amount"] == Decimal("25.50")  # one candle + shipping - discount
    (sale,) = await sales_for(erp, order.key)
    assert sale["shipment_state"] == "sent"
    with pytest.raises(BusinessError, match="shipped goods"):
        await erp.reduce_sales_order(reduction.model_copy(update={"keep": {"1": 0}}))


async def test_a_return_is_credited_once(erp: TrytonErp) -> None:
    order = an_order()
    ref = await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    await erp.fulfil_sales_order(ref)
    await erp.invoice_sales_order(ref)
    request = CreditNoteRequest(
        credit_key=f"return-{order.key}-1",
        order_key=order.key,
        lines=[CreditLine(sku=CANDLE, quantity=1)],
        reason="arrived broken",
    )
    credit = await erp.credit_return(request)
    assert await erp.credit_return(request) == credit
    (note,) = await erp.rpc.model("account.invoice", "read", [int(credit.erp_id)],
                                  ["state", "total_amount"])  # fmt: skip
    assert note["state"] == "posted" and note["total_amount"] == Decimal("-22.50")
    assert credit.order_erp_id == ref.erp_id
    with pytest.raises(BusinessError, match="no Tryton sale"):
        await erp.credit_return(request.model_copy(update={"order_key": "shopify-nope"}))


async def test_returned_goods_fit_to_sell_come_back_once(erp: TrytonErp, proxy: LossyProxy) -> None:
    order = an_order()
    ref = await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))
    await erp.fulfil_sales_order(ref)
    await erp.invoice_sales_order(ref)
    key = f"return-{order.key}-2"
    request = CreditNoteRequest(
        credit_key=key,
        order_key=order.key,
        lines=[CreditLine(sku=CANDLE, quantity=2), CreditLine(sku=MUG, quantity=1)],
    )
    await erp.credit_return(request)
    candles, mugs = await on_hand(erp, CANDLE), await on_hand(erp, MUG)
    fit = [ErpStockMove(sku=CANDLE, quantity=1)]  # one candle resalable, the rest damaged
    await lost_then_retried(
        proxy,
        "stock.shipment.out.return.do",
        lambda lossy: lossy.restock_return(key, order.key, fit),
    )
    await erp.restock_return(key, order.key, fit)  # a retry after success changes nothing
    assert (await on_hand(erp, CANDLE), await on_hand(erp, MUG)) == (candles + 1, mugs)
    (returned,) = await sales_for(erp, key)  # no goods awaited any more
    assert returned["shipment_state"] == "sent"


async def test_a_store_sale_is_posted_once_with_its_goods_gone(erp: TrytonErp) -> None:
    sale = PosSale(
        transaction_id=uuid.uuid4().hex[:8], store_id="S01", occurred_at=datetime.now(UTC),
        currency="USD", lines=[PosSaleLine(sku=MUG, quantity=2, unit_price=usd("18.00"))],
        tax=usd("0"), total=usd("36.00"),
    )  # fmt: skip
    mugs = await on_hand(erp, MUG)
    items = await erp.resolve_items([MUG])
    first = await erp.post_cash_sale(sale, items)
    assert await erp.post_cash_sale(sale, items) == first
    (row,) = await sales_for(erp, sale.key)
    assert row["shipment_state"] == "sent" and await on_hand(erp, MUG) == mugs - 2
    assert [i["state"] for i in await invoices_of(erp, row["id"])] == ["posted"]


def amazon_settlement(settlement_id: str, currency: str = "USD") -> Settlement:
    """A settlement of one order less Amazon's cut, and the account's fee."""

    def line(n: int, kind: AmountKind, amount: str, order: str | None) -> SettlementLine:
        return SettlementLine(
            line_id=f"{settlement_id}:{n}", kind=kind, amount=Money.of(amount, currency),
            order_id=order,
        )  # fmt: skip

    order = "114-6620792-0051848"
    return Settlement(
        channel=Channel.AMAZON, settlement_id=settlement_id, deposit_date=date.today(),
        total=Money.of("51.71", currency),
        lines=[
            line(2, AmountKind.PRINCIPAL, "60.00", order),
            line(3, AmountKind.TAX, "3.60", order),
            line(4, AmountKind.WITHHELD_TAX, "-3.60", order),
            line(5, AmountKind.COMMISSION, "-9.00", order),
            line(6, AmountKind.FEE, "-0.29", None),
            line(7, AmountKind.ADJUSTMENT, "1.00", None),
        ],
    )  # fmt: skip


async def test_a_settlement_is_posted_once_as_a_balanced_move(
    erp: TrytonErp, proxy: LossyProxy
) -> None:
    accounts = load_account_map(account_map_path(None, "tryton")).accounts(Channel.AMAZON)
    journal = settlement_journal(amazon_settlement(uuid.uuid4().hex[:10]), accounts)
    # The move is made, the answer lost: the retry finds it (a draft) and posts it.
    await lost_then_retried(proxy, "account.move.create", lambda e: e.post_journal(journal))
    first = await erp.post_journal(journal)
    assert await erp.post_journal(journal) == first  # found again, not booked twice
    moves = await erp.rpc.search_read(
        "account.move", [["description", "=", journal.journal_id]], ["id", "state", "lines"]
    )
    ((state, line_ids),) = [(m["state"], m["lines"]) for m in moves]
    assert state == "posted"
    lines = await erp.rpc.model(
        "account.move.line", "read", line_ids, ["account.code", "debit", "credit"]
    )
    booked = sorted((row["account."]["code"], row["debit"], row["credit"]) for row in lines)
    assert booked == sorted(
        (line.account, line.debit, line.credit) for line in journal.lines
    )  # fmt: skip
    assert ("1.1.1", Decimal("51.71"), Decimal(0)) in booked  # the deposit, at the bank
    euro = settlement_journal(amazon_settlement(uuid.uuid4().hex[:10], "EUR"), accounts)
    with pytest.raises(BusinessError, match="Tryton books this company in its own currency"):
        await erp.post_journal(euro)


async def test_errors_are_typed(erp: TrytonErp, tryton: TrytonInstance) -> None:
    with pytest.raises(BusinessError) as unknown:
        await erp.resolve_items([CANDLE, "NO-SUCH-SKU"])
    assert unknown.value.code is ExceptionCode.UNKNOWN_SKU
    # A user error from Tryton itself keeps Tryton's message.
    with pytest.raises(BusinessError) as refused:
        await erp.rpc.model("sale.sale", "create", [{"party": 999_999}])
    assert refused.value.code is ExceptionCode.ERP_REJECTED and refused.value.message
    down = TrytonErp(rpc_to("http://127.0.0.1:9"), web_shop=WEB_SHOP)
    with pytest.raises(TransientError):
        await down.resolve_items([CANDLE])
    await down.aclose()
    wrong = TrytonErp(TrytonRpc(tryton.url, DATABASE, ADMIN_USER, "wrong"), web_shop=WEB_SHOP)
    with pytest.raises(TransientError, match="login"):
        await wrong.resolve_items([CANDLE])
    await wrong.aclose()


async def test_an_expired_session_is_renewed(erp: TrytonErp) -> None:
    await erp.resolve_items([CANDLE])
    await erp.rpc.call("common.db.logout")  # the server forgets the session, we do not
    assert [i.sku for i in await erp.resolve_items([MUG])] == [MUG]


async def test_orders_against_tryton_make_one_sale_each_within_the_erp_quota(
    dev_env: WorkflowEnvironment, tryton: TrytonInstance, erp: TrytonErp, proxy: LossyProxy
) -> None:
    """Four orders at once, the ERP held to two calls in flight, one create's answer lost."""
    async with order_harness(
        dev_env.client,
        autoship=AutoShip(after_seconds=0.3),
        ERP="tryton",
        TRYTON_URL=proxy.url,
        ERP_MAX_CONCURRENT_CALLS="2",
    ) as stack:
        orders = [new_order(stack) for _ in range(4)]
        quantities: dict[str, int] = {}
        for line in (line for order in orders for line in order.lines):
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
        before = {sku: await on_hand(erp, sku) for sku in quantities}
        proxy.cut_after_request(r'"model\.sale\.sale\.create"')
        results = await asyncio.gather(*(run_order(stack, order) for order in orders))

    assert [r.status for r in results] == [OrderStatus.COMPLETED] * 4, results[0].timeline
    assert proxy.cut == 1 and proxy.peak_in_flight <= 2
    for order, result in zip(orders, results, strict=True):
        (sale,) = await sales_for(erp, order.key)
        assert result.erp_order is not None and result.erp_order.erp_id == str(sale["id"])
        assert sale["shipment_state"] == "sent"
        assert [i["state"] for i in await invoices_of(erp, sale["id"])] == ["posted"]
    after = {sku: await on_hand(erp, sku) for sku in quantities}
    assert after == {sku: before[sku] - quantity for sku, quantity in quantities.items()}


async def test_orders_paid_by_a_payout_imported_twice_post_one_move(
    dev_env: WorkflowEnvironment, tryton: TrytonInstance, erp: TrytonErp
) -> None:
    """SETTLEMENT_CHANNELS=shopify against Tryton: two invoiced orders wait for their cash;
    Shopify Payments pays them out, two imports overlap, the payout is one posted move in
    Tryton and both orders complete paid."""
    async with order_harness(
        dev_env.client,
        autoship=AutoShip(after_seconds=0.3),
        ERP="tryton",
        TRYTON_URL=tryton.url,
        SETTLEMENT_CHANNELS="shopify",
    ) as stack:
        handles = [await start_order(stack.client, stack.settings, new_order(stack)) for _ in "ab"]
        for handle in handles:
            await reaches(handle, OrderToCashWorkflow.status, OrderStatus.AWAITING_SETTLEMENT)
        async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as http:
            paid = (await http.post("/_sandbox/shopify/payouts")).json()
        imports = await asyncio.gather(*(run_import(stack, Channel.SHOPIFY) for _ in "ab"))
        assert sorted(len(started) for started in imports) == [0, 1]  # one workflow, once
        results = [await asyncio.wait_for(handle.result(), 60) for handle in handles]
    assert all(r.status is OrderStatus.COMPLETED for r in results), results[0].timeline
    assert all(r.timeline[-1].note.startswith("paid: ") for r in results)
    payout_id = paid["payout"]["id"].rsplit("/", 1)[1]
    moves = await erp.rpc.search_read(
        "account.move", [["description", "=", f"settlement-shopify-{payout_id}"]], ["state"]
    )
    assert [move["state"] for move in moves] == ["posted"]


def test_the_lossy_proxy_passes_answers_through(proxy: LossyProxy) -> None:
    body = {"id": 1, "method": "common.server.version", "params": []}
    response = httpx.post(f"{proxy.url}/rpc/", json=body)
    assert response.status_code == 200 and response.json()["result"].startswith("8.2")
