"""Channel allocation and sourcing: pure rules, and the service over a real store."""

from __future__ import annotations

from canonical import Address, Channel
from canonical.inventory import NodeKind, PositionView
from canonical.sourcing import DemandLine, SourcingRequest
from inventory.allocation import AllocationRule
from inventory.network import NodeConfig
from inventory.service import InventoryService
from inventory.sourcing import Candidate, plan_sourcing
from inventory.zones import ABROAD, UNKNOWN, zone
from tests.inventory_fixtures import NETWORK, new_store, receipt

BOSTON = Address(line1="1 Main St", city="Boston", region="MA", postal_code="02110", country="US")
RENO = Address(line1="2 Elm St", city="Reno", region="NV", postal_code="89501", country="US")


def _position(node: str, on_hand: int, reserved: int = 0, safety: int = 0) -> PositionView:
    return PositionView(
        sku="S", node=node, node_kind=NodeKind.WAREHOUSE, on_hand=on_hand, reserved=reserved,
        in_transit=0, safety_stock=safety,
    )  # fmt: skip


def test_allocation_caps_network_atp_and_keeps_a_buffer() -> None:
    positions = [_position("A", 50, reserved=10), _position("B", 30, safety=5), _position("C", 99)]
    everything = AllocationRule("web", frozenset({"A", "B"}))
    assert everything.available_to_sell(positions) == 65  # 40 + 25; C is not the channel's
    share = AllocationRule("amazon", frozenset({"A", "B"}), cap_percent=50, safety_buffer=3)
    assert share.available_to_sell(positions) == 29  # 65 * 50 % = 32, less 3
    fixed = AllocationRule("walmart", frozenset({"A", "B"}), cap_percent=80, cap_units=20)
    assert fixed.available_to_sell(positions) == 20
    starved = AllocationRule("x", frozenset({"A"}), safety_buffer=100)
    assert starved.available_to_sell(positions) == 0
    oversold = [_position("A", 5, reserved=9)]  # shrink after reservation: ATP is 0, not -4
    assert everything.available_to_sell(oversold) == 0


def test_zones_grow_with_distance() -> None:
    assert zone("US", "01605", BOSTON) == 2
    assert zone("US", "89502", BOSTON) == 10
    assert zone("US", "01605", None) == UNKNOWN
    assert zone("US", "01605", BOSTON.model_copy(update={"country": "CA"})) == ABROAD


def _candidate(node: str, zone: int, **atp: int) -> Candidate:
    return Candidate(node=node, kind=NodeKind.WAREHOUSE, zone=zone, atp=dict(atp))


def test_sourcing_prefers_the_nearest_node_that_ships_everything() -> None:
    lines = [
        DemandLine(line_id="1", sku="A", quantity=2),
        DemandLine(line_id="2", sku="B", quantity=1),
    ]
    near_partial = _candidate("NEAR", 2, A=5)
    far_full = _candidate("FAR", 6, A=2, B=1)
    farther_full = _candidate("FARTHER", 8, A=9, B=9)
    plan = plan_sourcing(lines, [farther_full, near_partial, far_full])
    assert [g.node for g in plan.groups] == ["FAR"] and not plan.split
    assert [(line.sku, line.quantity) for line in plan.groups[0].lines] == [("A", 2), ("B", 1)]


def test_sourcing_splits_with_few_shipments_and_splits_a_line_last() -> None:
    lines = [
        DemandLine(line_id="1", sku="A", quantity=1),
        DemandLine(line_id="2", sku="B", quantity=1),
        DemandLine(line_id="3", sku="C", quantity=5),
    ]
    nodes = [_candidate("N1", 2, A=1), _candidate("N2", 4, B=1, C=3), _candidate("N3", 6, C=2)]
    plan = plan_sourcing(lines, nodes)
    assert plan.reserved and plan.split
    shipped = {g.node: [(line.sku, line.quantity) for line in g.lines] for g in plan.groups}
    assert shipped == {"N1": [("A", 1)], "N2": [("B", 1), ("C", 3)], "N3": [("C", 2)]}


def test_sourcing_reports_shortfalls_with_inbound() -> None:
    lines = [DemandLine(line_id="1", sku="A", quantity=4)]
    nodes = [_candidate("N1", 2, A=1), _candidate("N2", 3, A=1)]
    nodes[1].inbound = {"A": 5}
    plan = plan_sourcing(lines, nodes)
    assert not plan.reserved and plan.groups == []
    (shortfall,) = plan.shortfalls
    assert (shortfall.requested, shortfall.available, shortfall.inbound) == (4, 2, 5)
    assert plan.backorderable
    assert plan.reason() == "A: requested 4, available 2, 5 inbound"


def test_service_sources_by_channel_nodes_and_pickup_store(database_url: str) -> None:
    store = new_store(database_url)
    store.record([receipt("A", "STORE", 10), receipt("A", "WEST", 10)])
    service = InventoryService(store)
    lines = [DemandLine(line_id="1", sku="A", quantity=1)]
    web = service.allocate(
        SourcingRequest(order_id="w1", channel=Channel.SHOPIFY, lines=lines, ship_to=BOSTON)
    )
    assert [g.node for g in web.groups] == ["STORE"]  # nearest to Boston
    amazon = service.allocate(
        SourcingRequest(order_id="a1", channel=Channel.AMAZON, lines=lines, ship_to=BOSTON)
    )
    assert [g.node for g in amazon.groups] == ["WEST"]  # marketplaces never take store stock
    pickup = service.allocate(
        SourcingRequest(order_id="p1", channel=Channel.SHOPIFY, lines=lines, pickup_node="EAST")
    )
    assert pickup.shortfalls and not pickup.groups  # only the chosen store may serve it
    again = service.allocate(
        SourcingRequest(order_id="w1", channel=Channel.SHOPIFY, lines=lines, ship_to=RENO)
    )
    assert [g.node for g in again.groups] == ["STORE"]  # a retry returns what was reserved
    assert [p.reserved for p in store.positions(skus=["A"])] == [1, 1]  # STORE, WEST


def test_service_publishes_per_channel_available_to_sell(database_url: str) -> None:
    store = new_store(database_url)
    store.record([receipt("A", "EAST", 20), receipt("A", "STORE", 12), receipt("A", "SUPPLIER", 4)])
    service = InventoryService(store)
    assert service.available_to_sell("shopify", ["A"]) == {"A": 34}  # 20 + (12 - 2) + 4
    assert service.available_to_sell("amazon", ["A"]) == {"A": 11}  # (20 + 4) / 2 - 1
    assert service.available_to_sell("walmart", ["A"]) == {"A": 5}  # capped at 5 units
    assert service.available_to_sell("web", ["A"]) == {"A": 0}  # no allocation, nothing
    changed = service.channels_for({("A", "STORE")})
    assert changed == {"shopify": {"A"}}


def test_a_pickup_store_short_of_stock_names_the_nearest_stores_that_have_it(
    database_url: str,
) -> None:
    store = new_store(database_url)
    store.apply_network(
        NETWORK.model_copy(
            update={
                "nodes": [
                    *NETWORK.nodes,
                    NodeConfig(
                        code="STORE-NYC", name="NYC", kind=NodeKind.STORE, postal_code="10001"
                    ),
                    NodeConfig(
                        code="STORE-SF", name="SF", kind=NodeKind.STORE, postal_code="94103"
                    ),
                ]
            }
        )
    )
    store.record(
        [receipt("A", "STORE-SF", 5), receipt("A", "STORE-NYC", 5), receipt("A", "EAST", 99),
         receipt("B", "STORE-SF", 1)]
    )  # fmt: skip
    service = InventoryService(store)
    wanted = [DemandLine(line_id="1", sku="A", quantity=2)]
    request = SourcingRequest(
        order_id="p1", channel=Channel.SHOPIFY, lines=wanted, pickup_node="STORE"
    )
    assert service.allocate(request).shortfalls  # the chosen store has none
    assert service.stores_with_stock(request) == ["STORE-NYC", "STORE-SF"]  # nearest first
    both = request.model_copy(
        update={"lines": [*wanted, DemandLine(line_id="2", sku="B", quantity=1)]}
    )
    assert service.stores_with_stock(both) == ["STORE-SF"]  # only SF has every line
