"""How much of the network a channel may sell: pure rules over positions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from canonical.inventory import PositionView


@dataclass(frozen=True)
class AllocationRule:
    channel: str
    nodes: frozenset[str]
    cap_percent: int = 100
    cap_units: int | None = None
    safety_buffer: int = 0

    def available_to_sell(self, positions: Iterable[PositionView]) -> int:
        """Network ATP over the channel's nodes, capped (percentage, then units), less the
        channel's buffer; never negative."""
        network = sum(p.atp for p in positions if p.node in self.nodes)
        offered = network * self.cap_percent // 100
        if self.cap_units is not None:
            offered = min(offered, self.cap_units)
        return max(0, offered - self.safety_buffer)
