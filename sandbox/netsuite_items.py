"""NetSuite's item master as SuiteQL reads it: inventory items (a matrix parent's variants name
it), their price levels per currency, and scheduled prices (a custom record: a price level's
price for a while). Control routes change an item as a clerk would in NetSuite, and make a
large catalogue for the benchmark."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from stdnum import ean

from sandbox.catalog import ITEM_MASTER, CatalogItem

BASE, MARKETPLACE = "Base Price", "Marketplace"
MARKETPLACE_MARKUP = Decimal("1.05")
PARENTS = {"1191": "Stoneware Mug"}  # matrix parents: internal id -> display name
CENT = Decimal("0.01")


def _record(item: CatalogItem) -> dict[str, Any]:
    return {
        "id": item.erp_item_id, "itemid": item.sku, "displayname": item.title,
        "description": f"{item.title}. Made by {item.brand}.", "upccode": item.gtin,
        "cost": str(item.cost), "parent": item.parent,
        "parentname": PARENTS.get(item.parent, ""), "custitem_brand": item.brand,
        "custitem_material": item.material, "custitem_color": item.color,
        "custitem_below_cost_ok": "F", "weight": str(item.grams), "weightunit": "g",
        "isinactive": "F", "itemtype": "InvtPart",
    }  # fmt: skip


class NetSuiteItems:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {i.sku: _record(i) for i in ITEM_MASTER}
        # (item id, price level) -> price in USD
        self.prices: dict[tuple[str, str], Decimal] = {}
        for item in ITEM_MASTER:
            self.set_price(item.erp_item_id, item.price)
        self.schedules: list[dict[str, Any]] = []  # customrecord_price_schedule rows

    def set_price(self, item_id: str, base: Decimal) -> None:
        """The item's base price, and the marketplace level's from it."""
        self.prices[(item_id, BASE)] = base
        marked_up = (base * MARKETPLACE_MARKUP).quantize(CENT, ROUND_HALF_UP)
        self.prices[(item_id, MARKETPLACE)] = marked_up

    def answer(self, query: str) -> list[dict[str, Any]] | None:
        """The rows of a catalogue query; None for any other."""
        skus = _skus(query)
        if re.search(r"FROM item WHERE item\.itemtype = 'InvtPart'", query, re.I):
            rows = sorted(self.items.values(), key=lambda r: int(r["id"]))
            return [r for r in rows if skus is None or r["itemid"] in skus]
        if re.search(r"FROM pricing\b", query, re.I):
            levels = re.findall(r"'([^']+)'", query.split("pricelevel.name IN", 1)[1])
            ids = {r["id"]: r["itemid"] for r in self.items.values()}
            return [
                {"item": item_id, "pricelevelname": level, "unitprice": str(price),
                 "currency": "USD"}
                for (item_id, level), price in sorted(self.prices.items())
                if level in levels and (skus is None or ids.get(item_id) in skus)
            ]  # fmt: skip
        if re.search(r"FROM customrecord_price_schedule\b", query, re.I):
            return list(self.schedules)
        return None

    def add(self, count: int) -> list[str]:
        """`count` more items, each a product of its own (the benchmark's catalogue)."""
        start = max(int(r["id"]) for r in self.items.values()) + 1
        made = []
        for n in range(start, start + count):
            sku = f"BENCH-{n:06d}"
            price = Decimal(10 + n % 40) + Decimal("0.99")
            stem = f"08{n:010d}"
            gtin = stem + ean.calc_check_digit(stem)
            item = CatalogItem(
                sku, f"Bench Candle {n}", price, 200, str(n), gtin=gtin,
                cost=(price / 3).quantize(CENT), material="Soy wax", color="Ivory",
            )  # fmt: skip
            self.items[sku] = _record(item)
            self.set_price(item.erp_item_id, price)
            made.append(sku)
        return made


def _skus(query: str) -> set[str] | None:
    m = re.search(r"item\.itemid IN \((.*?)\)", query, re.I)
    if m is None:
        return None
    return {s.replace("''", "'") for s in re.findall(r"'((?:[^']|'')*)'", m.group(1))}


class ItemChange(BaseModel):
    fields: dict[str, str] = Field(description="SuiteQL column -> new value, e.g. upccode")
    base_price: Decimal | None = None


class PriceSchedule(BaseModel):
    sku: str
    price_level: str = MARKETPLACE
    price: Decimal
    start: datetime
    end: datetime | None = None


class MoreItems(BaseModel):
    count: int = Field(gt=0, le=50_000)


def control_router(items: NetSuiteItems) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/netsuite/items", tags=["sandbox control"])

    @api.patch("/{sku}")
    async def change(sku: str, change: ItemChange) -> Response:
        """A clerk edits the item (a GTIN corrected, a price changed)."""
        record = items.items.get(sku)
        if record is None:
            return JSONResponse({"detail": f"unknown SKU {sku}"}, status_code=404)
        record.update(change.fields)
        if change.base_price is not None:
            items.set_price(record["id"], change.base_price)
        return JSONResponse(record)

    @api.post("/schedules")
    async def schedule(spec: PriceSchedule) -> Response:
        """A price for a while (a sale), as the custom record NetSuite keeps it."""
        record = items.items.get(spec.sku)
        if record is None:
            return JSONResponse({"detail": f"unknown SKU {spec.sku}"}, status_code=404)
        row = {
            "id": str(len(items.schedules) + 1), "custrecord_ps_item": record["id"],
            "custrecord_ps_pricelevel": spec.price_level,
            "custrecord_ps_price": str(spec.price), "custrecord_ps_currency": "USD",
            "custrecord_ps_start": spec.start.isoformat(),
            "custrecord_ps_end": spec.end.isoformat() if spec.end else "",
        }  # fmt: skip
        items.schedules.append(row)
        return JSONResponse(row)

    @api.post("")
    async def more(spec: MoreItems) -> list[str]:
        return items.add(spec.count)

    return api
