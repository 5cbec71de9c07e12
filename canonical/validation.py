"""Checks an order must pass before anything is sent to a partner. Pure: the workflow runs them."""

from __future__ import annotations

from canonical.order import Order
from canonical.status import ExceptionCode


def order_problems(order: Order) -> list[tuple[ExceptionCode, str]]:
    """Every reason to put the order on hold, most fundamental first."""
    problems: list[tuple[ExceptionCode, str]] = []
    no_sku = [line.line_id for line in order.lines if not line.sku.strip()]
    if no_sku:
        problems.append((ExceptionCode.UNKNOWN_SKU, f"line(s) {', '.join(no_sku)} have no SKU"))
    expected = order.expected_total()
    if expected != order.total.rounded():
        problems.append(
            (
                ExceptionCode.TOTALS_MISMATCH,
                f"channel total {order.total} but lines, shipping and tax add up to {expected}",
            )
        )
    return problems
