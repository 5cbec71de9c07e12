"""Sourcing: which node(s) ship an order. One node that can ship every line, the nearest by
zone, when there is one; else a split plan that needs few shipments: the node that covers the
most units goes first. Pure: ATP snapshots in, a plan out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from canonical.inventory import NodeKind
from canonical.sourcing import DemandLine, PlannedLine, ShipmentGroup, Shortfall, SourcingPlan

KIND_ORDER = [NodeKind.WAREHOUSE, NodeKind.STORE, NodeKind.DROPSHIP]


@dataclass
class Candidate:
    node: str
    kind: NodeKind
    zone: int
    atp: dict[str, int] = field(default_factory=dict)
    inbound: dict[str, int] = field(default_factory=dict)


def plan_sourcing(lines: list[DemandLine], candidates: list[Candidate]) -> SourcingPlan:
    # Nearest first; at the same distance a warehouse before a store before a supplier.
    nearest = sorted(candidates, key=lambda c: (c.zone, KIND_ORDER.index(c.kind), c.node))
    demand: dict[str, int] = defaultdict(int)
    for line in lines:
        demand[line.sku] += line.quantity
    for candidate in nearest:
        if all(candidate.atp.get(sku, 0) >= quantity for sku, quantity in demand.items()):
            return SourcingPlan(groups=[_group(candidate, [_planned(line) for line in lines])])
    return _split(lines, nearest)


def _split(lines: list[DemandLine], nearest: list[Candidate]) -> SourcingPlan:
    left = {c.node: dict(c.atp) for c in nearest}
    assigned: dict[str, list[PlannedLine]] = defaultdict(list)
    remaining = list(lines)
    while remaining:
        best, covered = max(
            ((c, _coverable(remaining, left[c.node])) for c in nearest),
            key=lambda pair: (sum(line.quantity for line in pair[1]), -pair[0].zone),
            default=(None, []),
        )
        if best is None or not covered:
            break
        for line in covered:
            left[best.node][line.sku] -= line.quantity
            assigned[best.node].append(_planned(line))
            remaining.remove(line)
    shortfalls = []
    for line in remaining:  # no node has the whole line: split it, nearest first
        need = line.quantity
        pieces: list[tuple[str, int]] = []
        for candidate in nearest:
            take = min(need, left[candidate.node].get(line.sku, 0))
            if take > 0:
                pieces.append((candidate.node, take))
                need -= take
            if need == 0:
                break
        if need:
            shortfalls.append(_shortfall(line, nearest))
            continue
        for node, take in pieces:
            left[node][line.sku] -= take
            assigned[node].append(PlannedLine(line_id=line.line_id, sku=line.sku, quantity=take))
    if shortfalls:
        return SourcingPlan(shortfalls=shortfalls)
    groups = [_group(c, assigned[c.node]) for c in nearest if assigned.get(c.node)]
    return SourcingPlan(groups=groups)


def _coverable(lines: list[DemandLine], atp: dict[str, int]) -> list[DemandLine]:
    """The lines this node can ship whole, in order, each taking from what is left."""
    left = dict(atp)
    covered = []
    for line in lines:
        if left.get(line.sku, 0) >= line.quantity:
            left[line.sku] -= line.quantity
            covered.append(line)
    return covered


def _shortfall(line: DemandLine, candidates: list[Candidate]) -> Shortfall:
    return Shortfall(
        line_id=line.line_id,
        sku=line.sku,
        requested=line.quantity,
        available=sum(c.atp.get(line.sku, 0) for c in candidates),
        inbound=sum(c.inbound.get(line.sku, 0) for c in candidates),
    )


def _planned(line: DemandLine) -> PlannedLine:
    return PlannedLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)


def _group(candidate: Candidate, lines: list[PlannedLine]) -> ShipmentGroup:
    return ShipmentGroup(node=candidate.node, node_kind=candidate.kind, lines=lines)
