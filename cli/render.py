"""Rich renderings of order state for the terminal."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from canonical import OrderStatus, OrderView

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


def orders_table(views: list[tuple[str, OrderView | None]], ui_base: str, title: str) -> Table:
    table = Table(title=title, expand=True)
    for column in ("Order", "Workflow", "Status", "Step", "Latest", "Exception"):
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


def order_detail(view: OrderView, ui_link: str) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_row("Order", view.order_number)
    head.add_row("Workflow", f"[link={ui_link}]{view.workflow_id}[/link]")
    head.add_row("Status", status_text(view.status))
    head.add_row("Step", view.step.value)
    if view.erp_order:
        head.add_row("ERP order", f"{view.erp_order.number or ''} (id {view.erp_order.erp_id})")
    if view.exception:
        head.add_row(
            "Exception", Text(f"{view.exception.code.value}: {view.exception.message}", style="red")
        )
    if view.cancel_reason:
        head.add_row("Cancel reason", view.cancel_reason)
    for shipment in view.shipments:
        head.add_row(
            "Shipment",
            f"{shipment.carrier} {shipment.tracking_number} ({len(shipment.lines)} line(s))",
        )
    if view.pickup_store:
        head.add_row("Pickup store", view.pickup_store)
    for group in view.groups:
        lines = ", ".join(f"{q} x {line}" for line, q in group.lines.items())
        reason = f" - {group.reason}" if group.reason else ""
        head.add_row(f"Group {group.group_id}", f"{group.node}: {group.status} ({lines}){reason}")
    if view.cancelled_lines:
        cancelled = ", ".join(f"{q} x {line}" for line, q in view.cancelled_lines.items())
        head.add_row("Cancelled units", cancelled)
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
