"""Tryton's item master read into canonical `CatalogItem`s over JSON-RPC: the salable goods
(a template's variants share it and differ by colour), their attributes (`product_attribute`:
brand, material, colour), their GTIN (an EAN identifier, or an untyped code of digits — kept as
typed, for the publication to check), their cost, their price in each price list a mapping
names as Tryton computes it (`sale_price_list`), and a list's dated lines
(`product_price_list_dates`) as scheduled prices: the price then, from its first day to the end
of its last (Tryton's dates are days; they are taken as UTC)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.tryton import TrytonErp
from canonical import Money
from canonical.catalog import CatalogItem, ScheduledPrice

ATTRIBUTES = ("brand", "material", "color")
PRODUCT_FIELDS = [
    "code", "template", "template.name", "template.products", "description", "attributes",
    "cost_price", "identifiers", "active",
]  # fmt: skip
GTIN_TYPES = {"ean", "upc", "gtin"}
CENT = Decimal("0.01")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _outside(lines: list[dict[str, Any]]) -> date:
    """A day no dated line holds on, to read the list's regular prices: today, else the day
    after one of them ends (today when every day is held: that price is the regular one)."""
    today = date.today()

    def held(day: date) -> bool:
        return any(
            (line["start_date"] is None or line["start_date"] <= day)
            and (line["end_date"] is None or day <= line["end_date"])
            for line in lines
        )

    after = sorted(line["end_date"] + timedelta(days=1) for line in lines if line["end_date"])
    return next((day for day in [today, *after] if day >= today and not held(day)), today)


class TrytonCatalog:
    """The item master of the Tryton database (`CatalogPort`)."""

    def __init__(self, erp: TrytonErp) -> None:
        self._rpc = erp.rpc
        self._currency: str | None = None

    async def items(
        self, price_lists: list[str], skus: list[str] | None = None
    ) -> list[CatalogItem]:
        domain: list[Any] = [
            ["type", "=", "goods"], ["salable", "=", True], ["active", "in", [True, False]],
        ]  # fmt: skip
        if skus:
            domain.append(["code", "in", skus])
        rows = await self._rpc.search_read("product.product", domain, PRODUCT_FIELDS)
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        currency = await self._company_currency()
        gtins = await self._gtins(ids)
        lists = await self._rpc.search_read(
            "product.price_list", [["name", "in", price_lists]], ["id", "name"]
        )
        prices: dict[int, dict[str, Money]] = defaultdict(dict)
        scheduled: dict[int, list[ScheduledPrice]] = defaultdict(list)
        for price_list in lists:
            lines = await self._dated_lines(price_list["id"])
            regular = await self._prices(ids, price_list["id"], _outside(lines))
            for product, amount in regular.items():
                prices[product][price_list["name"]] = Money(amount=amount, currency=currency)
            for product, sale in await self._dated(ids, price_list, lines, currency):
                scheduled[product].append(sale)
        return [
            self._item(row, currency, gtins.get(row["id"]), prices[row["id"]], scheduled[row["id"]])
            for row in rows
        ]

    def _item(
        self,
        row: dict[str, Any],
        currency: str,
        gtin: str | None,
        prices: dict[str, Money],
        scheduled: list[ScheduledPrice],
    ) -> CatalogItem:
        template = row["template."]
        variants = len(template.get("products") or []) > 1
        attributes = {
            name: str(value)
            for name, value in (row.get("attributes") or {}).items()
            if name in ATTRIBUTES and value
        }
        cost = row.get("cost_price")
        return CatalogItem(
            sku=row["code"],
            product_id=str(row["template"]),
            title=template["name"],
            description=row.get("description") or "",
            attributes=attributes,
            options={"Color": attributes["color"]} if variants and "color" in attributes else {},
            gtin=gtin,
            prices=prices,
            scheduled=scheduled,
            cost=Money(amount=Decimal(str(cost)), currency=currency) if cost else None,
            active=bool(row.get("active", True)),
        )

    async def _company_currency(self) -> str:
        if self._currency is None:
            (company,) = await self._rpc.search_read("company.company", [], ["currency.code"])
            self._currency = str(company["currency."]["code"])
        return self._currency

    async def _gtins(self, products: list[int]) -> dict[int, str]:
        """A product's GTIN: its EAN (UPC, GTIN) identifier, else an untyped code of 8 to 14
        digits (as typed: a wrong check digit is the publication's to refuse)."""
        rows = await self._rpc.search_read(
            "product.identifier", [["product", "in", products]], ["product", "type", "code"]
        )
        found: dict[int, str] = {}
        for row in sorted(rows, key=lambda r: r["type"] not in GTIN_TYPES):
            code = str(row["code"]).replace(" ", "")
            typed = row["type"] in GTIN_TYPES
            if typed or (not row["type"] and code.isdigit() and 8 <= len(code) <= 14):
                found.setdefault(row["product"], code)
        return found

    async def _prices(
        self, products: list[int], price_list: int, on: date | None = None
    ) -> dict[int, Decimal]:
        """Each product's price in the list (on a day; today by default), in cents."""
        context: dict[str, Any] = {"price_list": price_list}
        if on is not None:
            context["date"] = on
        rows = await self._rpc.model(
            "product.product", "read", products, ["sale_price_uom"], **context
        )
        return {
            row["id"]: Decimal(str(row["sale_price_uom"])).quantize(CENT, ROUND_HALF_UP)
            for row in rows
            if row.get("sale_price_uom") is not None
        }

    async def _dated_lines(self, price_list: int) -> list[dict[str, Any]]:
        """The list's lines that hold from a day or until one (sales)."""
        lines: list[dict[str, Any]] = await self._rpc.search_read(
            "product.price_list.line",
            [
                ["price_list", "=", price_list],
                ["OR", ["start_date", "!=", None], ["end_date", "!=", None]],
            ],
            ["product", "start_date", "end_date"],
        )
        return lines

    async def _dated(
        self,
        products: list[int],
        price_list: dict[str, Any],
        lines: list[dict[str, Any]],
        currency: str,
    ) -> list[tuple[int, ScheduledPrice]]:
        """Each product's price on a dated line's first day, from then to the end of its
        last."""
        found = []
        for line in lines:
            start: date = line["start_date"] or date.today()
            applies = [line["product"]] if line["product"] else products
            priced = await self._prices(
                [p for p in applies if p in products], price_list["id"], start
            )
            end = line["end_date"]
            for product, amount in priced.items():
                found.append((product, ScheduledPrice(
                    price_list=price_list["name"],
                    price=Money(amount=amount, currency=currency),
                    start=_day_start(start),
                    end=_day_start(end + timedelta(days=1)) if end else None,
                )))  # fmt: skip
        return found
