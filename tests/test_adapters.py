"""Adapters against the sandbox over real HTTP: idempotency, error classification, shapes."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.errors import BusinessError, RateLimitedError, TransientError
from adapters.ports import ErpPort
from adapters.registry import Adapters, build_adapters, build_erp
from adapters.shopify import order_from_webhook
from canonical import (
    CreditLine,
    CreditNoteRequest,
    ExceptionCode,
    FulfillmentLine,
    FulfillmentRequest,
)
from infra.settings import Settings
from sandbox.catalog import INITIAL_STOCK
from tests.conftest import SandboxHandle

MUG_BACK = CreditLine(sku="MUG-STONE-350", quantity=1)


async def test_erp_sales_order_is_idempotent_and_billed_once(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(sandbox.shopify_orders()[0])
    items = await adapters.erp.resolve_items(order.skus())
    first = await adapters.erp.upsert_sales_order(order, items)
    second = await adapters.erp.upsert_sales_order(order, items)
    assert first == second and first.erp_id
    [record] = httpx.get(f"{sandbox.url}/_sandbox/netsuite/salesOrders").json()
    assert record["id"] == first.erp_id and record["orderStatus"]["id"] == "B"
    assert sandbox.stats()["erp_sales_orders"] == 1
    invoice = await adapters.erp.invoice_sales_order(first)
    assert await adapters.erp.invoice_sales_order(first) == invoice
    assert sandbox.stats()["erp_invoices"] == 1
    with pytest.raises(BusinessError, match="billed") as caught:
        await adapters.erp.cancel_sales_order(order.key)
    assert caught.value.code is ExceptionCode.ERP_REJECTED
    await adapters.aclose()


async def test_erp_cancel_closes_lines_and_is_idempotent(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(sandbox.shopify_orders()[0])
    await adapters.erp.upsert_sales_order(order, await adapters.erp.resolve_items(order.skus()))
    await adapters.erp.cancel_sales_order(order.key)
    await adapters.erp.cancel_sales_order(order.key)
    await adapters.erp.cancel_sales_order("shopify-never-seen")
    record = httpx.get(f"{sandbox.url}/_sandbox/netsuite/salesOrders").json()[0]
    assert record["orderStatus"]["id"] == "H"
    assert all(line["isClosed"] for line in record["item"]["items"])
    await adapters.aclose()


async def erp_stock(adapters: Adapters, sku: str) -> dict[str, int]:
    return {level.warehouse: level.on_hand for level in await adapters.erp.stock_levels([sku])}


async def test_erp_delivery_drops_the_books_and_a_return_is_credited_once(
    sandbox: SandboxHandle,
) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(sandbox.shopify_orders(skus=[("MUG-STONE-350", 2)])[0])
    ref = await adapters.erp.upsert_sales_order(
        order, await adapters.erp.resolve_items(order.skus())
    )
    before = await erp_stock(adapters, "MUG-STONE-350")
    await adapters.erp.fulfil_sales_order(ref)
    await adapters.erp.fulfil_sales_order(ref)  # a retry: the order is fulfilled already
    after = await erp_stock(adapters, "MUG-STONE-350")
    # No location named: the order's own (NETSUITE_LOCATION_ID), the east warehouse.
    assert (before["3"] - after["3"], before["4"] - after["4"]) == (2, 0)
    shipped = await adapters.erp.sales_order(order.key)
    assert shipped is not None and shipped.shipment_state == "sent"
    assert await adapters.erp.sales_order("shopify-never-seen") is None
    with pytest.raises(BusinessError, match="not billed"):
        await adapters.erp.credit_return(
            CreditNoteRequest(credit_key="r-0", order_key=order.key, lines=[MUG_BACK])
        )
    await adapters.erp.invoice_sales_order(ref)
    request = CreditNoteRequest(credit_key="r-1", order_key=order.key, lines=[MUG_BACK])
    credit = await adapters.erp.credit_return(request)
    assert await adapters.erp.credit_return(request) == credit
    assert credit.order_erp_id == ref.erp_id and credit.erp_id
    await adapters.aclose()


async def test_erp_requests_are_paced_to_the_quota(sandbox: SandboxHandle) -> None:
    """Fulfilling reads the order, then transforms it: against a per-second quota kept busy,
    paced above the quota some of those calls are refused; paced to the quota, none is."""

    def erp(calls_per_second: int) -> ErpPort:
        env = {"SANDBOX_URL": sandbox.url, "ERP_CALLS_PER_SECOND": str(calls_per_second)}
        return build_erp(Settings.from_env(env))

    bodies = sandbox.shopify_orders(count=12, skus=[("MUG-STONE-350", 1)])
    orders = [order_from_webhook(body) for body in bodies]
    fast, paced = erp(100), erp(5)
    items = await fast.resolve_items(orders[0].skus())
    refs = [await fast.upsert_sales_order(order, items) for order in orders]
    sandbox.faults("netsuite", rate_limit_per_s=5)
    too_fast = await asyncio.gather(
        *(fast.fulfil_sales_order(ref) for ref in refs[:6]), return_exceptions=True
    )
    assert any(isinstance(outcome, RateLimitedError) for outcome in too_fast)
    sandbox.faults("netsuite", rate_limit_per_s=5)  # a full bucket again
    await asyncio.gather(*(paced.fulfil_sales_order(ref) for ref in refs[6:]))
    statuses = {
        record["id"]: record["orderStatus"]["id"]
        for record in httpx.get(f"{sandbox.url}/_sandbox/netsuite/salesOrders").json()
    }
    assert {statuses[ref.erp_id] for ref in refs[6:]} == {"F"}  # Pending Billing
    for port in (fast, paced):
        await port.aclose()  # type: ignore[attr-defined]


async def test_unknown_sku_is_a_business_error_naming_it(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    with pytest.raises(BusinessError, match="NOPE-1") as caught:
        await adapters.erp.resolve_items(["CANDLE-CEDAR-8OZ", "NOPE-1"])
    assert caught.value.code is ExceptionCode.UNKNOWN_SKU
    await adapters.aclose()


async def test_transient_and_rate_limited_errors_are_classified(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    sandbox.faults("netsuite", fail_next=1)
    with pytest.raises(TransientError):
        await adapters.erp.resolve_items(["CANDLE-CEDAR-8OZ"])
    sandbox.faults("netsuite", throttle_next=1, retry_after_s=7)
    with pytest.raises(RateLimitedError) as limited:
        await adapters.erp.resolve_items(["CANDLE-CEDAR-8OZ"])
    assert limited.value.retry_after == 7
    sandbox.faults("shipstation", throttle_next=1, retry_after_s=27)
    with pytest.raises(RateLimitedError) as ss_limited:
        await adapters.wms.cancel_fulfillment("shopify-1")
    assert ss_limited.value.retry_after == 27
    sandbox.faults("avatax", outage=True)
    order = order_from_webhook(sandbox.shopify_orders()[0])
    with pytest.raises(TransientError):
        await adapters.tax.quote(order)
    await adapters.aclose()


async def test_shopify_throttled_body_becomes_rate_limit(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(sandbox.shopify_orders()[0])
    sandbox.faults("shopify", throttle_next=1)
    with pytest.raises(RateLimitedError) as limited:
        await adapters.marketplace(order.channel).cancel(order, "test")
    assert limited.value.retry_after >= 1
    await adapters.aclose()


async def test_tax_quote_matches_storefront_and_rejects_bad_address(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(
        sandbox.shopify_orders(skus=[("CANDLE-CEDAR-8OZ", 2), ("MUG-STONE-350", 1)])[0]
    )
    quote = await adapters.tax.quote(order)
    assert quote.total_tax == order.tax_total
    assert quote.document_code == order.key
    await adapters.tax.quote(order)  # createoradjust: same document
    assert sandbox.stats()["tax_documents"] == 1
    await adapters.tax.void(order.key)
    await adapters.tax.void("never-created")
    assert (
        httpx.get(f"{sandbox.url}/_sandbox/avatax/documents/{order.key}").json()["status"]
        == "Cancelled"
    )
    assert order.ship_to is not None
    bad = order.model_copy(
        update={"ship_to": order.ship_to.model_copy(update={"postal_code": "ABC"})}
    )
    with pytest.raises(BusinessError) as caught:
        await adapters.tax.quote(bad)
    assert caught.value.code is ExceptionCode.ADDRESS_REJECTED
    await adapters.aclose()


async def test_wms_stock_levels_follow_shipments_from_the_chosen_warehouse(
    sandbox: SandboxHandle,
) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(sandbox.shopify_orders(skus=[("MUG-STONE-350", 3)])[0])
    assert order.ship_to is not None
    httpx.put(
        f"{sandbox.url}/_sandbox/shipstation/inventory/102/MUG-STONE-350", json={"on_hand": 10}
    ).raise_for_status()
    request = FulfillmentRequest(
        order_key=order.key,
        order_number=order.order_number,
        ship_to=order.ship_to,
        lines=[
            FulfillmentLine(line_id=x.line_id, sku=x.sku, quantity=x.quantity) for x in order.lines
        ],
        warehouse="102",
    )
    await adapters.wms.create_fulfillment(request)

    async def mugs() -> dict[str, tuple[int, int]]:
        levels = await adapters.wms.stock_levels()
        return {x.warehouse: (x.on_hand, x.forecast) for x in levels if x.sku == "MUG-STONE-350"}

    assert await mugs() == {"101": (INITIAL_STOCK, INITIAL_STOCK), "102": (10, 7)}  # 3 allocated
    httpx.post(f"{sandbox.url}/_sandbox/shipstation/orders/{order.key}/ship").raise_for_status()
    assert (await mugs())["102"] == (7, 7)
    await adapters.aclose()


async def test_fulfilment_shipment_and_channel_confirmation_once(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    order = order_from_webhook(
        sandbox.shopify_orders(skus=[("CANDLE-CEDAR-8OZ", 2), ("MUG-STONE-350", 1)])[0]
    )
    assert order.ship_to is not None
    request = FulfillmentRequest(
        order_key=order.key,
        order_number=order.order_number,
        ship_to=order.ship_to,
        lines=[
            FulfillmentLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
            for line in order.lines
        ],
    )
    wms_id = await adapters.wms.create_fulfillment(request)
    assert await adapters.wms.create_fulfillment(request) == wms_id  # upsert on orderKey
    first_line = order.lines[0]
    shipped = httpx.post(
        f"{sandbox.url}/_sandbox/shipstation/orders/{order.key}/ship",
        json={"lines": [{"lineItemKey": first_line.line_id, "quantity": 2}], "carrier": "ups"},
    ).json()
    batch = shipped["batchNumber"]
    url = f"{sandbox.url}/shipstation/shipments?batchId={batch}&includeShipmentItems=True"
    [shipment] = await adapters.wms.fetch_shipments(url)
    assert shipment.carrier == "ups" and shipment.tracking_url and shipment.lines[0].quantity == 2
    shopify = adapters.marketplace(order.channel)
    fulfillment = await shopify.confirm_shipment(order, shipment)
    assert await shopify.confirm_shipment(order, shipment) == fulfillment
    view = httpx.get(f"{sandbox.url}/_sandbox/shopify/orders/{order.external_id}").json()
    assert len(view["fulfillments"]) == 1
    remaining = {
        n["lineItem"]["sku"]: n["remainingQuantity"]
        for n in view["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"]
    }
    assert remaining == {"CANDLE-CEDAR-8OZ": 0, "MUG-STONE-350": 1}
    with pytest.raises(BusinessError, match="outside the WMS"):
        await adapters.wms.fetch_shipments("http://evil.example/shipments")
    with pytest.raises(BusinessError, match="fulfillments"):
        await shopify.cancel(order, "shipped orders are returned, not cancelled")
    await adapters.aclose()


async def test_each_partner_refuses_missing_credentials_in_its_own_shape(
    sandbox: SandboxHandle,
) -> None:
    netsuite = httpx.get(f"{sandbox.url}/netsuite/services/rest/record/v1/salesOrder/eid:x")
    assert netsuite.status_code == 401
    assert netsuite.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    avatax = httpx.post(f"{sandbox.url}/avatax/api/v2/transactions/createoradjust", json={})
    assert avatax.status_code == 401 and avatax.json()["error"]["code"] == "AuthenticationException"
    shopify = httpx.post(f"{sandbox.url}/shopify/shop/admin/api/2026-01/graphql.json", json={})
    assert shopify.status_code == 401 and "access token" in shopify.json()["errors"]
    assert httpx.get(f"{sandbox.url}/shipstation/orders").status_code == 401
