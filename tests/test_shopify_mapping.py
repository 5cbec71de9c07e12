import copy
from decimal import Decimal

import pytest
from pydantic import ValidationError

from adapters.payload import PayloadError
from adapters.shopify import order_from_webhook
from canonical import Channel, ExceptionCode, FulfillmentMethod, Money
from canonical.validation import order_problems
from sandbox.shopify_orders import OrderFactory
from tests.payloads import shopify_order_body


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def test_contract_order_maps_to_canonical() -> None:
    order = order_from_webhook(shopify_order_body())
    assert order.channel is Channel.SHOPIFY
    assert order.external_id == "5903317770561"
    assert order.key == "shopify-5903317770561"
    assert order.workflow_id == "order:shopify:5903317770561"
    assert order.order_number == "#2207"
    assert order.channel_ref == "gid://shopify/Order/5903317770561"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("CANDLE-CEDAR-8OZ", 2, usd("22.50")),
        ("MUG-STONE-350", 1, usd("18.00")),
    ]
    assert order.lines[0].tax == usd("3.15")
    assert order.subtotal == usd("63.00")
    assert order.shipping == usd("6.50")
    assert order.tax_total == usd("4.41")
    assert order.total == usd("73.91")
    assert order.expected_total() == order.total
    assert order.ship_to is not None and order.ship_to.region == "RI"
    assert order.ship_to.postal_code == "02906" and order.ship_to.line2 == "Unit 5"
    assert order.customer.email == "tomas.lindqvist@example.org"
    assert order_problems(order) == []


def test_discount_allocations_reduce_lines_not_twice() -> None:
    body = shopify_order_body()
    line = body["line_items"][0]
    line["discount_allocations"] = [{"amount": "4.50", "discount_application_index": 0}]
    line["total_discount"] = "4.50"
    body["total_discounts"] = "4.50"
    body["total_price"] = str(Decimal(body["total_price"]) - Decimal("4.50"))
    order = order_from_webhook(body)
    assert order.lines[0].discount == usd("4.50")
    assert order.lines[0].net == usd("40.50")
    assert order.expected_total() == order.total == usd("69.41")


def test_zero_price_line_and_unicode_address() -> None:
    body = shopify_order_body()
    gift = copy.deepcopy(body["line_items"][1])
    gift.update(id=1, sku="MATCH-LONG-50", price="0.00", tax_lines=[], name="Cadeau — Allumettes")
    body["line_items"].append(gift)
    body["shipping_address"].update(
        first_name="Zoë", last_name="Øberg", name="Zoë Øberg", city="Zürich"
    )
    order = order_from_webhook(body)
    assert order.lines[-1].unit_price.is_zero()
    assert order.ship_to is not None and order.ship_to.name == "Zoë Øberg"
    assert order_problems(order) == []


def test_missing_sku_and_wrong_total_are_hold_reasons() -> None:
    body = shopify_order_body()
    body["line_items"][1]["sku"] = None
    body["total_price"] = "80.00"
    problems = order_problems(order_from_webhook(body))
    assert [code for code, _ in problems] == [
        ExceptionCode.UNKNOWN_SKU,
        ExceptionCode.TOTALS_MISMATCH,
    ]
    assert "73.91" in problems[1][1]


def test_order_without_lines_or_address_is_rejected() -> None:
    body = shopify_order_body()
    body["shipping_address"] = None
    with pytest.raises(PayloadError, match="ship-to"):
        order_from_webhook(body)
    body = shopify_order_body()
    body["line_items"] = []
    with pytest.raises(PayloadError, match="line"):
        order_from_webhook(body)


def test_mixed_currencies_rejected() -> None:
    body = shopify_order_body()
    order = order_from_webhook(body)
    data = order.model_dump()
    data["shipping"] = {"amount": "7.95", "currency": "EUR"}
    with pytest.raises(ValidationError, match="EUR"):
        type(order).model_validate(data)


def test_zero_decimal_currency_order_reconciles() -> None:
    body = shopify_order_body()
    body.update(currency="JPY", total_tax="0", total_price="5400")
    body["shipping_lines"] = [{"price": "400", "discount_allocations": []}]
    for line, price in zip(body["line_items"], ("1500", "2000"), strict=True):
        line.update(price=price, tax_lines=[], discount_allocations=[])
    order = order_from_webhook(body)
    assert order.currency == "JPY" and order.total == Money.of("5400", "JPY")
    assert order.expected_total() == order.total  # 2 x 1500 + 2000 + 400, no minor unit
    assert order_problems(order) == []


def test_presentment_currency_differs_from_shop_currency() -> None:
    body = shopify_order_body()
    body["presentment_currency"] = "CAD"  # the customer paid in CAD; the shop books USD
    order = order_from_webhook(body)
    assert order.currency == "USD" and order.total == usd("73.91")


def test_a_pickup_shipping_line_at_a_known_location_makes_a_pickup_order() -> None:
    body = OrderFactory(seed=1).make([("MUG-STONE-350", 1)], pickup="Boston Newbury St store")
    order = order_from_webhook(body, {"Boston Newbury St store": "STORE-BOS"})
    assert order.fulfillment is FulfillmentMethod.PICKUP and order.pickup_store == "STORE-BOS"
    assert order.shipping.is_zero()
    unknown = order_from_webhook(body, {"Cambridge store": "STORE-CAM"})
    assert unknown.fulfillment is FulfillmentMethod.SHIP and unknown.pickup_store is None
    shipped = order_from_webhook(OrderFactory(seed=1).make([("MUG-STONE-350", 1)]))
    assert shipped.fulfillment is FulfillmentMethod.SHIP
