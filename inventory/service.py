"""The inventory service's operations over the store: sourcing plans, reservations that follow
them, what each channel may sell and which channels a change concerns."""

from __future__ import annotations

from collections import defaultdict

from canonical.address import Address
from canonical.inventory import NodeKind
from canonical.sourcing import PlannedLine, ShipmentGroup, SourcingPlan, SourcingRequest
from inventory.allocation import AllocationRule
from inventory.sourcing import Candidate, plan_sourcing
from inventory.store import InventoryStore, OutOfStock, Reserve, Touched
from inventory.zones import zone

# Another order may take the stock between the plan and the reservation: plan again (a
# plan that lost every race is never returned as if it were reserved).
RACE_RETRIES = 5


class Contended(Exception):
    """Every plan lost its race to other orders; an activity retries it like a transient
    error."""


class InventoryService:
    def __init__(self, store: InventoryStore) -> None:
        self.store = store

    def source(self, request: SourcingRequest) -> SourcingPlan:
        """Where the order would ship from now, without reserving."""
        return self._with_warehouses(plan_sourcing(request.lines, self._candidates(request)))

    def _with_warehouses(self, plan: SourcingPlan) -> SourcingPlan:
        nodes = self.store.nodes()
        for group in plan.groups:
            group.warehouse = nodes[group.node].wms_warehouse
        return plan

    def allocate(self, request: SourcingRequest) -> SourcingPlan:
        """Plan and reserve, all lines or none. A second call for the order returns what the
        first reserved. A plan with shortfalls reserved nothing."""
        existing = self._existing_plan(request)
        if existing is not None:
            return existing
        for _ in range(RACE_RETRIES):
            plan = self.source(request)
            if plan.shortfalls or self._reserved(request.order_id, plan):
                return plan
        raise Contended(f"{request.order_id} lost {RACE_RETRIES} races for its stock")

    def _reserved(self, order_id: str, plan: SourcingPlan) -> bool:
        """Reserve the plan; False when another order took the stock since it was made."""
        lines = [
            Reserve(line.line_id, line.sku, group.node, line.quantity)
            for group in plan.groups
            for line in group.lines
        ]
        try:
            self.store.reserve(order_id, lines)
            return True
        except OutOfStock:
            return False

    def _existing_plan(self, request: SourcingRequest) -> SourcingPlan | None:
        """What an earlier call reserved for these lines (outside the excluded nodes)."""
        wanted = {line.line_id for line in request.lines}
        planned = [
            (node, line)
            for node, line in self.store.planned(request.order_id)
            if line.line_id in wanted and node not in request.exclude_nodes
        ]
        if not planned:
            return None
        nodes = self.store.nodes()
        by_node: dict[str, list[PlannedLine]] = defaultdict(list)
        for node, line in planned:
            by_node[node].append(line)
        return self._with_warehouses(
            SourcingPlan(
                groups=[
                    ShipmentGroup(node=node, node_kind=NodeKind(nodes[node].kind), lines=lines)
                    for node, lines in by_node.items()
                ]
            )
        )

    def _candidates(self, request: SourcingRequest) -> list[Candidate]:
        nodes = {
            code: n
            for code, n in self.store.nodes().items()
            if n.active and code not in request.exclude_nodes
        }
        if request.pickup_node:
            allowed = {request.pickup_node} & set(nodes)
        else:
            rule = self.store.allocation_rules().get(request.channel.value)
            allowed = set(nodes) & rule.nodes if rule else set(nodes)
        candidates = {
            code: Candidate(
                node=code,
                kind=NodeKind(nodes[code].kind),
                zone=zone(nodes[code].country, nodes[code].postal_code, request.ship_to),
            )
            for code in allowed
        }
        skus = {line.sku for line in request.lines}
        for position in self.store.positions(skus=skus, nodes=allowed):
            candidates[position.node].atp[position.sku] = position.atp
            candidates[position.node].inbound[position.sku] = position.in_transit
        return list(candidates.values())

    def stores_with_stock(self, request: SourcingRequest) -> list[str]:
        """Other stores that could serve a pickup order whole, nearest to the one the customer
        chose first (for a store that lacks the stock)."""
        nodes = {code: n for code, n in self.store.nodes().items() if n.active}
        chosen = nodes.get(request.pickup_node or "")
        stores = [
            c for c, n in nodes.items() if n.kind == NodeKind.STORE and c != request.pickup_node
        ]
        demand: dict[str, int] = defaultdict(int)
        for line in request.lines:
            demand[line.sku] += line.quantity
        atp: dict[str, dict[str, int]] = defaultdict(dict)
        for position in self.store.positions(skus=demand, nodes=stores):
            atp[position.node][position.sku] = position.atp
        covering = [c for c in stores if all(atp[c].get(s, 0) >= q for s, q in demand.items())]
        if chosen is None:
            return sorted(covering)
        here = Address(line1="-", city="-", postal_code=chosen.postal_code, country=chosen.country)
        return sorted(
            covering, key=lambda c: (zone(nodes[c].country, nodes[c].postal_code, here), c)
        )

    def available_to_sell(self, channel: str, skus: list[str]) -> dict[str, int]:
        rule = self.store.allocation_rules().get(channel)
        if rule is None:
            return {sku: 0 for sku in skus}
        positions = self.store.positions(skus=skus, nodes=rule.nodes)
        return {sku: rule.available_to_sell(p for p in positions if p.sku == sku) for sku in skus}

    def channels_for(self, touched: Touched) -> dict[str, set[str]]:
        """SKUs whose available-to-sell may have changed, per channel selling from the node."""
        changed: dict[str, set[str]] = defaultdict(set)
        rules: dict[str, AllocationRule] = self.store.allocation_rules()
        for sku, node in touched:
            for channel, rule in rules.items():
                if node in rule.nodes:
                    changed[channel].add(sku)
        return dict(changed)
