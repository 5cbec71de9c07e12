"""The demo catalogue every sandbox system agrees on (the ERP item master is its origin)."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    title: str
    price: Decimal
    grams: int
    erp_item_id: str


# fmt: off
CATALOG = [
    CatalogItem("CANDLE-CEDAR-8OZ", "Cedar & Smoke Soy Candle - 8 oz", Decimal("22.50"), 340,
                "1187"),
    CatalogItem("MUG-STONE-350", "Stoneware Mug - Sage", Decimal("18.00"), 410, "1192"),
    CatalogItem("CANDLE-FIG-12OZ", "Black Fig Candle - 12 oz", Decimal("29.00"), 510, "1193"),
    CatalogItem("MATCH-LONG-50", "Long Safety Matches - 50", Decimal("6.50"), 90, "1201"),
    CatalogItem("TRAY-BRASS-S", "Brass Catch-all Tray - Small", Decimal("34.00"), 280, "1207"),
    CatalogItem("WICK-TRIM-01", "Wick Trimmer", Decimal("14.95"), 120, "1210"),
]
# fmt: on

BY_SKU = {item.sku: item for item in CATALOG}
BY_ERP_ID = {item.erp_item_id: item for item in CATALOG}
INITIAL_STOCK = 100_000
