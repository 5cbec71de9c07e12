"""`starter.py inventory show|reconcile|network`: what the inventory service knows of a SKU,
a reconciliation on demand, the configured network."""

from __future__ import annotations

from rich.table import Table

from bootstrap.inventory import open_inventory
from canonical import Channel
from cli.output import console, print_json, whole_column
from infra.settings import Settings
from infra.temporal import connect
from inventory.network import network_path
from services.schedules import reconcile_now


def show(settings: Settings, sku: str, as_json: bool) -> None:
    service = open_inventory(settings)
    store = service.store
    positions = store.positions(skus=[sku])
    rules = sorted(store.allocation_rules().items())
    channels = {channel: service.available_to_sell(channel, [sku])[sku] for channel, _ in rules}
    held = store.reservations(sku=sku, active_only=True)
    movements = store.ledger(sku=sku, limit=10)
    if as_json:
        print_json(
            {
                "sku": sku,
                "positions": positions,
                "available_to_sell": channels,
                "reservations": held,
                "movements": movements,
            }
        )
        return
    if not positions:
        console.print(f"No positions for {sku}: no stock event or count has named it yet.")
        return
    table = Table(title=f"{sku} — positions", expand=True)
    for column in ("Node", "Kind", "On hand", "Reserved", "In transit", "Safety", "ATP"):
        table.add_column(column, justify="right" if column not in ("Node", "Kind") else "left")
    for p in positions:
        table.add_row(
            p.node, p.node_kind.value, *map(str, (p.on_hand, p.reserved, p.in_transit)),
            str(p.safety_stock), str(p.atp),
        )  # fmt: skip
    console.print(table)
    sellable = Table(title="Available to sell per channel", expand=True)
    for column in ("Channel", "Nodes", "Cap", "Buffer", "Available to sell"):
        sellable.add_column(column)
    for channel, rule in rules:
        cap = f"{rule.cap_percent} %" + (
            f", ≤ {rule.cap_units}" if rule.cap_units is not None else ""
        )
        sellable.add_row(
            channel, ", ".join(sorted(rule.nodes)), cap, str(rule.safety_buffer),
            str(channels[channel]),
        )  # fmt: skip
    console.print(sellable)
    reservations = Table(title=f"Active reservations ({len(held)})", expand=True)
    whole_column(reservations, "Order", (r.order_id for r in held[-20:]))
    for column in ("Line", "Node", "Quantity", "Shipped", "Since (UTC)"):
        reservations.add_column(column)
    for r in held[-20:]:
        reservations.add_row(
            r.order_id, r.line_id, r.node, str(r.quantity), str(r.committed),
            r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    console.print(reservations)
    ledger = Table(title="Latest movements", expand=True)
    for column in ("Recorded (UTC)", "Source"):
        ledger.add_column(column, overflow="fold")
    whole_column(ledger, "Event", (e.event_id for e in movements))
    for column in ("Kind", "Node", "On hand", "In transit"):
        ledger.add_column(column, overflow="fold")
    for e in movements:
        ledger.add_row(
            e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.source, e.event_id, e.kind, e.node,
            f"{e.on_hand_delta:+d}", f"{e.in_transit_delta:+d}",
        )  # fmt: skip
    console.print(ledger)


async def reconcile(settings: Settings, now: bool, as_json: bool) -> None:
    """With `--now`, run one and print its report; without, print the latest report."""
    if now:
        client = await connect(settings)
        report = await reconcile_now(client, settings)
    else:
        found = open_inventory(settings).store.reconciliation_report()
        if found is None:
            if as_json:
                print_json(None)
                return
            console.print("No reconciliation has run yet; `inventory reconcile --now` runs one.")
            return
        report = found
    if as_json:
        print_json(report)
        return
    console.print(report.render(), highlight=False)


def network(settings: Settings, as_json: bool) -> None:
    store = open_inventory(settings).store
    path = network_path(settings.inventory_network, settings.erp)
    nodes = list(store.nodes().values())
    rules = store.allocation_rules()
    if as_json:
        print_json({"file": str(path), "nodes": nodes, "allocation": rules})
        return
    table = Table(title=f"Inventory network ({path})", expand=True)
    for column in (
        "Node",
        "Name",
        "Kind",
        "Postal code",
        "ERP location",
        "WMS warehouse",
        "Safety",
    ):
        table.add_column(column)
    for node in nodes:
        table.add_row(
            node.code, node.name, node.kind, node.postal_code, node.erp_location or "",
            node.wms_warehouse or "", str(node.safety_stock),
        )  # fmt: skip
    console.print(table)
    for channel in Channel:
        rule = rules.get(channel.value)
        if rule:
            console.print(
                f"{channel.value}: sells from {', '.join(sorted(rule.nodes))}; "
                f"{rule.cap_percent} % of their ATP"
                + (f", at most {rule.cap_units}" if rule.cap_units is not None else "")
                + f", less {rule.safety_buffer}"
            )
