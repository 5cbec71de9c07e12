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
        return "\n".join([head, *rows, *tail])


def _count(value: int | None) -> str:
    return f"{value:>7}" if value is not None else "      -"
