"""Taking units off an order before they ship: the ERP order is reduced, the channel cancels
and refunds them, each exactly once however often the call is retried (sandbox over HTTP)."""

from __future__ import annotations

import httpx

from adapters.registry import build_adapters
from adapters.shopify import order_from_webhook
from adapters.walmart import order_from_walmart
from canonical import Money, OrderReduction
from canonical.cancellation import LineCancellation
from tests.conftest import SandboxHandle
from tests.test_tryton_erp import an_order

CANDLE, MUG = "CANDLE-CEDAR-8OZ", "MUG-STONE-350"


def test_an_order_keeping_fewer_units_shrinks_its_amounts() -> None:
    order = an_order()  # 2 candles at 22.50, a mug at 18.00 less 3.00; shipping 5, discount 2
    kept = order.keeping({"1": 1, "2": 0})
    assert [(line.line_id, line.quantity) for line in kept.lines] == [("1", 1)]
    assert kept.subtotal == Money.of("22.50", "USD")
    assert kept.total == Money.of("25.50", "USD")
    assert order.keeping({}) == order.model_copy(update={"total": order.expected_total()})


async def test_netsuite_order_is_reduced_once_and_bills_what_it_keeps(
    sandbox: SandboxHandle,
) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(sandbox.shopify_orders(skus=[(CANDLE, 3), (MUG, 1)])[0])
    ref = await adapters.erp.upsert_sales_order(
        order, await adapters.erp.resolve_items(order.skus())
    )
    candle, mug = order.lines
    reduction = OrderReduction(order=order, keep={candle.line_id: 1, mug.line_id: 0})
    await adapters.erp.reduce_sales_order(reduction)
    await adapters.erp.reduce_sales_order(reduction)  # a retry changes nothing
    [record] = httpx.get(f"{sandbox.url}/_sandbox/netsuite/salesOrders").json()
    lines = record["item"]["items"]
    assert (lines[0]["quantity"], lines[0]["isClosed"]) == (1, False)
    assert lines[1]["isClosed"] is True
    await adapters.erp.fulfil_sales_order(ref)
    await adapters.erp.invoice_sales_order(ref)
    [invoice] = httpx.get(f"{sandbox.url}/_sandbox/netsuite/invoices").json()
    assert invoice["total"] == float(candle.keeping(1).net.amount)
    await adapters.aclose()


async def test_shopify_cancels_and_refunds_units_once(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    body = sandbox.shopify_orders(skus=[(CANDLE, 2), (MUG, 1)])[0]
    order = order_from_webhook(body)
    candle, mug = order.lines
    cancellation = LineCancellation(
        cancellation_id=f"{order.key}~cancel-1",
        order=order,
        lines={candle.line_id: 1, mug.line_id: 1},
        reason="not collected",
    )
    shopify = adapters.marketplace(order.channel)
    await shopify.cancel_lines(cancellation)
    await shopify.cancel_lines(cancellation)  # the same key: one refund
    view = httpx.get(f"{sandbox.url}/_sandbox/shopify/orders/{body['id']}").json()
    [refund] = view["refunds"]
    one = [line.keeping(1) for line in (candle, mug)]
    expected = sum((line.net + (line.tax or Money.zero("USD")) for line in one), Money.zero("USD"))
    assert refund["totalRefundedSet"]["shopMoney"]["amount"] == str(expected.rounded().amount)
    assert {i["restockType"] for i in refund["refundLineItems"]} == {"CANCEL"}
    remaining = {
        item["lineItem"]["sku"]: item["remainingQuantity"]
        for item in view["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"]
    }
    assert remaining == {CANDLE: 1, MUG: 0}
    await adapters.aclose()


async def test_walmart_cancels_the_last_units_of_a_line_once(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    po = httpx.post(
        f"{sandbox.url}/_sandbox/walmart/orders", json={"skus": [[CANDLE, 3], [MUG, 1]]}
    ).json()
    order = order_from_walmart(po)
    candle = next(line for line in order.lines if line.sku == CANDLE)
    walmart = adapters.marketplace(order.channel)
    first = LineCancellation(
        cancellation_id="c1", order=order, lines={candle.line_id: 1}, reason="no stock",
        out_of_stock=True,
    )  # fmt: skip
    await walmart.cancel_lines(first)
    await walmart.cancel_lines(first)  # a retry cancels nothing more
    second = first.model_copy(update={"cancellation_id": "c2", "before": {candle.line_id: 1}})
    await walmart.cancel_lines(second)
    after = httpx.get(f"{sandbox.url}/_sandbox/walmart/orders/{order.external_id}").json()
    statuses = {
        line["lineNumber"]: line["orderLineStatuses"]["orderLineStatus"][-1]
        for line in after["orderLines"]["orderLine"]
    }
    cancelled = sorted(ref for ref, s in statuses.items() if s["status"] == "Cancelled")
    assert cancelled == ["2", "3"]  # candle units 2 and 3; unit 1 and the mug stay open
    assert statuses["3"]["cancellationReason"] == "SELLER_CANCEL_OUT_OF_STOCK"
    await adapters.aclose()
