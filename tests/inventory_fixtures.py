"""A small stock network for the inventory tests: two warehouses, a store, a supplier."""

from __future__ import annotations

from canonical import Channel
from canonical.inventory import InventoryEvent, InventoryEventKind, NodeKind
from inventory.database import inventory_engine
from inventory.network import AllocationConfig, Network, NodeConfig
from inventory.store import InventoryStore

NETWORK = Network(
    nodes=[
        NodeConfig(code="EAST", name="East DC", kind=NodeKind.WAREHOUSE, postal_code="01605"),
        NodeConfig(code="WEST", name="West DC", kind=NodeKind.WAREHOUSE, postal_code="89502"),
        NodeConfig(
            code="STORE", name="Store", kind=NodeKind.STORE, postal_code="02116", safety_stock=2
        ),
        NodeConfig(code="SUPPLIER", name="Supplier", kind=NodeKind.DROPSHIP, postal_code="43215"),
    ],
    allocations=[
        AllocationConfig(channel=Channel.SHOPIFY),
        AllocationConfig(
            channel=Channel.AMAZON,
            node_kinds=[NodeKind.WAREHOUSE, NodeKind.DROPSHIP],
            cap_percent=50,
            safety_buffer=1,
        ),
        AllocationConfig(channel=Channel.WALMART, nodes=["EAST"], cap_units=5),
    ],
)


def new_store(url: str, pool_size: int = 5) -> InventoryStore:
    store = InventoryStore(inventory_engine(url, pool_size=pool_size))
    store.apply_network(NETWORK)
    return store


def receipt(sku: str, node: str, quantity: int, event_id: str | None = None) -> InventoryEvent:
    return InventoryEvent(
        source="erp",
        event_id=event_id or f"receipt-{sku}-{node}-{quantity}",
        kind=InventoryEventKind.RECEIPT,
        sku=sku,
        node=node,
        quantity=quantity,
    )
