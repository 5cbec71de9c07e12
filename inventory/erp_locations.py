"""Our nodes in the ERP's books: each node's `erp_location`, so the ERP moves stock where the
goods did (a delivery from the west warehouse or a store, a return at a store's counter), not
at one default location."""

from __future__ import annotations

from canonical import ErpStockMove
from inventory.store import InventoryStore


class ErpLocations:
    def __init__(self, store: InventoryStore) -> None:
        self._store = store

    def location(self, node: str) -> str | None:
        """The ERP's id of the node's location; None when the network names none."""
        found = self._store.nodes().get(node)
        return found.erp_location if found else None

    def shipped_from(self, order_id: str) -> list[ErpStockMove]:
        """The order's shipped units per SKU and ERP location, as our ledger committed them."""
        nodes = self._store.nodes()
        units: dict[tuple[str, str | None], int] = {}
        for held in self._store.reservations(order_id=order_id):
            if held.committed:
                node = nodes.get(held.node)
                key = (held.sku, node.erp_location if node else None)
                units[key] = units.get(key, 0) + held.committed
        return [
            ErpStockMove(sku=sku, location=location, quantity=quantity)
            for (sku, location), quantity in sorted(units.items(), key=str)
        ]
