"""What a stock reconciliation found: per SKU x node, our position against the ERP's and the
WMS's counts, and the adjustment booked for the drift."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DriftLine(BaseModel):
    sku: str
    node: str
    position: int
    erp: int | None = None
    wms: int | None = None
    truth: str  # "wms" or "erp": whose count the position follows at this node
    delta: int
    booked: bool
    note: str = ""


class ReconciliationReport(BaseModel):
    run_id: str
    at: datetime
    positions_checked: int
    adjustments: int
    units_adjusted: int
    lines: list[DriftLine]
    unmapped: list[str] = []  # snapshot locations no node names

    @property
    def drift(self) -> list[DriftLine]:
        """Where the ERP's and the WMS's counts disagree: no adjustment of ours settles it
        (goods shipped but not delivered in the ERP, a count in one system only), ops must."""
        return [x for x in self.lines if x.erp is not None and x.wms is not None and x.erp != x.wms]

    def render(self) -> str:
        head = (
            f"reconciliation {self.run_id} at {self.at:%Y-%m-%d %H:%M:%S} UTC: "
            f"{self.positions_checked} positions checked, {self.adjustments} adjusted "
            f"({self.units_adjusted:+d} units)"
        )
        rows = [
            f"  {line.sku:<20} {line.node:<10} position {line.position:>7}  "
            f"erp {_count(line.erp)}  wms {_count(line.wms)}  delta {line.delta:+d} "
            f"{'booked' if line.booked else 'not booked'}{' — ' + line.note if line.note else ''}"
            for line in self.lines
        ]
        tail = [f"  unmapped locations: {', '.join(self.unmapped)}"] if self.unmapped else []
        if self.drift:
            tail.append(f"  STOCK_DRIFT: ERP and WMS disagree on {len(self.drift)} position(s)")
        return "\n".join([head, *rows, *tail])


def _count(value: int | None) -> str:
    return f"{value:>7}" if value is not None else "      -"
