"""Every partner call is safe to repeat after it took effect. Each test makes the sandbox carry
out one activity's request and cut the connection before the answer (`lose_response_next`), as
a worker killed mid-call or a dropped network would; the activity fails as transient, Temporal
retries it, and the retry must take the partner's "already done" for success, reading back what
the saga needs, with exactly one effect at the partner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channel import ChannelActivities
from activities.dropship import DropShipActivities
from activities.erp import ErpActivities
from activities.errors import TRANSIENT
from activities.models import (
    ChannelCancel,
    CollectionConfirmation,
    ErpOrderInput,
    ShipmentConfirmation,
)
from activities.notification import NotificationActivities
from activities.store import PickupRef, StoreActivities
from activities.tax import TaxActivities
from activities.wms import WmsActivities
from adapters.amazon import order_from_sp_api
from adapters.http import PartnerHttp
from adapters.registry import Adapters, build_adapters
from adapters.shopify import order_from_webhook
from adapters.walmart import order_from_walmart
from canonical import (
    Channel,
    CreditLine,
    CreditNoteRequest,
    Customer,
    ErpRestock,
    ErpStockMove,
    FulfillmentLine,
    FulfillmentRequest,
    Money,
    Order,
    OrderReduction,
    Shipment,
    ShipmentLine,
)
from canonical.cancellation import LineCancellation
from canonical.notification import Notification, NotificationTemplate
from canonical.pickup import Handover, PickLine, PickTask, StoreEvent, StoreEventKind
from canonical.pos import PosSale, PosSaleLine
from canonical.returns import ChannelRefund, ReturnLabelRequest, ReturnLine, TaxRefund
from ingest.store import shipment_of as parcel_of
from tests.conftest import SandboxHandle
from tests.money_fields import money_without_currency

T = TypeVar("T")
CANDLE, MUG = "CANDLE-CEDAR-8OZ", "MUG-STONE-350"


@dataclass
class Locations:
    """Our nodes in the sandbox NetSuite's books, and where each order's goods left."""

    shipped: dict[str, list[ErpStockMove]] = field(default_factory=dict)
    nodes = {"WH-EAST": "3", "WH-WEST": "4", "S01": "7"}

    def location(self, node: str) -> str | None:
        return self.nodes.get(node)

    def shipped_from(self, order_id: str) -> list[ErpStockMove]:
        return self.shipped.get(order_id, [])


@dataclass
class Partners:
    """The sandbox, the adapters on it and the activities over them."""

    sandbox: SandboxHandle
    adapters: Adapters

    @property
    def url(self) -> str:
        return self.sandbox.url

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.url}{path}")
        response.raise_for_status()
        return response.json()

    async def erp_stock(self, sku: str) -> dict[str, int]:
        """On hand per NetSuite location."""
        levels = await self.adapters.erp.stock_levels([sku])
        return {level.warehouse: level.on_hand for level in levels}

    def tax_status(self, document_code: str) -> str:
        status: str = self.get(f"/_sandbox/avatax/documents/{document_code}")["status"]
        return status

    def labels(self, rma: str) -> list[dict[str, Any]]:
        """The RMA's return labels, as ShipStation API v2 lists them."""
        response = httpx.get(
            f"{self.url}/shipstation/v2/labels",
            params={"external_shipment_id": rma},
            headers={"API-Key": "sandbox-v2-key"},
        )
        response.raise_for_status()
        labels: list[dict[str, Any]] = response.json()["labels"]
        return labels

    def post(self, path: str, **kwargs: Any) -> Any:
        response = httpx.post(f"{self.url}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def lost_then_retried(
        self,
        system: str,
        match: str,
        call: Callable[[], Awaitable[T]],
        meanwhile: Callable[[], object] | None = None,
    ) -> T:
        """The first call takes effect and loses its answer (a transient failure, so Temporal
        retries it); `meanwhile` happens at the partner; the retry's answer is returned."""
        self.sandbox.faults(system, lose_response_next=1, match=match)
        with pytest.raises(ApplicationError) as lost:
            await call()
        assert lost.value.type == TRANSIENT and not lost.value.non_retryable
        assert self.sandbox.stats()["answers_lost"][system] == 1, f"no answer of {match} lost"
        if meanwhile is not None:
            meanwhile()
        return await call()

    # --- orders on each channel, as their adapters map them -----------------------------------

    def shopify_order(self, skus: list[tuple[str, int]] | None = None) -> Order:
        return order_from_webhook(
            self.sandbox.shopify_orders(skus=skus or [(CANDLE, 2), (MUG, 1)])[0]
        )

    async def amazon_order(self) -> Order:
        placed = self.post("/_sandbox/amazon/orders", json={})
        order_id = placed["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
        client = self.adapters.amazon
        return order_from_sp_api(
            await client.get_order(order_id), await client.get_order_items(order_id)
        )

    def walmart_order(self) -> Order:
        return order_from_walmart(self.post("/_sandbox/walmart/orders", json={}))

    async def order_on(self, channel: Channel) -> Order:
        if channel is Channel.AMAZON:
            return await self.amazon_order()
        if channel is Channel.WALMART:
            return self.walmart_order()
        return self.shopify_order()

    async def erp_order(self, order: Order) -> Any:
        erp = self.adapters.erp
        return await erp.upsert_sales_order(order, await erp.resolve_items(order.skus()))


@pytest.fixture
async def partners(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Partners]:
    """Adapters on the sandbox; every write they sent is checked for money without a
    currency when the test ends."""
    sent: list[tuple[str, str, str, Any]] = []
    request = PartnerHttp.request

    async def recorded(self: PartnerHttp, method: str, path: str, **kwargs: Any) -> httpx.Response:
        body = kwargs.get("json")
        if body is not None and method != "GET":
            sent.append((self.system, method, path, body))
        return await request(self, method, path, **kwargs)

    monkeypatch.setattr(PartnerHttp, "request", recorded)
    adapters = build_adapters(sandbox.settings())
    yield Partners(sandbox, adapters)
    await adapters.aclose()
    # Every amount any of these calls sent names its currency.
    unnamed = [
        f"{system} {method} {path}: {where}"
        for system, method, path, body in sent
        for where in money_without_currency(body)
    ]
    assert not unnamed, unnamed


def run(fn: Callable[[Any], Awaitable[T]], arg: Any) -> Callable[[], Awaitable[T]]:
    """The activity as Temporal runs one attempt of it."""
    return lambda: ActivityEnvironment().run(fn, arg)


def fulfillment_of(order: Order) -> FulfillmentRequest:
    assert order.ship_to is not None
    return FulfillmentRequest(
        order_key=order.key,
        order_number=order.order_number,
        ship_to=order.ship_to,
        lines=[
            FulfillmentLine(line_id=x.line_id, sku=x.sku, quantity=x.quantity) for x in order.lines
        ],
    )


def shipment_of(order: Order, shipment_id: str = "SHP-1") -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        order_key=order.key,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        ship_date=date.today(),
        lines=[
            ShipmentLine(line_id=x.line_id, sku=x.sku, quantity=x.quantity) for x in order.lines
        ],
    )


CHANNELS = [Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART]
# Amazon's Orders API has no acknowledgement, cancellation or refund call: those are done in
# Seller Central (the saga asks support), so only Shopify and Walmart make them.
CALLING = [Channel.SHOPIFY, Channel.WALMART]


# --- WMS -------------------------------------------------------------------------------------


async def test_request_fulfillment_the_warehouse_shipped_meanwhile(partners: Partners) -> None:
    """The issue's case: the WMS took the order, shipped it, and the retry hears 'already
    shipped'. That is the order it asked for: its id comes back, not a rejection."""
    order = partners.shopify_order()
    wms = WmsActivities(partners.adapters.wms)
    wms_id = await partners.lost_then_retried(
        "shipstation",
        "createorder",
        run(wms.request_fulfillment, fulfillment_of(order)),
        meanwhile=lambda: partners.post(f"/_sandbox/shipstation/orders/{order.key}/ship"),
    )
    assert wms_id == str(partners.get(f"/_sandbox/shipstation/orders/{order.key}")["orderId"])
    assert partners.sandbox.stats()["wms_orders"] == 1


async def test_cancel_fulfillment(partners: Partners) -> None:
    order = partners.shopify_order()
    wms = WmsActivities(partners.adapters.wms)
    await partners.adapters.wms.create_fulfillment(fulfillment_of(order))
    await partners.lost_then_retried(
        "shipstation", "createorder", run(wms.cancel_fulfillment, order.key)
    )
    assert partners.get(f"/_sandbox/shipstation/orders/{order.key}")["orderStatus"] == "cancelled"


async def test_create_return_label(partners: Partners) -> None:
    order = partners.shopify_order()
    assert order.ship_to is not None
    wms = WmsActivities(partners.adapters.wms)
    request = ReturnLabelRequest(
        rma="RMA-1", ship_from=order.ship_to, lines=[ReturnLine(line_id="1", sku=MUG, quantity=1)]
    )
    label = await partners.lost_then_retried(
        "shipstation", "POST /shipstation/v2/labels", run(wms.create_return_label, request)
    )
    assert [x["label_id"] for x in partners.labels("RMA-1")] == [label.label_id]


async def test_void_return_label(partners: Partners) -> None:
    order = partners.shopify_order()
    assert order.ship_to is not None
    wms = WmsActivities(partners.adapters.wms)
    request = ReturnLabelRequest(
        rma="RMA-2", ship_from=order.ship_to, lines=[ReturnLine(line_id="1", sku=MUG, quantity=1)]
    )
    await partners.adapters.wms.create_return_label(request)
    await partners.lost_then_retried("shipstation", "/void", run(wms.void_return_label, "RMA-2"))
    assert [x["status"] for x in partners.labels("RMA-2")] == ["voided"]


# --- ERP -------------------------------------------------------------------------------------


async def test_create_sales_order(partners: Partners) -> None:
    order = partners.shopify_order()
    erp = ErpActivities(partners.adapters.erp, Locations())
    items = await partners.adapters.erp.resolve_items(order.skus())
    ref = await partners.lost_then_retried(
        "netsuite",
        "PUT .*/salesOrder/eid:",
        run(erp.create_sales_order, ErpOrderInput(order=order, items=items)),
    )
    [record] = partners.get("/_sandbox/netsuite/salesOrders")
    assert record["id"] == ref.erp_id


async def test_cancel_sales_order(partners: Partners) -> None:
    order = partners.shopify_order()
    erp = ErpActivities(partners.adapters.erp, Locations())
    await partners.erp_order(order)
    await partners.lost_then_retried("netsuite", "PATCH", run(erp.cancel_sales_order, order.key))
    [record] = partners.get("/_sandbox/netsuite/salesOrders")
    assert record["orderStatus"]["id"] == "H"


async def test_reduce_sales_order(partners: Partners) -> None:
    order = partners.shopify_order()
    erp = ErpActivities(partners.adapters.erp, Locations())
    await partners.erp_order(order)
    candle, mug = order.lines
    reduction = OrderReduction(order=order, keep={candle.line_id: 1, mug.line_id: 0})
    await partners.lost_then_retried("netsuite", "PATCH", run(erp.reduce_sales_order, reduction))
    [record] = partners.get("/_sandbox/netsuite/salesOrders")
    lines = record["item"]["items"]
    assert (lines[0]["quantity"], lines[0]["isClosed"], lines[1]["isClosed"]) == (1, False, True)


async def test_fulfil_sales_order(partners: Partners) -> None:
    order = partners.shopify_order()
    mug_west = ErpStockMove(sku=MUG, quantity=1, location="4")  # the west warehouse shipped it
    erp = ErpActivities(partners.adapters.erp, Locations({order.key: [mug_west]}))
    ref = await partners.erp_order(order)
    before = await partners.erp_stock(MUG)
    await partners.lost_then_retried(
        "netsuite", "itemFulfillment", run(erp.fulfil_sales_order, ref)
    )
    after = await partners.erp_stock(MUG)
    # One delivery, not two, and from where the goods left.
    assert (before["4"] - after["4"], before["3"] - after["3"]) == (1, 0)


async def test_invoice_sales_order(partners: Partners) -> None:
    order = partners.shopify_order()
    erp = ErpActivities(partners.adapters.erp, Locations())
    ref = await partners.erp_order(order)
    await partners.adapters.erp.fulfil_sales_order(ref)
    invoice = await partners.lost_then_retried(
        "netsuite", "invoice", run(erp.invoice_sales_order, ref)
    )
    [record] = partners.get("/_sandbox/netsuite/invoices")
    assert str(record["id"]) == invoice.erp_id


async def test_credit_return(partners: Partners) -> None:
    order = partners.shopify_order()
    erp = ErpActivities(partners.adapters.erp, Locations())
    ref = await partners.erp_order(order)
    await partners.adapters.erp.fulfil_sales_order(ref)
    await partners.adapters.erp.invoice_sales_order(ref)
    request = CreditNoteRequest(
        credit_key="r-1", order_key=order.key, lines=[CreditLine(sku=MUG, quantity=1)]
    )
    credit = await partners.lost_then_retried(
        "netsuite", "creditMemo", run(erp.credit_return, request)
    )
    [memo] = partners.get("/_sandbox/netsuite/creditMemos")
    assert str(memo["id"]) == credit.erp_id


async def test_post_cash_sale(partners: Partners) -> None:
    erp = ErpActivities(partners.adapters.erp, Locations())
    usd = lambda amount: Money.of(amount, "USD")  # noqa: E731
    sale = PosSale(
        transaction_id="T-1", store_id="S01", occurred_at=datetime.now(UTC), currency="USD",
        lines=[PosSaleLine(sku=MUG, quantity=2, unit_price=usd("18.00"))],
        tax=usd("0"), total=usd("36.00"),
    )  # fmt: skip
    ref = await partners.lost_then_retried("netsuite", "cashSale", run(erp.post_cash_sale, sale))
    [record] = partners.get("/_sandbox/netsuite/cashSales")
    assert str(record["id"]) == ref.erp_id
    assert (await partners.erp_stock(MUG))["7"] == -2  # over the store's counter, once


async def test_erp_restock_return(partners: Partners) -> None:
    order = partners.shopify_order()
    erp = ErpActivities(partners.adapters.erp, Locations())
    await partners.adapters.erp.fulfil_sales_order(await partners.erp_order(order))
    restock = ErpRestock(restock_key="r-1", order_key=order.key, node="WH-WEST", lines={MUG: 1})
    before = await partners.erp_stock(MUG)
    await partners.lost_then_retried(
        "netsuite", "inventoryAdjustment", run(erp.erp_restock_return, restock)
    )
    after = await partners.erp_stock(MUG)
    assert (after["4"] - before["4"], after["3"] - before["3"]) == (1, 0)
    assert len(partners.get("/_sandbox/netsuite/inventoryAdjustments")) == 1


# --- tax -------------------------------------------------------------------------------------


async def test_quote_tax(partners: Partners) -> None:
    order = partners.shopify_order()
    tax = TaxActivities(partners.adapters.tax)
    quote = await partners.lost_then_retried("avatax", "createoradjust", run(tax.quote_tax, order))
    assert partners.sandbox.stats()["tax_documents"] == 1
    assert partners.tax_status(quote.document_code) == "Saved"


async def test_commit_tax(partners: Partners) -> None:
    order = partners.shopify_order()
    tax = TaxActivities(partners.adapters.tax)
    quote = await partners.adapters.tax.quote(order)
    await partners.lost_then_retried("avatax", "commit", run(tax.commit_tax, quote.document_code))
    assert partners.tax_status(quote.document_code) == "Committed"


async def test_void_tax(partners: Partners) -> None:
    order = partners.shopify_order()
    tax = TaxActivities(partners.adapters.tax)
    quote = await partners.adapters.tax.quote(order)
    await partners.adapters.tax.commit(quote.document_code)
    await partners.lost_then_retried("avatax", "void", run(tax.void_tax, quote.document_code))
    assert partners.tax_status(quote.document_code) == "Cancelled"


async def test_refund_tax(partners: Partners) -> None:
    order = partners.shopify_order()
    tax = TaxActivities(partners.adapters.tax)
    quote = await partners.adapters.tax.quote(order)
    await partners.adapters.tax.commit(quote.document_code)
    refund = TaxRefund(
        refund_code="r-1", document_code=quote.document_code, order=order,
        lines={order.lines[1].line_id: 1}, refund_date=date.today(),
    )  # fmt: skip
    await partners.lost_then_retried("avatax", "createoradjust", run(tax.refund_tax, refund))
    assert partners.sandbox.stats()["tax_documents"] == 2  # the sale and one refund


# --- channels ----------------------------------------------------------------------------------


def channel_effects(partners: Partners, order: Order) -> dict[str, Any]:
    """What the channel holds for the order (fulfilments, refunds, cancellations)."""
    if order.channel is Channel.SHOPIFY:
        return partners.get(f"/_sandbox/shopify/orders/{order.external_id}")
    if order.channel is Channel.AMAZON:
        return partners.get(f"/_sandbox/amazon/orders/{order.external_id}")
    return partners.get(f"/_sandbox/walmart/orders/{order.external_id}")


SYSTEM = {Channel.SHOPIFY: "shopify", Channel.AMAZON: "amazon", Channel.WALMART: "walmart"}
WRITES = {Channel.SHOPIFY: "POST", Channel.AMAZON: "POST|PUT|PATCH", Channel.WALMART: "POST"}


@pytest.mark.parametrize("channel", CALLING)
async def test_acknowledge_order(partners: Partners, channel: Channel) -> None:
    order = await partners.order_on(channel)
    channels = ChannelActivities(partners.adapters.marketplace)
    await partners.lost_then_retried(
        SYSTEM[channel], WRITES[channel], run(channels.acknowledge_order, order)
    )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_confirm_shipment(partners: Partners, channel: Channel) -> None:
    order = await partners.order_on(channel)
    channels = ChannelActivities(partners.adapters.marketplace)
    await partners.adapters.marketplace(channel).acknowledge(order)
    confirmation = ShipmentConfirmation(order=order, shipment=shipment_of(order))
    first = await partners.lost_then_retried(
        SYSTEM[channel], WRITES[channel], run(channels.confirm_shipment, confirmation)
    )
    assert await ActivityEnvironment().run(channels.confirm_shipment, confirmation) == first
    assert fulfilments(channel_effects(partners, order), channel) == 1


async def test_confirm_collected(partners: Partners) -> None:
    """Shopify local pickup: the PICK_UP fulfillment order is fulfilled once with what the
    customer took, however often the call is retried."""
    body = partners.sandbox.shopify_orders(pickup_location="Boston Newbury St store")[0]
    order = order_from_webhook(body, {"Boston Newbury St store": "STORE-BOS"})
    taken = [
        PickLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity) for line in order.lines
    ]
    handover = Handover(
        handover_id=f"{order.key}:collected", store="STORE-BOS", order_key=order.key, lines=taken
    )
    confirmation = CollectionConfirmation(order=order, handover=handover)
    channels = ChannelActivities(partners.adapters.marketplace)
    first = await partners.lost_then_retried(
        "shopify", "POST", run(channels.confirm_collected, confirmation)
    )
    assert await ActivityEnvironment().run(channels.confirm_collected, confirmation) == first
    view = channel_effects(partners, order)
    assert len(view["fulfillments"]) == 1
    (fo,) = view["fulfillmentOrders"]["nodes"]
    assert fo["deliveryMethod"]["methodType"] == "PICK_UP" and fo["status"] == "CLOSED"


def fulfilments(view: dict[str, Any], channel: Channel) -> int:
    if channel is Channel.SHOPIFY:
        return len(view["fulfillments"])
    if channel is Channel.AMAZON:
        return len(view["confirmations"])
    statuses = [
        line["orderLineStatuses"]["orderLineStatus"] for line in view["orderLines"]["orderLine"]
    ]
    return max(sum(1 for s in line if s["status"] == "Shipped") for line in statuses)


@pytest.mark.parametrize("channel", CALLING)
async def test_cancel_channel_order(partners: Partners, channel: Channel) -> None:
    order = await partners.order_on(channel)
    channels = ChannelActivities(partners.adapters.marketplace)
    await partners.lost_then_retried(
        SYSTEM[channel],
        WRITES[channel],
        run(channels.cancel_channel_order, ChannelCancel(order=order, reason="customer asked")),
    )


@pytest.mark.parametrize("channel", CALLING)
async def test_cancel_channel_lines(partners: Partners, channel: Channel) -> None:
    order = await partners.order_on(channel)
    channels = ChannelActivities(partners.adapters.marketplace)
    cancellation = LineCancellation(
        cancellation_id=f"{order.key}~cancel-1", order=order,
        lines={order.lines[0].line_id: 1}, reason="no stock", out_of_stock=True,
    )  # fmt: skip
    await partners.lost_then_retried(
        SYSTEM[channel], WRITES[channel], run(channels.cancel_channel_lines, cancellation)
    )


@pytest.mark.parametrize("channel", CALLING)
async def test_refund_return(partners: Partners, channel: Channel) -> None:
    order = await partners.order_on(channel)
    market = partners.adapters.marketplace(channel)
    await market.acknowledge(order)
    await market.confirm_shipment(order, shipment_of(order))
    channels = ChannelActivities(partners.adapters.marketplace)
    refund = ChannelRefund(refund_id="ret-1", order=order, lines={order.lines[-1].line_id: 1})
    reference = await partners.lost_then_retried(
        SYSTEM[channel], WRITES[channel], run(channels.refund_return, refund)
    )
    assert reference


# --- drop-ship supplier, store POS, notifications ----------------------------------------------


async def test_request_dropship(partners: Partners) -> None:
    order = partners.shopify_order()
    supplier = DropShipActivities(partners.adapters.supplier)
    first = await partners.lost_then_retried(
        "shipbob", "POST", run(supplier.request_dropship, fulfillment_of(order))
    )
    assert partners.get(f"/_sandbox/shipbob/orders/{order.key}")["id"] == int(first)


async def test_cancel_dropship(partners: Partners) -> None:
    order = partners.shopify_order()
    supplier = DropShipActivities(partners.adapters.supplier)
    await partners.adapters.supplier.create_order(fulfillment_of(order))
    await partners.lost_then_retried("shipbob", "POST", run(supplier.cancel_dropship, order.key))
    assert partners.get(f"/_sandbox/shipbob/orders/{order.key}")["status"] == "Cancelled"


TASK = PickTask(
    store="STORE-BOS", order_key="shopify-5001", order_number="#5001",
    customer=Customer(name="Ana Souza", email="ana.souza@example.com"),
    lines=[PickLine(line_id="1", sku=MUG, quantity=2)],
    pick_by=datetime.now(UTC) + timedelta(hours=2),
)  # fmt: skip


async def test_create_pick_task(partners: Partners) -> None:
    stores = StoreActivities(partners.adapters.stores)
    task_id = await partners.lost_then_retried("pos", "PUT", run(stores.create_pick_task, TASK))
    assert partners.get("/_sandbox/pos/stores/STORE-BOS/pickups/shopify-5001")["id"] == task_id


async def test_cancel_pick_task(partners: Partners) -> None:
    stores = StoreActivities(partners.adapters.stores)
    await partners.adapters.stores.create_pick_task(TASK)
    pickup = PickupRef(store="STORE-BOS", order_key="shopify-5001")
    await partners.lost_then_retried("pos", "DELETE", run(stores.cancel_pick_task, pickup))
    assert (
        partners.get("/_sandbox/pos/stores/STORE-BOS/pickups/shopify-5001")["status"] == "cancelled"
    )


async def test_cancel_pick_task_once_the_store_shipped_reads_the_parcel_back(
    partners: Partners,
) -> None:
    """Ship from store: a store whose parcel left refuses the cancel with 'the goods left' (the
    group ships after all), and the parcel read back is the one its `shipped` event names."""
    stores = StoreActivities(partners.adapters.stores)
    ship_to = partners.shopify_order().ship_to
    await partners.adapters.stores.create_pick_task(TASK.model_copy(update={"ship_to": ship_to}))
    pickup = PickupRef(store="STORE-BOS", order_key="shopify-5001")
    assert await ActivityEnvironment().run(stores.store_shipments, pickup) == []
    task = partners.post("/_sandbox/pos/stores/STORE-BOS/pickups/shopify-5001/ship")
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(stores.cancel_pick_task, pickup)
    assert refused.value.type == "ALREADY_SHIPPED" and refused.value.non_retryable
    (parcel,) = await ActivityEnvironment().run(stores.store_shipments, pickup)
    event = StoreEvent(
        event_id="ev-1", store="STORE-BOS", order_key="shopify-5001",
        kind=StoreEventKind.SHIPPED, lines=TASK.lines, occurred_at=datetime.now(UTC),
        carrier=task["carrier"], tracking_number=task["tracking_number"],
    )  # fmt: skip
    assert parcel == parcel_of(event).model_copy(update={"ship_date": parcel.ship_date})
    assert parcel.lines[0].quantity == 2


async def test_hand_over(partners: Partners) -> None:
    stores = StoreActivities(partners.adapters.stores)
    await partners.adapters.stores.create_pick_task(TASK)
    partners.post("/_sandbox/pos/stores/STORE-BOS/pickups/shopify-5001/ready")
    handover = Handover(
        handover_id="shopify-5001:1", store="STORE-BOS", order_key="shopify-5001", lines=TASK.lines
    )
    receipt = await partners.lost_then_retried("pos", "handovers", run(stores.hand_over, handover))
    assert receipt


async def test_notify_customer(partners: Partners) -> None:
    """'Already sent': the retry finds the message sent under its notification id."""
    notifier = NotificationActivities(partners.adapters.notifier)
    notification = Notification(
        notification_id="shopify-1042:ready_for_pickup",
        template=NotificationTemplate.READY_FOR_PICKUP,
        to_email="ana.souza@example.com",
        to_name="Ana Souza",
        data={"order_number": "#1042"},
    )
    message_id = await partners.lost_then_retried(
        "sendgrid", "mail/send", run(notifier.notify_customer, notification)
    )
    [sent] = partners.get("/_sandbox/sendgrid/messages")
    assert sent["message_id"] == message_id


async def test_cancel_dropship_once_it_shipped_reads_the_shipment_back(
    partners: Partners,
) -> None:
    """A supplier that shipped refuses the cancel: that is 'the goods left' (the saga completes
    the group), not a refusal to support, and its shipments are read back."""
    order = partners.shopify_order()
    supplier = DropShipActivities(partners.adapters.supplier)
    await partners.adapters.supplier.create_order(fulfillment_of(order))
    partners.post(f"/_sandbox/shipbob/orders/{order.key}/ship")
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(supplier.cancel_dropship, order.key)
    assert refused.value.type == "ALREADY_SHIPPED" and refused.value.non_retryable
    (shipment,) = await ActivityEnvironment().run(supplier.dropship_shipments, order.key)
    assert shipment.order_key == order.key and shipment.tracking_number
