"""Support commands: status, cancel, resume, list. Errors are sentences, not tracebacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import PickupView, ReturnView, SagaView
from canonical.pickup import PickLine, StoreEvent, StoreEventKind
from canonical.returns import (
    Condition,
    InspectedLine,
    Inspection,
    ReturnReceipt,
)
from cli.render import order_detail, status_text
from infra.settings import Settings
from infra.temporal import connect, ui_url
from services.orders import ANY_VIEW, order_key_of, workflow_id_from
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

console = Console()


class SupportError(Exception):
    """A problem to tell the user in one sentence."""


async def _client(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        raise SupportError(
            f"Cannot reach Temporal at {settings.temporal_target} ({exc}). Is `make run` running?"
        ) from exc


def _explain(exc: Exception, workflow_id: str) -> SupportError:
    if isinstance(exc, RPCError) and exc.status is RPCStatusCode.NOT_FOUND:
        return SupportError(f"No order workflow {workflow_id}.")
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause
        message = getattr(cause, "message", None) or str(cause or exc)
        return SupportError(f"Refused: {message}")
    if isinstance(exc, RPCError):
        return SupportError(f"Temporal refused the request: {exc.message}")
    return SupportError(str(exc))


async def status(settings: Settings, order_id: str) -> None:
    workflow_id = workflow_id_from(order_id)
    client = await _client(settings)
    try:
        view: SagaView = await client.get_workflow_handle(workflow_id).query(
            "status", result_type=ANY_VIEW
        )
    except (RPCError, WorkflowUpdateFailedError) as exc:
        raise _explain(exc, workflow_id) from exc
    console.print(order_detail(view, ui_url(settings, workflow_id)))


async def _update(settings: Settings, order_id: str, update: object, request: object) -> SagaView:
    workflow_id = workflow_id_from(order_id)
    client = await _client(settings)
    handle = client.get_workflow_handle(workflow_id)
    try:
        result: SagaView = await handle.execute_update(  # type: ignore[call-overload]
            update, request, result_type=ANY_VIEW
        )
    except (RPCError, WorkflowUpdateFailedError) as exc:
        if isinstance(exc, RPCError) and exc.status is RPCStatusCode.NOT_FOUND:
            await _explain_closed(handle, workflow_id)
        raise _explain(exc, workflow_id) from exc
    return result


async def _explain_closed(handle: WorkflowHandle[Any, Any], workflow_id: str) -> None:
    """Updates cannot reach a closed run: say what the order ended as."""
    try:
        description = await handle.describe()
    except RPCError:
        return
    status = description.typed_search_attributes.get(sa.ORDER_STATUS) or description.status
    raise SupportError(
        f"Order {workflow_id} is already {getattr(status, 'name', status)}; nothing to change."
    )


async def cancel(settings: Settings, order_id: str, reason: str) -> None:
    view = await _update(
        settings, order_id, OrderToCashWorkflow.cancel, CancelRequest(reason=reason)
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
    order_id: str,
    note: str,
    sku_overrides: dict[str, str],
    done_by_hand: str | None = None,
) -> None:
    view = await _update(
        settings,
        order_id,
        OrderToCashWorkflow.resume,
        ResumeRequest(note=note, sku_overrides=sku_overrides, done_by_hand=done_by_hand),
    )
    console.print(f"{view.order_number}: resume accepted (was {view.status.value})")


async def change_store(settings: Settings, order_id: str, store: str, note: str) -> None:
    """Move a click-and-collect order that waits for stock to a store that has it."""
    view = await _update(
        settings,
        order_id,
        ClickAndCollectWorkflow.change_store,
        ChangeStore(store=store, note=note),
    )
    console.print(f"{view.order_number}: moved to {store}")


def _store_event(view: PickupView, kind: StoreEventKind, lines: dict[str, int]) -> StoreEvent:
    """An event as the store's POS would send it, entered by support on the store's behalf."""
    return StoreEvent(
        event_id=f"support-{uuid.uuid4().hex}",
        store=view.pickup_store,
        order_key=order_key_of(view.workflow_id),
        kind=kind,
        lines=[PickLine(line_id=line, sku="", quantity=q) for line, q in lines.items()],
        occurred_at=datetime.now(UTC),
    )


async def _pickup_view(settings: Settings, order_id: str) -> PickupView:
    workflow_id = workflow_id_from(order_id)
    client = await _client(settings)
    try:
        view: SagaView = await client.get_workflow_handle(workflow_id).query(
            "status", result_type=ANY_VIEW
        )
    except RPCError as exc:
        raise _explain(exc, workflow_id) from exc
    if not isinstance(view, PickupView):
        raise SupportError(f"{view.order_number} is not collected in a store.")
    return view


async def ready_for_pickup(settings: Settings, order_id: str) -> None:
    """The store says the order waits at the counter (when its POS cannot)."""
    view = await _pickup_view(settings, order_id)
    client = await _client(settings)
    event = _store_event(view, StoreEventKind.READY_FOR_PICKUP, {})
    await client.get_workflow_handle(view.workflow_id).signal(
        ClickAndCollectWorkflow.ready_for_pickup, event
    )
    console.print(f"{view.order_number}: ready for pickup at {view.pickup_store}")


async def picked_up(settings: Settings, order_id: str, lines: dict[str, int]) -> None:
    """The customer collected the order (`lines`: only these units; all when empty)."""
    view = await _pickup_view(settings, order_id)
    event = _store_event(view, StoreEventKind.PICKED_UP, lines)
    await _update(settings, order_id, ClickAndCollectWorkflow.picked_up, event)
    console.print(f"{view.order_number}: collected ({'partly' if lines else 'all lines'})")


async def cancel_group(settings: Settings, order_id: str, group_id: str, reason: str) -> None:
    """Cancel one shipment group of a split order; its units are refunded, the rest ships."""
    view = await _update(
        settings,
        order_id,
        OrderToCashWorkflow.cancel_group,
        CancelGroup(group_id=group_id, reason=reason),
    )
    console.print(f"{view.order_number}: group {group_id} cancelled")


async def reject_group(settings: Settings, order_id: str, group_id: str, reason: str) -> None:
    """A node told support it cannot ship its group: the order re-sources it."""
    workflow_id = f"{workflow_id_from(order_id)}~{group_id}"
    client = await _client(settings)
    try:
        await client.get_workflow_handle(workflow_id).signal(
            ShipmentGroupWorkflow.node_rejected, NodeRejection(reason=reason)
        )
    except RPCError as exc:
        raise _explain(exc, workflow_id) from exc
    console.print(f"{workflow_id}: rejection sent")


async def start_support_return(
    settings: Settings, order_id: str, lines: dict[str, int], reason: str
) -> None:
    """Customer service books a return of these units (line id -> quantity)."""
    client = await _client(settings)
    try:
        handle = await book_support_return(
            client, settings, workflow_id_from(order_id), lines, reason
        )
    except UnknownOrder as exc:
        raise SupportError(str(exc)) from exc
    except RPCError as exc:  # the order's workflow could not answer now
        raise _explain(exc, order_id) from exc
    console.print(f"return started: {handle.id}")


async def return_received(settings: Settings, return_id: str, node: str) -> None:
    """The parcel arrived at `node` (when the desk cannot report it)."""
    client = await _client(settings)
    receipt = ReturnReceipt(
        event_id=f"support-{uuid.uuid4().hex}", node=node, received_at=datetime.now(UTC)
    )
    try:
        await client.get_workflow_handle(return_id).signal(ReturnWorkflow.return_received, receipt)
    except RPCError as exc:
        raise _explain(exc, return_id) from exc
    console.print(f"{return_id}: received at {node}")


async def inspect_return(settings: Settings, return_id: str, lines: list[str]) -> None:
    """`lines`: LINE=QTY:CONDITION (resalable, damaged or wrong_item)."""
    try:
        inspected = [
            InspectedLine(line_id=line, quantity=int(q), condition=Condition(condition))
            for line, q, condition in (
                (spec.split("=", 1)[0], *spec.split("=", 1)[1].split(":", 1)) for spec in lines
            )
        ]
    except (ValueError, IndexError) as exc:
        raise SupportError(f"--line takes LINE=QTY:resalable|damaged|wrong_item ({exc})") from exc
    inspection = Inspection(event_id=f"support-{uuid.uuid4().hex}", lines=inspected)
    client = await _client(settings)
    try:
        view: ReturnView = await client.get_workflow_handle(return_id).execute_update(
            ReturnWorkflow.inspection_result, inspection
        )
    except (RPCError, WorkflowUpdateFailedError) as exc:
        raise _explain(exc, return_id) from exc
    console.print(f"{return_id}: inspection recorded ({view.status.value})")


async def list_orders(
    settings: Settings, status_filter: str | None, channel: str | None, limit: int
) -> None:
    types = ("OrderToCashWorkflow", "ClickAndCollectWorkflow", "ReturnWorkflow")
    clauses = ["(" + " OR ".join(f"WorkflowType = '{t}'" for t in types) + ")"]
    if status_filter:
        clauses.append(f"OrderStatus = '{status_filter.upper()}'")
    if channel:
        clauses.append(f"Channel = '{channel.lower()}'")
    client = await _client(settings)
    table = Table(title="Orders", expand=True)
    for column in ("Workflow", "Channel", "External id", "Status", "Exception", "Started (UTC)"):
        table.add_column(column, overflow="fold")
    count = 0
    try:
        async for execution in client.list_workflows(" AND ".join(clauses), limit=limit):
            attrs = execution.typed_search_attributes
            table.add_row(
                f"[link={ui_url(settings, execution.id)}]{execution.id}[/link]",
                attrs.get(sa.CHANNEL) or "",
                attrs.get(sa.EXTERNAL_ORDER_ID) or "",
                status_text(attrs.get(sa.ORDER_STATUS) or "RECEIVED"),
                attrs.get(sa.EXCEPTION_CODE) or "",
                execution.start_time.strftime("%Y-%m-%d %H:%M:%S"),
            )
            count += 1
    except RPCError as exc:
        raise SupportError(f"Temporal refused the query: {exc.message}") from exc
    console.print(table)
    console.print(f"{count} order(s). All runs: {ui_url(settings)}")
