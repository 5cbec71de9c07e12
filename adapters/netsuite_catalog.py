"""NetSuite's item master read into canonical `CatalogItem`s through SuiteQL, every page of it:
inventory items (a matrix item's variants share their parent and differ by colour), the price
levels the mappings name, and the scheduled prices kept as a custom record
(`customrecord_price_schedule`: item, price level, price, currency, start, end)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.netsuite import NetSuiteErp, quote
from canonical import Money
from canonical.catalog import CatalogItem, ScheduledPrice

ITEMS = (
    "SELECT item.id, item.itemid, item.displayname, item.description, item.upccode, item.cost, "
    "item.parent, BUILTIN.DF(item.parent) AS parentname, item.custitem_brand, "
    "item.custitem_material, item.custitem_color, item.custitem_below_cost_ok, item.weight, "
    "item.weightunit, item.isinactive FROM item WHERE item.itemtype = 'InvtPart'"
)
PRICES = (
    "SELECT pricing.item, pricelevel.name AS pricelevelname, pricing.unitprice, "
    "currency.symbol AS currency FROM pricing JOIN pricelevel ON pricing.pricelevel = "
    "pricelevel.id JOIN currency ON pricing.currency = currency.id JOIN item ON pricing.item = "
    "item.id WHERE pricelevel.name IN ({levels})"
)
SCHEDULES = (
    "SELECT custrecord_ps_item, custrecord_ps_pricelevel, custrecord_ps_price, "
    "custrecord_ps_currency, custrecord_ps_start, custrecord_ps_end "
    "FROM customrecord_price_schedule WHERE isinactive = 'F'"
)
ATTRIBUTES = {"custitem_brand": "brand", "custitem_material": "material", "custitem_color": "color"}
GRAMS = {"g": Decimal(1), "kg": Decimal(1000), "lb": Decimal("453.59237"), "oz": Decimal("28.3495")}


def _when(text: str) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _grams(row: dict[str, Any]) -> int | None:
    if not row.get("weight"):
        return None
    return int(Decimal(str(row["weight"])) * GRAMS.get(str(row.get("weightunit")), Decimal(1)))


class NetSuiteCatalog:
    """The item master of the NetSuite account (`CatalogPort`)."""

    def __init__(self, erp: NetSuiteErp) -> None:
        self._erp = erp

    async def items(
        self, price_lists: list[str], skus: list[str] | None = None
    ) -> list[CatalogItem]:
        only = f" AND item.itemid IN ({', '.join(map(quote, skus))})" if skus else ""
        rows = await self._erp.suiteql_all(ITEMS + only + " ORDER BY item.id")
        levels = ", ".join(map(quote, price_lists))
        prices: dict[str, dict[str, Money]] = defaultdict(dict)
        for row in await self._erp.suiteql_all(PRICES.format(levels=levels) + only):
            amount = Decimal(str(row["unitprice"]))
            prices[str(row["item"])][row["pricelevelname"]] = Money(
                amount=amount, currency=row["currency"]
            )
        scheduled: dict[str, list[ScheduledPrice]] = defaultdict(list)
        for row in await self._erp.suiteql_all(SCHEDULES):
            start = _when(row["custrecord_ps_start"])
            if start is None or row["custrecord_ps_pricelevel"] not in price_lists:
                continue
            scheduled[str(row["custrecord_ps_item"])].append(
                ScheduledPrice(
                    price_list=row["custrecord_ps_pricelevel"],
                    price=Money(
                        amount=Decimal(str(row["custrecord_ps_price"])),
                        currency=row["custrecord_ps_currency"],
                    ),
                    start=start,
                    end=_when(row["custrecord_ps_end"]),
                )
            )
        return [self._item(row, prices, scheduled) for row in rows]

    def _item(
        self,
        row: dict[str, Any],
        prices: dict[str, dict[str, Money]],
        scheduled: dict[str, list[ScheduledPrice]],
    ) -> CatalogItem:
        item_id, parent = str(row["id"]), str(row.get("parent") or "")
        priced = prices.get(item_id, {})
        currency = next(iter(priced.values())).currency if priced else "USD"  # the books'
        attributes = {ours: str(row[col]) for col, ours in ATTRIBUTES.items() if row.get(col)}
        return CatalogItem(
            sku=row["itemid"],
            product_id=parent or item_id,
            title=(row.get("parentname") or row["displayname"]) if parent else row["displayname"],
            description=row.get("description") or "",
            attributes=attributes,
            options={"Color": attributes["color"]} if parent and "color" in attributes else {},
            gtin=str(row["upccode"]) if row.get("upccode") else None,
            prices=priced,
            scheduled=scheduled.get(item_id, []),
            cost=Money(amount=Decimal(str(row["cost"])), currency=currency)
            if row.get("cost")
            else None,
            below_cost_ok=row.get("custitem_below_cost_ok") == "T",
            weight_grams=_grams(row),
            active=row.get("isinactive") != "T",
        )
