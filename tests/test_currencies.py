"""Orders in any currency reach the ERP in that currency, each amount rounded to its ISO 4217
minor unit (0 decimals for JPY, 3 for KWD). Every partner write naming money also names its
currency: `tests/test_lost_answers.py` checks each call it makes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from adapters.errors import BusinessError
from adapters.netsuite import sales_order_body
from adapters.registry import build_adapters
from canonical import Address, Channel, ExceptionCode, ItemRef, Money, Order, OrderLine
from tests.conftest import SandboxHandle
from tests.money_fields import money_without_currency

CANDLE = "CANDLE-CEDAR-8OZ"


def order_in(currency: str, unit: str, discount: str, shipping: str) -> Order:
    line = OrderLine(
        line_id="1",
        sku=CANDLE,
        quantity=3,
        unit_price=Money.of(unit, currency),
        discount=Money.of(discount, currency),
    )
    return Order(
        channel=Channel.SHOPIFY,
        external_id=f"cur-{currency}",
        order_number=f"#{currency}",
        placed_at=datetime.now(UTC),
        currency=currency,
        ship_to=Address(name="Ana", line1="1 Main St", city="Boston", country="US"),
        lines=[line],
        shipping=Money.of(shipping, currency),
        tax_total=Money.zero(currency),
        total=Money.zero(currency),
    )


@pytest.mark.parametrize(
    ("currency", "unit", "discount", "shipping", "amount", "shipping_cost"),
    [
        ("JPY", "1999", "333.5", "500.5", 5664, 500),  # half to even: 5663.5 -> 5664, 500.5 -> 500
        ("KWD", "1.2345", "0", "0.7505", Decimal("3.704"), Decimal("0.750")),  # 3.7035, 0.7505
        ("USD", "10.005", "0", "4.995", Decimal("30.02"), Decimal("5.00")),
    ],
)
def test_a_sales_order_is_in_its_currency_rounded_to_its_minor_unit(
    currency: str,
    unit: str,
    discount: str,
    shipping: str,
    amount: Decimal | int,
    shipping_cost: Decimal | int,
) -> None:
    order = order_in(currency, unit, discount, shipping)
    items = [ItemRef(sku=CANDLE, erp_item_id="1187")]
    body = sales_order_body(
        order, items, customer_id="1", subsidiary_id="1", location_id="3", currency_id="6"
    )
    assert body["currency"] == {"id": "6"}
    (line,) = body["item"]["items"]
    assert Decimal(str(line["amount"])) == amount
    assert Decimal(str(body["shippingCost"])) == shipping_cost
    assert money_without_currency(body) == []


async def test_netsuite_books_the_order_in_its_currency(sandbox: SandboxHandle) -> None:
    adapters = build_adapters(sandbox.settings())
    try:
        erp = adapters.erp
        cad = order_in("CAD", "24.50", "0", "7.95")
        await erp.upsert_sales_order(cad, await erp.resolve_items(cad.skus()))
        (record,) = httpx.get(f"{sandbox.url}/_sandbox/netsuite/salesOrders").json()
        assert record["currency"] == {"id": "3"}  # the account's CAD record
        gold = order_in("XAU", "1", "0", "0")
        with pytest.raises(BusinessError) as refused:
            await erp.upsert_sales_order(gold, await erp.resolve_items(gold.skus()))
        assert refused.value.code is ExceptionCode.ERP_REJECTED
        assert refused.value.message == "NetSuite has no currency XAU"
    finally:
        await adapters.aclose()
