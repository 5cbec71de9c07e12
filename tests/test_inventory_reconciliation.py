"""Reconciliation on SQLite and PostgreSQL: the WMS's count is the truth where it runs the
node, else the ERP's; drift is booked once per run; a position that just moved waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from canonical import StockLevel
from inventory.erp_locations import ErpLocations
from inventory.network import AllocationConfig, Network, NodeConfig
from inventory.reconciliation import reconcile
from inventory.store import Reserve
from inventory.tables import METADATA
from tests.inventory_fixtures import NETWORK, new_store, receipt

# The test network, with the ids the WMS and the ERP know its nodes by.
MAPPED = Network(
    nodes=[
        node.model_copy(update=ids)
        for node, ids in zip(
            NETWORK.nodes,
            [
                {"wms_warehouse": "w1", "erp_location": "3"},  # EAST: WMS-run, ERP books it too
                {"wms_warehouse": "w2"},  # WEST
                {"erp_location": "7"},  # STORE: only the ERP counts it
                {},  # SUPPLIER: nobody counts it
            ],
            strict=True,
        )
    ],
    allocations=NETWORK.allocations,
)


def level(sku: str, where: str, on_hand: int) -> StockLevel:
    return StockLevel(sku=sku, warehouse=where, on_hand=on_hand, forecast=on_hand)


def test_drift_is_booked_against_the_counting_system(database_url: str) -> None:
    store = new_store(database_url)
    store.apply_network(MAPPED)
    store.record([receipt("A", "EAST", 10), receipt("A", "STORE", 5), receipt("A", "SUPPLIER", 9)])
    wms = [level("A", "w1", 7), level("B", "w2", 4), level("A", "w9", 1)]
    erp = [level("A", "3", 8), level("A", "7", 6)]
    now = datetime.now(UTC)
    report, touched = reconcile(store, "run-1", erp, wms, timedelta(0), now)

    lines = {(line.sku, line.node): line for line in report.lines}
    assert (lines["A", "EAST"].truth, lines["A", "EAST"].delta) == ("wms", -3)
    assert "ERP and WMS differ by +1" in lines["A", "EAST"].note
    assert (lines["A", "STORE"].truth, lines["A", "STORE"].delta) == ("erp", 1)
    assert (lines["B", "WEST"].delta, lines["B", "WEST"].position) == (4, 0)  # new position
    assert ("A", "SUPPLIER") not in lines and ("A", "WEST") not in lines  # nothing to say
    assert report.unmapped == ["wms:w9"] and report.adjustments == 3
    assert report.units_adjusted == 2 and all(line.booked for line in report.lines)
    on_hand = {(p.sku, p.node): p.on_hand for p in store.positions()}
    assert on_hand == {("A", "EAST"): 7, ("A", "STORE"): 6, ("A", "SUPPLIER"): 9, ("B", "WEST"): 4}
    assert touched == {("A", "EAST"), ("A", "STORE"), ("B", "WEST")}

    again, touched = reconcile(store, "run-1", erp, wms, timedelta(0), now)  # a retried run
    assert again == report and touched == set()
    assert store.reconciliation_report() == report
    later, _ = reconcile(store, "run-2", erp, wms, timedelta(0), now + timedelta(hours=1))
    assert [(x.sku, x.node, x.delta) for x in later.lines] == [("A", "EAST", 0)]  # ERP vs WMS
    assert later.adjustments == 0


def test_a_position_that_just_moved_is_reported_not_booked(database_url: str) -> None:
    store = new_store(database_url)
    store.apply_network(MAPPED)
    store.record([receipt("A", "WEST", 10)])
    store.reserve("o1", [Reserve("1", "A", "WEST", 2)])
    now = datetime.now(UTC)
    report, _ = reconcile(store, "run-1", [], [level("A", "w2", 8)], timedelta(minutes=10), now)
    (line,) = report.lines
    assert (line.delta, line.booked) == (-2, False) and "checked again next run" in line.note
    assert store.positions(skus=["A"])[0].on_hand == 10
    report, _ = reconcile(store, "run-2", [], [level("A", "w2", 8)], timedelta(0), now)
    assert report.lines[0].booked and store.positions(skus=["A"])[0].on_hand == 8


def test_migrations_build_exactly_the_models_schema(database_url: str) -> None:
    store = new_store(database_url)
    with store.engine.connect() as conn:
        ours = {"include_name": lambda name, kind, _: kind != "table" or name in METADATA.tables}
        diff = compare_metadata(MigrationContext.configure(conn, opts=ours), METADATA)
    assert diff == []


def test_an_allocation_naming_an_unknown_node_is_refused() -> None:
    try:
        Network(
            nodes=NETWORK.nodes,
            allocations=[AllocationConfig(channel="amazon", nodes=["NOWHERE"])],
        )
    except ValueError as exc:
        assert "NOWHERE" in str(exc)
    else:
        raise AssertionError("accepted an allocation to an unknown node")
    assert NodeConfig(code="X", name="X", kind="store").safety_stock == 0


def test_the_erp_is_told_where_an_orders_goods_left(database_url: str) -> None:
    store = new_store(database_url)
    store.apply_network(MAPPED)
    store.record([receipt("A", "EAST", 5), receipt("A", "STORE", 5), receipt("B", "WEST", 5)])
    store.reserve(
        "o1",
        [Reserve("1", "A", "EAST", 2), Reserve("1", "A", "STORE", 1), Reserve("2", "B", "WEST", 3)],
    )
    locations = ErpLocations(store)
    assert locations.shipped_from("o1") == []  # nothing left yet
    store.commit("o1", "s1", {"1": 3})
    store.commit("o1", "s2", {"2": 2}, node="WEST")
    moves = {(m.sku, m.location): m.quantity for m in locations.shipped_from("o1")}
    # WEST has no ERP location: the ERP books those units at its default one.
    assert moves == {("A", "3"): 2, ("A", "7"): 1, ("B", None): 2}
    assert (locations.location("STORE"), locations.location("WEST")) == ("7", None)
