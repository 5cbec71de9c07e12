"""Rich renderings of order state for the terminal."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from canonical import (
    OrderStatus,
    OrderView,
    PickupView,
    ReturnDetails,
    ReturnView,
    SagaView,
    ShipmentGroupView,
)
from canonical.returns import ReturnableOrder
from canonical.settlement import CHARGES, GROSS, AmountKind, SettlementSummary
from cli.output import whole_column

STYLES = {
    OrderStatus.COMPLETED: "green",
    OrderStatus.CANCELLED: "yellow",
    OrderStatus.FAILED: "red",
    OrderStatus.NEEDS_ATTENTION: "bold red",
    OrderStatus.ON_HOLD: "magenta",
    OrderStatus.DELAYED: "bold yellow",
}


def status_text(status: OrderStatus | str) -> Text:
    status = OrderStatus(status)
    return Text(status.value, style=STYLES.get(status, "cyan"))


def orders_table(views: list[tuple[str, SagaView | None]], ui_base: str, title: str) -> Table:
    table = Table(title=title, expand=True)
    table.add_column("Order", overflow="fold")
    whole_column(table, "Workflow", (workflow_id for workflow_id, _ in views))
    whole_column(table, "Status", (v.status.value if v else "STARTING" for _, v in views))
    for column in ("Step", "Latest", "Exception"):
        table.add_column(column, overflow="fold")
    for workflow_id, view in views:
        link = f"[link={ui_base}/{workflow_id}]{workflow_id}[/link]"
        if view is None:
            table.add_row("?", link, Text("STARTING", style="dim"), "", "", "")
            continue
        latest = view.timeline[-1].note if view.timeline else ""
        exception = (
            f"{view.exception.code.value}: {view.exception.message}" if view.exception else ""
        )
        table.add_row(
            view.order_number, link, status_text(view.status), view.step.value, latest, exception
        )
    return table


def _units(lines: dict[str, int]) -> str:
    return ", ".join(f"{q} x {line}" for line, q in lines.items())


def _return_rows(head: Table, details: ReturnDetails) -> None:
    """What a return authorised, sent, received, found and paid back."""
    rows = {
        "Return": details.return_id,
        "Accepted": _units(details.accepted),
        "Refused": "; ".join(f"{line}: {why}" for line, why in details.refused.items()),
        "Label": " ".join(x for x in (details.tracking_number, details.label_url) if x),
        "Received at": details.received_at_node or "",
        "Inspected": ", ".join(f"{line}: {what}" for line, what in details.inspected.items()),
        "Refunded": _units(details.refunded)
        + (f" ({details.refund_id})" if details.refund_id else ""),
        "Credit note": details.credit_note or "",
    }
    for label, value in rows.items():
        if value:
            head.add_row(label, value)


def order_detail(view: SagaView, ui_link: str) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_row("Order", view.order_number)
    head.add_row("Workflow", f"[link={ui_link}]{view.workflow_id}[/link]")
    head.add_row("Status", status_text(view.status))
    head.add_row("Step", view.step.value)
    erp_order = view.erp_order if isinstance(view, OrderView | PickupView) else None
    if erp_order:
        head.add_row("ERP order", f"{erp_order.number or ''} (id {erp_order.erp_id})")
    if view.exception:
        head.add_row(
            "Exception", Text(f"{view.exception.code.value}: {view.exception.message}", style="red")
        )
    if view.cancel_reason:
        head.add_row("Cancel reason", view.cancel_reason)
    if isinstance(view, OrderView | ShipmentGroupView):
        for shipment in view.shipments:
            head.add_row(
                "Shipment",
                f"{shipment.carrier} {shipment.tracking_number} ({len(shipment.lines)} line(s))",
            )
    if isinstance(view, PickupView):
        head.add_row("Pickup store", view.pickup_store)
    if isinstance(view, OrderView):
        for group in view.groups:
            lines = _units(group.lines)
            reason = f" - {group.reason}" if group.reason else ""
            head.add_row(
                f"Group {group.group_id}", f"{group.node}: {group.status} ({lines}){reason}"
            )
        if view.cancelled_lines:
            head.add_row("Cancelled units", _units(view.cancelled_lines))
    if isinstance(view, ReturnView):
        _return_rows(head, view.return_details)
    if view.compensations_done:
        head.add_row("Compensated", ", ".join(view.compensations_done))
    timeline = Table(title="Timeline", expand=True)
    for column in ("At (UTC)", "Status", "Step", "Note"):
        timeline.add_column(column, overflow="fold")
    for change in view.timeline:
        timeline.add_row(
            change.at.strftime("%Y-%m-%d %H:%M:%S"),
            status_text(change.status),
            change.step.value,
            change.note,
        )
    return Group(head, timeline)


def lines_table(returnable: ReturnableOrder) -> Table:
    """The order's lines with the ids `return`, `picked-up` and `resume --sku` name."""
    table = Table(title="Lines", expand=True)
    whole_column(table, "Line id", (line.line_id for line in returnable.order.lines))
    for column in ("SKU", "Title", "Quantity", "Shipped"):
        table.add_column(column, overflow="fold")
    for line in returnable.order.lines:
        shipped = returnable.shipped.get(line.line_id, 0)
        table.add_row(line.line_id, line.sku, line.title, str(line.quantity), str(shipped))
    return table


def settlements_table(found: list[SettlementSummary], title: str) -> Table:
    """Per settlement: what the customers paid, the channel's charges, refunds, the net
    deposit, how many lines went to our orders and returns, and its ERP journal."""
    table = Table(title=title)
    whole_column(table, "Settlement", (s.workflow_id for s in found))
    table.add_column("Status")
    for column in ("Gross", "Fees", "Refunds", "Net", "Matched", "Unmatched"):
        table.add_column(column, justify="right")
    whole_column(table, "ERP journal", (s.journal or "—" for s in found))
    for s in found:
        table.add_row(
            s.workflow_id, s.status.value, str(s.total_of(*GROSS)), str(s.total_of(*CHARGES)),
            str(s.total_of(AmountKind.REFUND)), str(s.total), str(s.matched),
            str(len(s.unmatched)), s.journal or "—",
        )  # fmt: skip
    return table
