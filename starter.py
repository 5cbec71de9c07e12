"""Starts and steers order workflows.

python starter.py demo [--orders N] [--exit] [--scenario ship|bopis|split|returns|mixed]
                                                 local stack + sample traffic + live table
python starter.py run                            local stack, no demo traffic
python starter.py status ID [--json]            an order's or a return's state and lines
python starter.py cancel ID --reason TEXT
python starter.py resume ID [--note TEXT] [--sku OLD=NEW ...] [--done-by-hand REFERENCE]
python starter.py change-store ID STORE [--note TEXT]   move a pickup order short of stock
python starter.py ready ID | picked-up ID [--line LINE=QTY ...]   a store's pickup events
python starter.py cancel-group ID GROUP --reason TEXT | reject-group ID GROUP --reason TEXT
python starter.py return ID --line LINE=QTY [--reason TEXT]   customer service books a return
python starter.py return-received RMA --node NODE
python starter.py inspect RMA --line LINE=QTY:resalable|damaged|wrong_item ...
python starter.py list [--status S] [--channel C] [--limit N] [--json]
python starter.py inbox list [--status failed] [--source shopify] [--json]
python starter.py inbox replay ID
python starter.py inbox show ID [--json]          a delivery and its corrections
python starter.py inbox fix ID [--ship-to JSON] [--sku LINE=SKU ...] [--note TEXT]
                                                 correct a rejected order delivery, admit it
python starter.py inbox purge [--older-than-days N]   empty settled deliveries (retention)
python starter.py inbox erase --email ADDRESS    empty every delivery naming a customer
python starter.py inventory show SKU [--json]   positions, reservations, per-channel ATP
python starter.py inventory reconcile [--now] [--json]   latest report, or run one now
python starter.py inventory network [--json]     nodes and channel allocation
python starter.py catalog publish CHANNEL [--sku SKU …] --now   the ERP's catalogue, what changed
python starter.py catalog status [--channel C] [--failed] [--json]   listings, listing exceptions
python starter.py privacy list [--limit N] [--json]   Shopify's privacy requests, what each did
python starter.py privacy show ID [--json]        one request: what we hold on them, or what went
python starter.py settlement import CHANNEL --now | --file PATH   a channel's payouts, now
python starter.py settlement show ID|ORDER [--json]   a settlement, or an order's settlement
python starter.py settlement list [--channel C] [--status S] [--limit N] [--json]
python starter.py settlement retry ID [--note TEXT]   post a journal the ERP refused, again
python starter.py settlement resolve ORDER|RETURN --note TEXT   accept a settlement difference

IDs: an order as its key (shopify-1042) or workflow id (order:shopify:1042); a return as its
workflow id (return:shopify:1042:CS-1a2b3c4d). Exit status: 0 done, 1 refused or failed (one
sentence on stderr), 2 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from canonical.correction import OrderCorrection
from canonical.settlement import SettlementStatus
from cli import args as a
from cli import catalog, demo, inbox, inventory, privacy, settlement, support
from cli.demo_traffic import SCENARIOS
from cli.output import errors
from inbox.store import InboxStatus
from infra.customer_keys import CustomerErased
from infra.logs import configure_logging
from infra.processes import exit_process
from infra.settings import Settings

log = logging.getLogger("cli")


def parser() -> argparse.ArgumentParser:
    p = a.Parser(
        prog="starter.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the stack and send sample orders")
    d.add_argument("--orders", type=a.positive, default=10)
    d.add_argument(
        "--exit",
        action="store_true",
        help="exit once every order settled (0) or after --timeout (1)",
    )
    d.add_argument("--timeout", type=a.positive, default=300, help="seconds")
    d.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="ship",
        help="ship: shipped orders; bopis: picked up in store; split: split shipments; "
        "returns: delivered then returned; mixed: all four",
    )
    sub.add_parser("run", help="run the stack without demo traffic")
    s = sub.add_parser("status", help="show one order or return, with its lines")
    s.add_argument("id", type=a.order_id)
    s.add_argument("--json", action="store_true")
    c = sub.add_parser("cancel", help="cancel an order (compensations run)")
    c.add_argument("id", type=a.order_id)
    c.add_argument("--reason", required=True)
    r = sub.add_parser("resume", help="release an order on hold or needing attention")
    r.add_argument("id", type=a.order_id)
    r.add_argument("--note", default="")
    a.repeated(r, "--sku", a.sku_replacement, "OLD=NEW", "replace a SKU first")
    r.add_argument(
        "--done-by-hand",
        metavar="REFERENCE",
        help="the failed call was made in the partner's own tool (e.g. an Amazon refund in "
        "Seller Central): its reference; the step is not tried again",
    )
    cs = sub.add_parser("change-store", help="move a pickup order waiting for stock")
    cs.add_argument("id", type=a.order_id)
    cs.add_argument("store")
    cs.add_argument("--note", default="")
    cg = sub.add_parser("cancel-group", help="cancel one shipment group of a split order")
    cg.add_argument("id", type=a.order_id)
    cg.add_argument("group", type=a.group_id, help="g1, g2, … as `status` shows them")
    cg.add_argument("--reason", required=True)
    rg = sub.add_parser("reject-group", help="a node cannot ship its group: re-source it")
    rg.add_argument("id", type=a.order_id)
    rg.add_argument("group", type=a.group_id)
    rg.add_argument("--reason", required=True)
    rt = sub.add_parser("return", help="book a return of some units of an order")
    rt.add_argument("id", type=a.order_id)
    a.repeated(rt, "--line", a.line_quantity, "LINE=QTY", "units to return", required=True)
    rt.add_argument("--reason", default="")
    rr = sub.add_parser("return-received", help="a return's parcel arrived at a node")
    rr.add_argument("id", type=a.return_id, help="the return's workflow id (its RMA)")
    rr.add_argument("--node", required=True)
    ir_ = sub.add_parser("inspect", help="record a return's inspection")
    ir_.add_argument("id", type=a.return_id, help="the return's workflow id (its RMA)")
    a.repeated(
        ir_, "--line", a.inspected_line, "LINE=QTY:CONDITION",
        "condition: resalable, damaged or wrong_item", required=True,
    )  # fmt: skip
    rp = sub.add_parser("ready", help="a pickup order waits at the store's counter")
    rp.add_argument("id", type=a.order_id)
    pu = sub.add_parser("picked-up", help="the customer collected a pickup order")
    pu.add_argument("id", type=a.order_id)
    a.repeated(pu, "--line", a.line_quantity, "LINE=QTY", "only these units")
    ls = sub.add_parser("list", help="list orders and returns, newest first")
    ls.add_argument("--status", type=a.status)
    ls.add_argument("--channel", type=a.channel)
    ls.add_argument("--limit", type=a.positive, default=50)
    ls.add_argument("--json", action="store_true")
    inbox_commands = sub.add_parser("inbox", help="stored webhook deliveries").add_subparsers(
        dest="inbox_command", required=True
    )
    il = inbox_commands.add_parser("list", help="list deliveries, newest first")
    il.add_argument("--status", type=a.one_of(InboxStatus))
    il.add_argument("--source")
    il.add_argument("--limit", type=a.positive, default=50)
    il.add_argument("--json", action="store_true")
    ir = inbox_commands.add_parser(
        "replay", help="act on a failed, deferred or rejected delivery again"
    )
    ir.add_argument("id", type=a.positive)
    ix = inbox_commands.add_parser(
        "fix", help="correct a rejected or failed order delivery and admit it"
    )
    ix.add_argument("id", type=a.positive)
    ix.add_argument(
        "--ship-to",
        type=a.address,
        metavar="JSON",
        help='the address, e.g. \'{"name": "Ana Souza", "line1": "1 Main St", "city": "Boston", '
        '"region": "MA", "postal_code": "02110", "country": "US"}\'',
    )
    a.repeated(ix, "--sku", a.line_sku, "LINE=SKU", "the SKU a line should carry")
    ix.add_argument("--note", default="", help="why, for the entry's history")
    ish = inbox_commands.add_parser("show", help="one delivery and its corrections")
    ish.add_argument("id", type=a.positive)
    ish.add_argument("--json", action="store_true")
    ip = inbox_commands.add_parser(
        "purge", help="empty settled deliveries older than the retention (outcome, hash kept)"
    )
    ip.add_argument("--older-than-days", type=a.days, help="default: INBOX_RETENTION_DAYS")
    ie = inbox_commands.add_parser("erase", help="empty every delivery naming a customer")
    ie.add_argument("--email", required=True)
    inventory_commands = sub.add_parser("inventory", help="the inventory service").add_subparsers(
        dest="inventory_command", required=True
    )
    shown = inventory_commands.add_parser("show", help="positions and ATP of a SKU")
    shown.add_argument("sku")
    shown.add_argument("--json", action="store_true")
    rc = inventory_commands.add_parser("reconcile", help="stock reconciliation report")
    rc.add_argument("--now", action="store_true", help="run one now (needs the worker)")
    rc.add_argument("--json", action="store_true")
    nw = inventory_commands.add_parser("network", help="nodes and channel allocation")
    nw.add_argument("--json", action="store_true")
    catalog_commands = sub.add_parser(
        "catalog", help="the catalogue on the channels"
    ).add_subparsers(dest="catalog_command", required=True)
    cp = catalog_commands.add_parser("publish", help="publish what changed to a channel now")
    cp.add_argument("channel", type=a.channel)
    cp.add_argument("--sku", action="append", default=[], help="only this SKU (repeatable)")
    cp.add_argument("--now", action="store_true", required=True, help="now (needs the worker)")
    cs = catalog_commands.add_parser("status", help="listings per channel and SKU")
    cs.add_argument("--channel", type=a.channel)
    cs.add_argument("--failed", action="store_true", help="only the listing exceptions")
    cs.add_argument("--json", action="store_true")
    privacy_commands = sub.add_parser("privacy", help="customers' privacy requests").add_subparsers(
        dest="privacy_command", required=True
    )
    pl = privacy_commands.add_parser("list", help="the latest requests and what each did")
    pl.add_argument("--limit", type=a.positive, default=50)
    pl.add_argument("--json", action="store_true")
    ps = privacy_commands.add_parser("show", help="one request, and what we hold on them")
    ps.add_argument("id", help="the request's id (privacy:shopify:…)")
    ps.add_argument("--json", action="store_true")
    settlement_commands = sub.add_parser(
        "settlement", help="what the channels paid out"
    ).add_subparsers(dest="settlement_command", required=True)
    si = settlement_commands.add_parser("import", help="import a channel's settlements")
    si.add_argument("channel", type=a.channel)
    source = si.add_mutually_exclusive_group(required=True)
    source.add_argument("--now", action="store_true", help="ask the channel now (needs the worker)")
    source.add_argument("--file", type=Path, metavar="PATH", help="a report downloaded by hand")
    ss = settlement_commands.add_parser(
        "show", help="one settlement, or how an order's (a return's) settlement stands"
    )
    ss.add_argument("id", type=a.settlement_or_saga, help="settlement:CHANNEL:ID or an order")
    ss.add_argument("--json", action="store_true")
    sl = settlement_commands.add_parser("list", help="imported settlements, newest first")
    sl.add_argument("--channel", type=a.channel)
    sl.add_argument("--status", type=a.one_of(SettlementStatus))
    sl.add_argument("--limit", type=a.positive, default=50)
    sl.add_argument("--json", action="store_true")
    sr = settlement_commands.add_parser("retry", help="post a refused journal again")
    sr.add_argument("id", type=a.settlement)
    sr.add_argument("--note", default="", help="what was fixed")
    sv = settlement_commands.add_parser(
        "resolve", help="accept an order's (a return's) settlement difference"
    )
    sv.add_argument("id", type=a.saga_id)
    sv.add_argument("--note", required=True, help="why the difference is accepted")
    return p


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    match args.command:
        case "demo":
            return await demo.run_stack(
                settings, args.orders, args.exit, args.timeout, args.scenario
            )
        case "run":
            return await demo.run_stack(settings, 0, False, 0)
        case "status":
            await support.status(settings, args.id, args.json)
        case "cancel":
            await support.cancel(settings, args.id, args.reason)
        case "resume":
            overrides = dict(args.sku)
            await support.resume(settings, args.id, args.note, overrides, args.done_by_hand)
        case "change-store":
            await support.change_store(settings, args.id, args.store, args.note)
        case "cancel-group":
            await support.cancel_group(settings, args.id, args.group, args.reason)
        case "reject-group":
            await support.reject_group(settings, args.id, args.group, args.reason)
        case "return":
            await support.start_support_return(settings, args.id, dict(args.line), args.reason)
        case "return-received":
            await support.return_received(settings, args.id, args.node)
        case "inspect":
            await support.inspect_return(settings, args.id, args.line)
        case "ready":
            await support.ready_for_pickup(settings, args.id)
        case "picked-up":
            await support.picked_up(settings, args.id, dict(args.line))
        case "list":
            await support.list_orders(settings, args.status, args.channel, args.limit, args.json)
        case "inbox" if args.inbox_command == "list":
            inbox.list_entries(settings, args.status, args.source, args.limit, args.json)
        case "inbox" if args.inbox_command == "purge":
            inbox.purge(settings, args.older_than_days)
        case "inbox" if args.inbox_command == "erase":
            inbox.erase(settings, args.email)
        case "inbox" if args.inbox_command == "show":
            inbox.show(settings, args.id, args.json)
        case "inbox" if args.inbox_command == "fix":
            if not args.ship_to and not args.sku:
                raise a.UsageError("inbox fix: give --ship-to or --sku (or both)")
            correction = OrderCorrection(ship_to=args.ship_to, skus=dict(args.sku))
            await inbox.fix(settings, args.id, correction, args.note)
        case "inbox":
            await inbox.replay(settings, args.id)
        case "inventory" if args.inventory_command == "show":
            inventory.show(settings, args.sku, args.json)
        case "inventory" if args.inventory_command == "reconcile":
            await inventory.reconcile(settings, args.now, args.json)
        case "inventory":
            inventory.network(settings, args.json)
        case "catalog" if args.catalog_command == "publish":
            await catalog.publish(settings, args.channel, args.sku)
        case "catalog":
            catalog.status(settings, args.channel, args.failed, args.json)
        case "privacy" if args.privacy_command == "list":
            privacy.list_requests(settings, args.limit, args.json)
        case "privacy":
            privacy.show(settings, args.id, args.json)
        case "settlement" if args.settlement_command == "import" and args.now:
            await settlement.import_now(settings, args.channel)
        case "settlement" if args.settlement_command == "import":
            await settlement.import_file(settings, args.channel, args.file)
        case "settlement" if args.settlement_command == "show":
            await settlement.show(settings, args.id, args.json)
        case "settlement" if args.settlement_command == "retry":
            await settlement.retry(settings, args.id, args.note)
        case "settlement" if args.settlement_command == "resolve":
            await settlement.resolve(settings, args.id, args.note)
        case "settlement":
            settlement.list_settlements(settings, args.channel, args.status, args.limit, args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (2) or --help (0), said already
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return asyncio.run(dispatch(args, Settings.from_env()))
    except a.UsageError as exc:
        return a.usage_error(str(exc))
    except (
        support.SupportError, inbox.InboxError, settlement.SettlementError, catalog.CatalogError,
        privacy.PrivacyError, CustomerErased, ConnectionError,
        TimeoutError,
    ) as exc:  # fmt: skip
        errors.print(str(exc), markup=False)
        return 1
    except RPCError as exc:
        errors.print(f"Temporal refused the request: {exc.message}", markup=False)
        return 1
    except WorkflowQueryFailedError as exc:  # e.g. its customer's data was erased
        errors.print(f"The workflow could not answer: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C is how `run` and `demo` are meant to end.
        return 0 if args.command in ("run", "demo") else 130
    except Exception as exc:  # a bug: one sentence here, the traceback at LOG_LEVEL=DEBUG
        log.debug("starter.py %s failed", args.command, exc_info=True)
        errors.print(
            f"{args.command} failed: {type(exc).__name__}: {exc} (LOG_LEVEL=DEBUG shows where)",
            markup=False,
        )
        return 1


if __name__ == "__main__":
    # SIGTERM stops the stack the way Ctrl-C does: children are stopped in `finally`.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    configure_logging("cli", os.environ.get("LOG_LEVEL") or "WARNING")
    exit_process(main())
