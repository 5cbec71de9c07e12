"""Makes Shopify `orders/create` webhook bodies (REST Order shape, money as strings) for the
demo catalogue, with the tax the storefront charged."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.avatax import STATE_RATES
from sandbox.catalog import BY_SKU, CATALOG

SHOP = "northwick-candle-co.myshopify.com"
CENT = Decimal("0.01")
SHIPPING = Decimal("7.95")
CUSTOMERS = [
    ("Marisol", "Okafor", "418 Pleasant St", "Apt 3", "Worcester", "MA", "01609"),
    ("Zoë", "Lindqvist-Øberg", "27 Ocean Pkwy", None, "Brooklyn", "NY", "11218"),
    ("Tomás", "Nakamura", "1600 Amphitheatre Pkwy", None, "Mountain View", "CA", "94043"),
    ("Priya", "Raghunathan", "500 W 2nd St", "Suite 1900", "Austin", "TX", "78701"),
    ("Åsa", "Fernández", "85 Pike St", None, "Seattle", "WA", "98101"),
    ("Chidi", "Anagonye", "233 S Wacker Dr", "Fl 44", "Chicago", "IL", "60606"),
]


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    value = {"amount": f"{amount:.2f}", "currency_code": currency}
    return {"shop_money": value, "presentment_money": value}


class OrderFactory:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        # Ids unique across sandbox restarts, so a persisted Temporal never sees a reused id.
        self._next_id = int(time.time() * 1000) * 1000

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def make(
        self,
        skus: list[tuple[str, int]] | None = None,
        customer: int | None = None,
        pickup: str | None = None,
    ) -> dict[str, Any]:
        """An `orders/create` body; `pickup` names the location of a local pickup order, whose
        shipping line Shopify writes with the location's name as `code` and no charge."""
        pick = skus or [
            (item.sku, self._random.randint(1, 3))
            for item in self._random.sample(CATALOG, self._random.randint(1, 3))
        ]
        first, last, line1, line2, city, region, postal = CUSTOMERS[
            customer % len(CUSTOMERS)
            if customer is not None
            else self._random.randrange(len(CUSTOMERS))
        ]
        rate = Decimal(STATE_RATES[region])
        order_id, currency = self._id(), "USD"
        line_items, subtotal, total_tax = [], Decimal(0), Decimal(0)
        for sku, quantity in pick:
            item = BY_SKU.get(sku)
            price = item.price if item else Decimal("10.00")
            tax = (price * quantity * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            line_id = self._id()
            subtotal += price * quantity
            total_tax += tax
            line_items.append(
                {
                    "id": line_id,
                    "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                    "sku": sku,
                    "name": item.title if item else sku,
                    "title": item.title if item else sku,
                    "quantity": quantity,
                    "current_quantity": quantity,
                    "fulfillable_quantity": quantity,
                    "requires_shipping": True,
                    "taxable": True,
                    "grams": item.grams if item else 100,
                    "price": f"{price:.2f}",
                    "price_set": _money(price, currency),
                    "total_discount": "0.00",
                    "discount_allocations": [],
                    "tax_lines": [
                        {
                            "title": f"{region} State Tax",
                            "price": f"{tax:.2f}",
                            "rate": float(rate),
                            "price_set": _money(tax, currency),
                        }
                    ],
                }
            )
        shipping = Decimal(0) if pickup else SHIPPING
        total = subtotal + shipping + total_tax
        number = 1000 + order_id % 100000
        created = datetime.now(UTC).isoformat(timespec="seconds")
        address = {
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "company": None,
            "address1": line1,
            "address2": line2,
            "city": city,
            "province_code": region,
            "zip": postal,
            "country": "United States",
            "country_code": "US",
            "phone": None,
        }
        email = f"{first.lower()}.{last.lower()}@example.com".encode("ascii", "ignore").decode()
        return {
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "name": f"#{number}",
            "order_number": number,
            "email": email,
            "created_at": created,
            "updated_at": created,
            "cancelled_at": None,
            "cancel_reason": None,
            "currency": currency,
            "financial_status": "paid",
            "fulfillment_status": None,
            "taxes_included": False,
            "subtotal_price": f"{subtotal:.2f}",
            "total_discounts": "0.00",
            "total_tax": f"{total_tax:.2f}",
            "total_price": f"{total:.2f}",
            "total_price_set": _money(total, currency),
            "customer": {"id": self._id(), "email": email, "first_name": first, "last_name": last},
            "billing_address": address,
            "shipping_address": address,
            "line_items": line_items,
            "shipping_lines": [
                {
                    "id": self._id(),
                    "code": pickup or "Standard",
                    "title": pickup or "Standard",
                    "source": "shopify",
                    "carrier_identifier": "local-pickup" if pickup else None,
                    "price": f"{shipping:.2f}",
                    "discount_allocations": [],
                    "tax_lines": [],
                }
            ],
        }
