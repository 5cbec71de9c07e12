"""Support commands: status, cancel, resume, list and the store's, desk's and customer
service's events. What they refuse or what fails is raised as one sentence (`SupportError`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import (
    Channel,
    ExceptionCode,
    OrderStatus,
    OrderView,
    PickupView,
    ReturnView,
    SagaView,
)
from canonical.order import order_key_of_workflow
from canonical.pickup import PickLine, StoreEvent, StoreEventKind
from canonical.returns import InspectedLine, Inspection, ReturnableOrder, ReturnReceipt
from cli.args import UsageError
from cli.output import console, print_json, whole_column
from cli.render import lines_table, order_detail, status_text
from infra.settings import Settings
from infra.temporal import connect, ui_url
from inventory.network import configured_network
from services.orders import ANY_VIEW
from services.returns import UnknownOrder, book_support_return
from workflows import search_attributes as sa
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.order_inputs import (
    CancelGroup,
    CancelRequest,
    ChangeStore,
    NodeRejection,
    ResumeRequest,
)
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.returns import ReturnWorkflow
from workflows.shipment_group import ShipmentGroupWorkflow

DECIDED_WITHIN = 10.0  # seconds a booked return is given to pass its policy check


class SupportError(Exception):
    """A problem to tell the user in one sentence."""


async def support_client(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        raise SupportError(
            f"Cannot reach Temporal at {settings.temporal_target} ({exc}). Is `make run` running?"
        ) from exc


def _noun(workflow_id: str) -> str:
    return "return" if workflow_id.startswith("return:") else "order"


def _explain(exc: Exception, workflow_id: str) -> SupportError:
    if isinstance(exc, RPCError) and exc.status is RPCStatusCode.NOT_FOUND:
        return SupportError(f"No {_noun(workflow_id)} workflow {workflow_id}.")
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause
        message = getattr(cause, "message", None) or str(cause or exc)
        return SupportError(f"Refused: {message}")
    if isinstance(exc, RPCError):
        return SupportError(f"Temporal refused the request: {exc.message}")
    return SupportError(str(exc))


async def saga_view(client: Client, workflow_id: str) -> SagaView:
    try:
        view: SagaView = await client.get_workflow_handle(workflow_id).query(
            "status", result_type=ANY_VIEW
        )
    except RPCError as exc:
        raise _explain(exc, workflow_id) from exc
    return view


async def _lines(client: Client, view: SagaView) -> ReturnableOrder | None:
    """An order's lines and what of them shipped (None for a return or a group)."""
    if not isinstance(view, OrderView | PickupView):
        return None
    try:
        lines: ReturnableOrder = await client.get_workflow_handle(view.workflow_id).query(
            "returnable", result_type=ReturnableOrder
        )
    except RPCError as exc:
        raise _explain(exc, view.workflow_id) from exc
    return lines


async def status(settings: Settings, workflow_id: str, as_json: bool) -> None:
    client = await support_client(settings)
    view = await saga_view(client, workflow_id)
    lines = await _lines(client, view)
    if as_json:
        print_json({**view.model_dump(mode="json"), "lines": lines})
        return
    console.print(order_detail(view, ui_url(settings, workflow_id)))
    if lines is not None:
        console.print(lines_table(lines))


async def saga_update(
    client: Client, workflow_id: str, update: object, request: object
) -> SagaView:
    handle = client.get_workflow_handle(workflow_id)
    try:
        result: SagaView = await handle.execute_update(  # type: ignore[call-overload]
            update, request, result_type=ANY_VIEW
        )
    except (RPCError, WorkflowUpdateFailedError) as exc:
        if isinstance(exc, RPCError) and exc.status is RPCStatusCode.NOT_FOUND:
            await _explain_closed(handle)
        raise _explain(exc, workflow_id) from exc
    return result


async def _signal(client: Client, workflow_id: str, signal: object, arg: object) -> None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        await handle.signal(signal, arg)  # type: ignore[call-overload]
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            await _explain_closed(handle)
        raise _explain(exc, workflow_id) from exc


async def _explain_closed(handle: WorkflowHandle[Any, Any]) -> None:
    """Signals and updates cannot reach a closed run: say what it ended as."""
    try:
        description = await handle.describe()
    except RPCError:
        return
    status = description.typed_search_attributes.get(sa.ORDER_STATUS) or description.status
    raise SupportError(
        f"{_noun(handle.id).capitalize()} {handle.id} is already "
        f"{getattr(status, 'name', status)}; nothing to change."
    )


async def cancel(settings: Settings, workflow_id: str, reason: str) -> None:
    view = await saga_update(
        await support_client(settings),
        workflow_id,
        OrderToCashWorkflow.cancel,
        CancelRequest(reason=reason),
    )
    console.print(
        f"{view.order_number}: ",
        status_text(view.status),
        f" ({', '.join(view.compensations_done)})",
    )
    if view.exception:
        console.print(f"[red]{view.exception.message}[/red]")


async def resume(
    settings: Settings,
    workflow_id: str,
    note: str,
    sku_overrides: dict[str, str],
    done_by_hand: str | None = None,
) -> None:
    view = await saga_update(
        await support_client(settings),
        workflow_id,
        OrderToCashWorkflow.resume,
        ResumeRequest(note=note, sku_overrides=sku_overrides, done_by_hand=done_by_hand),
    )
    console.print(f"{view.order_number}: resume accepted (was {view.status.value})")


async def change_store(settings: Settings, workflow_id: str, store: str, note: str) -> None:
    """Move a click-and-collect order that waits for stock to a store that has it."""
    _known_node(settings, store, "--store")
    view = await saga_update(
        await support_client(settings),
        workflow_id,
        ClickAndCollectWorkflow.change_store,
        ChangeStore(store=store, note=note),
    )
    console.print(f"{view.order_number}: moved to {store}")


def _store_event(view: PickupView, kind: StoreEventKind, lines: dict[str, int]) -> StoreEvent:
    """An event as the store's POS would send it, entered by support on the store's behalf."""
    key = order_key_of_workflow(view.workflow_id)
    assert key is not None  # a pickup view's workflow is an order's
    return StoreEvent(
        event_id=f"support-{uuid.uuid4().hex}",
        store=view.pickup_store,
        order_key=key,
        kind=kind,
        lines=[PickLine(line_id=line, sku="", quantity=q) for line, q in lines.items()],
        occurred_at=datetime.now(UTC),
    )


async def _pickup_view(client: Client, workflow_id: str) -> PickupView:
    view = await saga_view(client, workflow_id)
    if not isinstance(view, PickupView):
        raise SupportError(f"{view.order_number} is not collected in a store.")
    return view


async def ready_for_pickup(settings: Settings, workflow_id: str) -> None:
    """The store says the order waits at the counter (when its POS cannot)."""
    client = await support_client(settings)
    view = await _pickup_view(client, workflow_id)
    event = _store_event(view, StoreEventKind.READY_FOR_PICKUP, {})
    await _signal(client, workflow_id, ClickAndCollectWorkflow.ready_for_pickup, event)
    console.print(f"{view.order_number}: ready for pickup at {view.pickup_store}")


async def picked_up(settings: Settings, workflow_id: str, lines: dict[str, int]) -> None:
    """The customer collected the order (`lines`: only these units; all when empty)."""
    client = await support_client(settings)
    view = await _pickup_view(client, workflow_id)
    event = _store_event(view, StoreEventKind.PICKED_UP, lines)
    await saga_update(client, workflow_id, ClickAndCollectWorkflow.picked_up, event)
    console.print(f"{view.order_number}: collected ({'partly' if lines else 'all lines'})")


async def cancel_group(settings: Settings, workflow_id: str, group_id: str, reason: str) -> None:
    """Cancel one shipment group of a split order; its units are refunded, the rest ships."""
    view = await saga_update(
        await support_client(settings),
        workflow_id,
        OrderToCashWorkflow.cancel_group,
        CancelGroup(group_id=group_id, reason=reason),
    )
    console.print(f"{view.order_number}: group {group_id} cancelled")


async def reject_group(settings: Settings, order_id: str, group_id: str, reason: str) -> None:
    """A node told support it cannot ship its group: the order re-sources it."""
    workflow_id = f"{order_id}~{group_id}"
    await _signal(
        await support_client(settings),
        workflow_id,
        ShipmentGroupWorkflow.node_rejected,
        NodeRejection(reason=reason),
    )
    console.print(f"{workflow_id}: rejection sent")


async def start_support_return(
    settings: Settings, order_id: str, lines: dict[str, int], reason: str
) -> None:
    """Customer service books a return of these units (line id -> quantity), then says what
    the policy made of it: authorised (exit 0) or refused (exit 1)."""
    client = await support_client(settings)
    try:
        handle = await book_support_return(client, settings, order_id, lines, reason)
    except UnknownOrder as exc:
        raise SupportError(str(exc)) from exc
    except RPCError as exc:  # the order's workflow could not answer now
        raise _explain(exc, order_id) from exc
    view = await _decided(handle)
    details = view.return_details
    refused = "; ".join(f"line {line}: {why}" for line, why in details.refused.items())
    if view.status is OrderStatus.REFUSED:
        raise SupportError(f"Return {handle.id} refused: {refused}.")
    accepted = ", ".join(f"{q} x line {line}" for line, q in details.accepted.items())
    if not accepted:
        console.print(f"Return {handle.id} started, {view.status.value} (`status {handle.id}`)")
        return
    console.print(
        f"Return {handle.id} authorised for {accepted}"
        + (f"; refused {refused}" if refused else "")
        + f" ({view.status.value})"
    )


async def _decided(handle: WorkflowHandle[Any, ReturnView]) -> ReturnView:
    """The return's view once its policy and ledger decided (or after `DECIDED_WITHIN`)."""
    deadline = time.monotonic() + DECIDED_WITHIN
    while True:
        view: ReturnView = await handle.query(ReturnWorkflow.status)
        undecided = view.status in (OrderStatus.RECEIVED, OrderStatus.IN_PROGRESS)
        if not undecided or view.return_details.accepted or time.monotonic() > deadline:
            return view
        await asyncio.sleep(0.1)


def _known_node(settings: Settings, node: str, option: str) -> None:
    """A node of the configured network (`inventory network`), else a usage error."""
    nodes = configured_network(settings.inventory_network, settings.erp).nodes
    codes = sorted(n.code for n in nodes)
    if node not in codes:
        raise UsageError(f"{option} {node}: no such node; one of {', '.join(codes)}")


async def return_received(settings: Settings, return_id: str, node: str) -> None:
    """The parcel arrived at `node` (when the desk cannot report it)."""
    _known_node(settings, node, "--node")
    client = await support_client(settings)
    view = await saga_view(client, return_id)
    earlier = view.return_details.received_at_node if isinstance(view, ReturnView) else None
    exception = view.exception
    correcting = exception is not None and exception.code is ExceptionCode.UNKNOWN_NODE
    if earlier and not correcting and not view.status.is_final:
        raise SupportError(f"Return {return_id} was received at {earlier} already.")
    receipt = ReturnReceipt(
        event_id=f"support-{uuid.uuid4().hex}", node=node, received_at=datetime.now(UTC)
    )
    await _signal(client, return_id, ReturnWorkflow.return_received, receipt)
    if correcting:
        console.print(f"{return_id}: received at {node} (corrected); `resume {return_id}` books it")
    else:
        console.print(f"{return_id}: received at {node}")


async def inspect_return(settings: Settings, return_id: str, lines: list[InspectedLine]) -> None:
    inspection = Inspection(event_id=f"support-{uuid.uuid4().hex}", lines=lines)
    view = await saga_update(
        await support_client(settings), return_id, ReturnWorkflow.inspection_result, inspection
    )
    console.print(f"{return_id}: inspection recorded ({view.status.value})")


SAGA_TYPES = ("OrderToCashWorkflow", "ClickAndCollectWorkflow", "ReturnWorkflow")


def orders_query(status: OrderStatus | None, channel: Channel | None) -> str:
    """The visibility query for `list`: only enum values are pasted in, never raw text."""
    clauses = ["(" + " OR ".join(f"WorkflowType = '{t}'" for t in SAGA_TYPES) + ")"]
    if status is not None:
        clauses.append(f"OrderStatus = '{OrderStatus(status).value}'")
    if channel is not None:
        clauses.append(f"Channel = '{Channel(channel).value}'")
    return " AND ".join(clauses)


async def list_orders(
    settings: Settings,
    status: OrderStatus | None,
    channel: Channel | None,
    limit: int,
    as_json: bool,
) -> None:
    client = await support_client(settings)
    rows = []
    try:
        async for execution in client.list_workflows(orders_query(status, channel), limit=limit):
            attrs = execution.typed_search_attributes
            rows.append(
                {
                    "workflow_id": execution.id,
                    "channel": attrs.get(sa.CHANNEL) or "",
                    "external_id": attrs.get(sa.EXTERNAL_ORDER_ID) or "",
                    "status": attrs.get(sa.ORDER_STATUS) or "RECEIVED",
                    "exception": attrs.get(sa.EXCEPTION_CODE) or "",
                    "started_at": execution.start_time.isoformat(),
                }
            )
    except RPCError as exc:
        raise SupportError(f"Temporal refused the query: {exc.message}") from exc
    if as_json:
        print_json(rows)
        return
    table = Table(title="Orders", expand=True)
    whole_column(table, "Workflow", (row["workflow_id"] for row in rows))
    for column in ("Channel", "External id"):
        table.add_column(column, overflow="fold")
    whole_column(table, "Status", (row["status"] for row in rows))
    for column in ("Exception", "Started (UTC)"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            f"[link={ui_url(settings, row['workflow_id'])}]{row['workflow_id']}[/link]",
            row["channel"],
            row["external_id"],
            status_text(row["status"]),
            row["exception"],
            row["started_at"][:19].replace("T", " "),
        )
    console.print(table)
    console.print(f"{len(rows)} order(s). All runs: {ui_url(settings)}")
