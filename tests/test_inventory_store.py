"""The inventory store on SQLite and on a real PostgreSQL: atomic reservations under
concurrency, idempotent retries, the ledger's dedup, allocation and transfers."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from canonical.inventory import InventoryEvent, InventoryEventKind
from inventory.store import InventoryStore, OutOfStock, Reserve, UnknownNode
from tests.inventory_fixtures import new_store, receipt


def race(reserve: Callable[[int], None], orders: int, at_once: int) -> int:
    """Run `reserve(0..orders-1)` from `at_once` threads; how many were not out of stock."""

    def attempt(i: int) -> bool:
        try:
            reserve(i)
            return True
        except OutOfStock:
            return False

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        return sum(pool.map(attempt, range(orders)))


def _position(store: InventoryStore, sku: str, node: str) -> tuple[int, int, int]:
    (p,) = store.positions(skus=[sku], nodes=[node])
    return p.on_hand, p.reserved, p.in_transit


def test_concurrent_reservations_never_oversell(database_url: str) -> None:
    """300 orders of one unit each race for 40 units through four stores (each with its own
    connection pool, so only the database keeps them apart): exactly 40 succeed."""
    stores = [new_store(database_url, pool_size=25) for _ in range(4)]
    stores[0].record([receipt("SKU-HOT", "EAST", 40)])

    def order(i: int) -> None:
        stores[i % 4].reserve(f"order-{i}", [Reserve("1", "SKU-HOT", "EAST", 1)])

    assert race(order, orders=300, at_once=100) == 40
    assert _position(stores[0], "SKU-HOT", "EAST") == (40, 40, 0)
    active = stores[0].reservations(sku="SKU-HOT", active_only=True)
    assert len(active) == 40 and sum(r.quantity for r in active) == 40


def test_multi_line_orders_reserve_all_lines_or_none(database_url: str) -> None:
    """Two-line orders racing for two SKUs in opposite line order: no deadlock, no order
    holds one line without the other, and neither SKU is oversold."""
    store = new_store(database_url, pool_size=25)
    store.record([receipt("SKU-A", "EAST", 30), receipt("SKU-B", "EAST", 20)])

    def order(i: int) -> None:
        lines = [Reserve("a", "SKU-A", "EAST", 1), Reserve("b", "SKU-B", "EAST", 1)]
        store.reserve(f"order-{i}", lines if i % 2 else lines[::-1])

    assert race(order, orders=120, at_once=50) == 20
    assert _position(store, "SKU-A", "EAST")[1] == 20
    assert _position(store, "SKU-B", "EAST")[1] == 20
    per_order: dict[str, int] = {}
    for r in store.reservations(active_only=True):
        per_order[r.order_id] = per_order.get(r.order_id, 0) + 1
    assert set(per_order.values()) == {2}


def test_safety_stock_is_never_promised(database_url: str) -> None:
    store = new_store(database_url)
    store.record([receipt("SKU-1", "STORE", 5)])  # the store keeps 2 on display
    store.reserve("o1", [Reserve("1", "SKU-1", "STORE", 3)])
    with pytest.raises(OutOfStock):
        store.reserve("o2", [Reserve("1", "SKU-1", "STORE", 1)])
    (position,) = store.positions(skus=["SKU-1"])
    assert (position.on_hand, position.reserved, position.safety_stock, position.atp) == (
        5,
        3,
        2,
        0,
    )


def test_retried_reserve_release_and_commit_change_stock_once(database_url: str) -> None:
    store = new_store(database_url)
    store.record([receipt("SKU-1", "EAST", 10)])
    lines = [Reserve("1", "SKU-1", "EAST", 3)]
    store.reserve("o1", lines)
    store.reserve("o1", lines)  # the activity's retry
    assert _position(store, "SKU-1", "EAST") == (10, 3, 0)

    assert store.commit("o1", "ship-1", {"1": 2}) == {("SKU-1", "EAST")}
    assert store.commit("o1", "ship-1", {"1": 2}) == set()  # same shipment again
    assert _position(store, "SKU-1", "EAST") == (8, 1, 0)

    store.release("o1")
    assert store.release("o1") == set()
    assert _position(store, "SKU-1", "EAST") == (8, 0, 0)
    (reservation,) = store.reservations(order_id="o1")
    assert (reservation.status, reservation.committed) == ("released", 2)
    # A retry of the reservation after its release does not hold stock again.
    store.reserve("o1", lines)
    assert _position(store, "SKU-1", "EAST") == (8, 0, 0)


def test_commit_of_a_whole_order_marks_reservations_committed(database_url: str) -> None:
    store = new_store(database_url)
    store.record([receipt("SKU-1", "EAST", 10), receipt("SKU-2", "WEST", 10)])
    store.reserve("o1", [Reserve("1", "SKU-1", "EAST", 2), Reserve("2", "SKU-2", "WEST", 4)])
    store.commit("o1", "ship-all")
    assert _position(store, "SKU-1", "EAST") == (8, 0, 0)
    assert _position(store, "SKU-2", "WEST") == (6, 0, 0)
    assert {r.status for r in store.reservations(order_id="o1")} == {"committed"}
    shipped = [e for e in store.ledger() if e.kind == "shipment"]
    assert sorted((e.sku, e.on_hand_delta) for e in shipped) == [("SKU-1", -2), ("SKU-2", -4)]


def test_ledger_books_each_source_event_once(database_url: str) -> None:
    store = new_store(database_url)
    sale = InventoryEvent(
        source="pos", event_id="txn-1", kind=InventoryEventKind.SALE, sku="SKU-1",
        node="STORE", quantity=2,
    )  # fmt: skip
    first = store.record([receipt("SKU-1", "STORE", 10), sale])
    again = store.record([sale, receipt("SKU-1", "STORE", 10)])
    assert (len(first.new), first.duplicates) == (2, 0)
    assert (len(again.new), again.duplicates) == (0, 2)
    assert _position(store, "SKU-1", "STORE")[0] == 8
    assert len(store.ledger(sku="SKU-1")) == 2


def test_transfers_move_stock_through_in_transit(database_url: str) -> None:
    store = new_store(database_url)
    store.record([receipt("SKU-1", "EAST", 10)])
    out = InventoryEvent(
        source="wms", event_id="tr-1", kind=InventoryEventKind.TRANSFER_OUT, sku="SKU-1",
        node="EAST", to_node="STORE", quantity=4,
    )  # fmt: skip
    arrived = InventoryEvent(
        source="pos", event_id="tr-1-in", kind=InventoryEventKind.TRANSFER_IN, sku="SKU-1",
        node="STORE", quantity=4,
    )  # fmt: skip
    store.record([out])
    assert _position(store, "SKU-1", "EAST") == (6, 0, 0)
    assert _position(store, "SKU-1", "STORE") == (0, 0, 4)
    store.record([arrived, out])
    assert _position(store, "SKU-1", "STORE") == (4, 0, 0)


def test_events_for_unknown_nodes_are_refused_whole(database_url: str) -> None:
    store = new_store(database_url)
    with pytest.raises(UnknownNode, match="NOWHERE"):
        store.record([receipt("SKU-1", "EAST", 1), receipt("SKU-1", "NOWHERE", 1)])
    assert store.positions() == []
