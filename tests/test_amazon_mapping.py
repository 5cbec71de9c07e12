from decimal import Decimal

from adapters.amazon import order_from_sp_api
from canonical import Channel, FulfillmentMethod, Money
from canonical.validation import order_problems
from tests.payloads import payload

ORDERS = payload("amazon_orders")["payload"]["Orders"]
ITEMS = payload("amazon_order_items")["payload"]["OrderItems"]


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def with_address(order: dict[str, object]) -> dict[str, object]:
    """getOrder read with a restricted data token carries the street and name."""
    address = dict(order["ShippingAddress"])  # type: ignore[call-overload]
    address.update(Name="Tomás Lindqvist", AddressLine1="27 Chestnut Ave")
    return {**order, "ShippingAddress": address}


def test_item_price_is_a_line_total_and_totals_reconcile() -> None:
    order = order_from_sp_api(with_address(ORDERS[0]), ITEMS)
    assert order.channel is Channel.AMAZON and order.external_id == "113-5820417-6604219"
    candle = order.lines[0]
    assert (
        candle.quantity == 2 and candle.gross == usd("45.00") and candle.unit_price == usd("22.50")
    )
    assert order.shipping == usd("5.99")
    assert order.tax_total == usd("4.41")
    assert order.total == usd("73.40") == order.expected_total()
    assert order.tax_collected_by_channel
    assert order.fulfillment is FulfillmentMethod.SHIP
    assert order.ship_to is not None and order.ship_to.postal_code == "02906-1104"
    assert order_problems(order) == []


def test_uneven_line_total_keeps_the_channel_amount() -> None:
    items = [
        {**ITEMS[1], "QuantityOrdered": 3, "ItemPrice": {"CurrencyCode": "USD", "Amount": "10.00"}}
    ]
    order = {**with_address(ORDERS[0]), "OrderTotal": {"CurrencyCode": "USD", "Amount": "17.12"}}
    line = order_from_sp_api(order, items).lines[0]
    assert line.gross == usd("10.00")  # not 3 x 3.33
    assert line.unit_price.amount == Decimal("3.33")


def test_afn_order_is_fulfilled_by_the_channel() -> None:
    afn = ORDERS[1]
    amounts = {"ItemPrice": "18.00", "ItemTax": "0.00", "ShippingPrice": "6.25"}
    item = {**ITEMS[1], **{k: {"CurrencyCode": "USD", "Amount": v} for k, v in amounts.items()}}
    items = [item]
    order = order_from_sp_api(afn, items)
    assert order.fulfillment is FulfillmentMethod.CHANNEL
    assert order.total == usd("24.25") == order.expected_total()
