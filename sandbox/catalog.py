"""The demo catalogue every sandbox system agrees on (the ERP item master is its origin): what
the channels sell, and the ERP's item master around it — brand, material, colour, GTIN, cost,
its price lists, the mug's second colour and a new item that cannot be listed yet."""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    title: str
    price: Decimal
    grams: int
    erp_item_id: str
    gtin: str = ""
    cost: Decimal = Decimal(0)
    brand: str = "Northwick"
    material: str = ""
    color: str = ""
    parent: str = ""  # the matrix parent's item id: variants of one product share it
    prices: dict[str, Decimal] = field(default_factory=dict)  # other price lists


# fmt: off
CATALOG = [
    CatalogItem("CANDLE-CEDAR-8OZ", "Cedar & Smoke Soy Candle - 8 oz", Decimal("22.50"), 340,
                "1187", "0850012345671", Decimal("6.10"), material="Soy wax", color="Amber"),
    CatalogItem("MUG-STONE-350", "Stoneware Mug - Sage", Decimal("18.00"), 410, "1192",
                "0850012345688", Decimal("5.40"), material="Stoneware", color="Sage",
                parent="1191"),
    CatalogItem("CANDLE-FIG-12OZ", "Black Fig Candle - 12 oz", Decimal("29.00"), 510, "1193",
                "0850012345695", Decimal("8.20"), material="Soy wax", color="Black"),
    CatalogItem("MATCH-LONG-50", "Long Safety Matches - 50", Decimal("6.50"), 90, "1201",
                "0850012345701", Decimal("1.10"), material="Wood", color="Natural"),
    CatalogItem("TRAY-BRASS-S", "Brass Catch-all Tray - Small", Decimal("34.00"), 280, "1207",
                "0850012345718", Decimal("11.80"), material="Brass", color="Gold"),
    CatalogItem("WICK-TRIM-01", "Wick Trimmer", Decimal("14.95"), 120, "1210",
                "0850012345725", Decimal("3.90"), material="Steel", color="Black"),
]
# In the ERP's item master, not sold on the channels yet: the mug's second colour, and a new
# diffuser whose GTIN was typed with a wrong check digit (its listing is refused until fixed).
NEW_ITEMS = [
    CatalogItem("MUG-STONE-350-SLATE", "Stoneware Mug - Slate", Decimal("18.00"), 410, "1194",
                "0850012345732", Decimal("5.40"), material="Stoneware", color="Slate",
                parent="1191"),
    CatalogItem("DIFFUSER-REED-100", "Reed Diffuser - Cedar", Decimal("26.00"), 300, "1215",
                "0850012345740", Decimal("7.30"), material="Glass", color="Clear"),
]
# fmt: on

BY_SKU = {item.sku: item for item in CATALOG}
BY_ERP_ID = {item.erp_item_id: item for item in CATALOG}
ITEM_MASTER = CATALOG + NEW_ITEMS
INITIAL_STOCK = 100_000
