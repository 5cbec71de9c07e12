"""`starter.py settlement import|show|list|retry|resolve`: import a channel's settlements now
(or a report support downloaded by hand), what each settlement holds and how an order's
settlement stands, posting a journal the ERP refused again once support fixed why, and
accepting an order's (a return's) settlement difference."""

from __future__ import annotations

import uuid
from pathlib import Path

from rich.table import Table
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.settlement import SettlementRef
from adapters.amazon_settlement import SettlementReportError, settlement_from_report
from adapters.walmart_recon import ReconReportError, settlement_from_recon_file
from canonical import Channel, Step
from canonical.order import order_key_of_workflow, parse_order_key
from canonical.settlement import PAYOUT_CHANNELS, SettlementStatus, settlement_workflow_id
from cli.output import console, print_json, whole_column
from cli.render import settlements_table, status_text
from cli.support import saga_update, saga_view, support_client
from infra.settings import Settings
from settlements.store import SettlementStore
from workflows.order_inputs import SettlementResolution
from workflows.settlement import SettlementWorkflow
from workflows.settlement_import import SettlementImportWorkflow
from workflows.settlement_wait import SettledSaga

# The reports support can download: Amazon's flat file, Walmart's reconFileJson answer.
FILE_READERS = {Channel.AMAZON: settlement_from_report, Channel.WALMART: settlement_from_recon_file}


class SettlementError(Exception):
    """A problem to tell the user in one sentence."""


async def import_now(settings: Settings, channel: Channel) -> None:
    """Run one import of the channel's settlements now, as its schedule would."""
    if channel not in PAYOUT_CHANNELS:
        raise SettlementError(f"{channel.value} has no payouts to import")
    client = await support_client(settings)
    started: list[str] = await client.execute_workflow(
        SettlementImportWorkflow.run,
        channel,
        id=f"settlement-import-{channel.value}-now-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
    )
    if not started:
        console.print(f"No new {channel.value} settlement: every one found was imported before.")
    for workflow_id in started:
        console.print(f"imported → {workflow_id}")


async def import_file(settings: Settings, channel: Channel, path: Path) -> None:
    """A settlement report support downloaded by hand: kept, and its workflow started once."""
    read = FILE_READERS.get(channel)
    if read is None:
        raise SettlementError(f"{channel.value} has no downloadable settlement report to import")
    try:
        settlement = read(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SettlementError(f"cannot read {path}: {exc.strerror}") from None
    except (SettlementReportError, ReconReportError, UnicodeDecodeError) as exc:
        raise SettlementError(f"{path} is not a {channel.value} settlement report: {exc}") from None
    new = SettlementStore.open(settings.database_url).record(settlement)
    if new:
        client = await support_client(settings)
        await client.start_workflow(
            SettlementWorkflow.run,
            SettlementRef(channel=channel, settlement_id=settlement.settlement_id),
            id=settlement.workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    said = "imported" if new else "imported before"
    console.print(f"{said} → {settlement.workflow_id} ({len(settlement.lines)} lines)")


async def retry(settings: Settings, ref: tuple[Channel, str], note: str) -> None:
    """Post the journal the ERP refused again, once support fixed why."""
    channel, settlement_id = ref
    client = await support_client(settings)
    handle = client.get_workflow_handle(settlement_workflow_id(channel, settlement_id))
    try:
        await handle.execute_update(SettlementWorkflow.retry_posting, note)
    except WorkflowUpdateFailedError as exc:
        cause = getattr(exc.cause, "message", None) or str(exc.cause or exc)
        raise SettlementError(f"{handle.id}: {cause}") from None
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        raise SettlementError(f"{handle.id} is not running: nothing to retry") from None
    console.print(f"{handle.id}: posting again")


async def resolve(settings: Settings, workflow_id: str, note: str) -> None:
    """Support accepts an order's (a return's) settlement difference: it completes."""
    client = await support_client(settings)
    resolution = SettlementResolution(note=note)
    view = await saga_update(client, workflow_id, SettledSaga.resolve_settlement, resolution)
    console.print(f"{view.order_number}: settlement resolved ({note})")


async def _waiting(settings: Settings, workflow_id: str) -> str | None:
    """Why the settlement's journal waits for support, when it does."""
    client = await support_client(settings)
    try:
        progress = await client.get_workflow_handle(workflow_id).query(SettlementWorkflow.progress)
    except (RPCError, WorkflowQueryFailedError):
        return None  # closed long ago, or not started: nothing waits
    return progress.problem


async def show(settings: Settings, ref: tuple[Channel, str] | str, as_json: bool) -> None:
    """A settlement (`settlement:CHANNEL:ID`), or how an order's (a return's) settlement
    stands (its workflow id or key)."""
    if isinstance(ref, str):
        await _show_saga(settings, ref, as_json)
        return
    channel, settlement_id = ref
    summary = SettlementStore.open(settings.database_url).summary(channel, settlement_id)
    if summary is None:
        raise SettlementError(f"No settlement {settlement_id} of {channel.value} was imported.")
    problem = None if summary.journal else await _waiting(settings, summary.workflow_id)
    if as_json:
        print_json({**summary.model_dump(mode="json"), "waiting_for_support": problem})
        return
    table = Table(title=f"{summary.workflow_id} — deposit {summary.deposit_date or '—'}")
    table.add_column("Kind")
    table.add_column("Amount", justify="right")
    for kind, amount in sorted(summary.by_kind.items()):
        table.add_row(kind.value, str(amount))
    table.add_row("[b]net deposit[/b]", f"[b]{summary.total}[/b]")
    console.print(table)
    journal = summary.journal or (
        f"waiting for support: {problem} (`settlement retry` once fixed)"
        if problem
        else "not posted yet"
    )
    console.print(
        f"{summary.lines} lines: {summary.matched} matched to our orders and returns, "
        f"{summary.account} of the account, {len(summary.unmatched)} unmatched; "
        f"ERP journal: {journal}"
    )
    if summary.unmatched:
        unmatched = Table(title="Unmatched lines")
        whole_column(unmatched, "Line", summary.unmatched)
        unmatched.add_column("Why")
        for line_id, why in summary.unmatched.items():
            unmatched.add_row(line_id, why)
        console.print(unmatched)


async def _show_saga(settings: Settings, workflow_id: str, as_json: bool) -> None:
    """What the order (the return) is due, what its settlements paid, line by line."""
    view = await saga_view(await support_client(settings), workflow_id)
    key = order_key_of_workflow(workflow_id)
    assert key is not None  # the argument is an order's or a return's workflow id
    channel, external_id = parse_order_key(key)
    lines = SettlementStore.open(settings.database_url).lines_of_order(channel, external_id)
    if as_json:
        print_json(
            {
                "workflow_id": view.workflow_id, "status": view.status,
                "due": view.settlement_due, "settlement": view.settlement,
                "exception": view.exception,
                "lines": [
                    {"settlement_id": s, **line.model_dump(mode="json")} for s, line in lines
                ],
            }
        )  # fmt: skip
        return
    console.print(f"{view.order_number} ({view.workflow_id}): ", status_text(view.status))
    verdict = view.settlement
    if view.settlement_due is None:
        console.print("Not waiting for a settlement (not invoiced or refunded yet, or its "
                      "channel's payouts are not imported).")  # fmt: skip
    elif verdict is None:
        console.print(f"Due {view.settlement_due}; no settlement line yet.")
    else:
        console.print(
            f"Due {verdict.due}, settled {verdict.settled} (charges {verdict.charges}): "
            f"{verdict.outcome.value} — {verdict.reason}"
        )
    if view.exception is not None and view.step is Step.SETTLEMENT:
        console.print(
            f"[red]{view.exception.code.value}: {view.exception.message}[/red] "
            f"(`settlement resolve {view.workflow_id} --note …` accepts it)"
        )
    table = Table(title=f"Settlement lines of {channel.value} order {external_id}")
    whole_column(table, "Settlement", (s for s, _ in lines))
    for column in ("Kind", "Amount", "Description"):
        table.add_column(column, justify="right" if column == "Amount" else "left")
    for settlement_id, line in lines:
        table.add_row(settlement_id, line.kind.value, str(line.amount), line.description)
    console.print(table)


def list_settlements(
    settings: Settings,
    channel: Channel | None,
    status: SettlementStatus | None,
    limit: int,
    as_json: bool,
) -> None:
    found = SettlementStore.open(settings.database_url).recent(channel, limit, status)
    if as_json:
        print_json(
            [{**s.model_dump(mode="json"), "status": s.status, "workflow_id": s.workflow_id}
             for s in found]
        )  # fmt: skip
        return
    console.print(settlements_table(found, f"{len(found)} settlement(s), newest first"))
