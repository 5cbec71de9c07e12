"""Activities with the saga's names that record calls and fail on demand (time-skipping tests).
The legacy stock activities stay for histories recorded before the inventory service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.inventory import LinesRelease, ReturnRestock, ShipmentCommit
from activities.models import (
    ChannelCancel,
    CollectionConfirmation,
    ErpOrderInput,
    ShipmentConfirmation,
)
from activities.returns import ClaimRequest
from activities.settlement import RefundClaim
from activities.store import PickupRef
from canonical import (
    CreditNoteRequest,
    ErpInvoiceRef,
    ErpOrderRef,
    ErpRestock,
    ExceptionCode,
    FulfillmentRequest,
    ItemRef,
    Order,
    OrderReduction,
    Shipment,
    TaxQuote,
)
from canonical.cancellation import LineCancellation
from canonical.inventory import NodeKind
from canonical.notification import Notification
from canonical.pickup import Handover, PickLine, PickTask
from canonical.returns import ChannelRefund, ReturnClaim, ReturnLabel, ReturnLabelRequest, TaxRefund
from canonical.settlement import SettlementLines
from canonical.sourcing import PlannedLine, ShipmentGroup, SourcingPlan, SourcingRequest
from workflows.all import RUNNER
from workflows.task_queues import channel_task_queue, erp_task_queue


def business(code: ExceptionCode, message: str = "refused") -> ApplicationError:
    return ApplicationError(message, type=code.value, non_retryable=True)


class FakePartners:
    """Every activity of the worker, recorded, failing on demand."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.args: dict[str, list[Any]] = {}
        self.queues: dict[str, str] = {}  # name -> task queue of its last call
        # name -> errors raised by the next calls, in order (then the call succeeds)
        self.failures: dict[str, list[Exception]] = {}

        # name -> error raised by every call until `recover(name)` (a partner outage)
        self.down: dict[str, Exception] = {}
        self.plans: list[SourcingPlan] = []  # what the next allocations answer
        self.refunds: dict[str, ChannelRefund] = {}  # refund id -> what was paid
        self.shipped: list[Shipment] = []  # what the WMS or the supplier says it shipped
        self.collected: dict[str, list[PickLine]] = {}  # order key -> what the store handed over

    def fail(self, name: str, *errors: Exception) -> None:
        self.failures.setdefault(name, []).extend(errors)

    def outage(self, name: str, error: Exception) -> None:
        self.down[name] = error

    def recover(self, name: str) -> None:
        self.down.pop(name, None)

    def templates(self) -> list[str]:
        """The notifications sent to customers, in order."""
        return [n.template.value for n in self.args.get("notify_customer", [])]

    @asynccontextmanager
    async def workers(
        self, client: Client, task_queue: str, workflows: Sequence[type], erp: bool = True
    ) -> AsyncIterator[None]:
        """Workers for `workflows` on `task_queue` and these activities on it and on the
        Shopify and ERP queues beside it (without `erp`: nobody serves the ERP's queue)."""
        queues = [task_queue, channel_task_queue(task_queue, "shopify"), erp_task_queue(task_queue)]
        workers = [
            Worker(
                client,
                task_queue=queue,
                workflows=list(workflows) if queue == task_queue else [],
                activities=self.activities(),
                workflow_runner=RUNNER,  # the sandbox the worker runs them in
            )
            for queue in queues[: None if erp else -1]
        ]
        async with contextlib.AsyncExitStack() as stack:
            for worker in workers:
                await stack.enter_async_context(worker)
            yield

    def _record(self, name: str, arg: Any) -> None:
        self.calls.append(name)
        self.queues[name] = activity.info().task_queue
        self.args.setdefault(name, []).append(arg)
        if name in self.down:
            raise self.down[name]
        pending = self.failures.get(name)
        if pending:
            raise pending.pop(0)

    @activity.defn(name="resolve_items")
    async def resolve_items(self, order: Order) -> list[ItemRef]:
        self._record("resolve_items", order)
        return [ItemRef(sku=sku, erp_item_id=f"item-{sku}") for sku in order.skus()]

    @activity.defn(name="quote_tax")
    async def quote_tax(self, order: Order) -> TaxQuote:
        self._record("quote_tax", order)
        return TaxQuote(
            document_code=order.key, total_taxable=order.subtotal, total_tax=order.tax_total
        )

    @activity.defn(name="commit_tax")
    async def commit_tax(self, code: str) -> None:
        self._record("commit_tax", code)

    @activity.defn(name="void_tax")
    async def void_tax(self, code: str) -> None:
        self._record("void_tax", code)

    @activity.defn(name="allocate_order")
    async def allocate_order(self, request: SourcingRequest) -> SourcingPlan:
        """The next plan of `plans` (e.g. one with shortfalls), else all lines at one node."""
        self._record("allocate_order", request)
        if self.plans:
            return self.plans.pop(0)
        lines = [
            PlannedLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
            for line in request.lines
        ]
        group = ShipmentGroup(
            node="WH-EAST", node_kind=NodeKind.WAREHOUSE, warehouse="101", lines=lines
        )
        return SourcingPlan(groups=[group])

    @activity.defn(name="stores_with_stock")
    async def stores_with_stock(self, request: SourcingRequest) -> list[str]:
        self._record("stores_with_stock", request)
        return ["STORE-NYC", "STORE-SF"]

    @activity.defn(name="create_pick_task")
    async def create_pick_task(self, task: PickTask) -> str:
        self._record("create_pick_task", task)
        return f"pk-{task.store}"

    @activity.defn(name="cancel_pick_task")
    async def cancel_pick_task(self, pickup: PickupRef) -> None:
        self._record("cancel_pick_task", pickup)

    @activity.defn(name="hand_over")
    async def hand_over(self, handover: Handover) -> str:
        self._record("hand_over", handover)
        return "rc-1"

    @activity.defn(name="notify_customer")
    async def notify_customer(self, notification: Notification) -> str:
        self._record("notify_customer", notification)
        return "msg-1"

    @activity.defn(name="release_order")
    async def release_order(self, order_id: str) -> None:
        self._record("release_order", order_id)

    @activity.defn(name="release_lines")
    async def release_lines(self, request: LinesRelease) -> None:
        self._record("release_lines", request)

    @activity.defn(name="reduce_sales_order")
    async def reduce_sales_order(self, reduction: OrderReduction) -> None:
        self._record("reduce_sales_order", reduction)

    @activity.defn(name="cancel_channel_lines")
    async def cancel_channel_lines(self, cancellation: LineCancellation) -> None:
        self._record("cancel_channel_lines", cancellation)

    @activity.defn(name="commit_shipment")
    async def commit_shipment(self, request: ShipmentCommit) -> None:
        self._record("commit_shipment", request)

    @activity.defn(name="create_sales_order")
    async def create_sales_order(self, request: ErpOrderInput) -> ErpOrderRef:
        self._record("create_sales_order", request)
        return ErpOrderRef(
            external_id=request.order.key, erp_id="88214", number="SO88214", status="B"
        )

    @activity.defn(name="cancel_sales_order")
    async def cancel_sales_order(self, key: str) -> None:
        self._record("cancel_sales_order", key)

    @activity.defn(name="fulfil_sales_order")
    async def fulfil_sales_order(self, ref: ErpOrderRef) -> None:
        self._record("fulfil_sales_order", ref)

    @activity.defn(name="invoice_sales_order")
    async def invoice_sales_order(self, ref: ErpOrderRef) -> ErpInvoiceRef:
        self._record("invoice_sales_order", ref)
        return ErpInvoiceRef(erp_id="INV-1", order_erp_id=ref.erp_id)

    @activity.defn(name="request_fulfillment")
    async def request_fulfillment(self, request: FulfillmentRequest) -> str:
        self._record("request_fulfillment", request)
        return "913377602"

    @activity.defn(name="request_dropship")
    async def request_dropship(self, request: FulfillmentRequest) -> str:
        self._record("request_dropship", request)
        return "100810001"

    @activity.defn(name="cancel_dropship")
    async def cancel_dropship(self, key: str) -> None:
        self._record("cancel_dropship", key)

    @activity.defn(name="claim_return")
    async def claim_return(self, request: ClaimRequest) -> ReturnClaim:
        self._record("claim_return", request)
        return ReturnClaim(granted=request.wanted, before={})

    @activity.defn(name="settled_refunds")
    async def settled_refunds(self, claim: RefundClaim) -> list[SettlementLines]:
        self._record("settled_refunds", claim)
        return []

    @activity.defn(name="release_return")
    async def release_return(self, return_id: str) -> None:
        self._record("release_return", return_id)

    @activity.defn(name="create_return_label")
    async def create_return_label(self, request: ReturnLabelRequest) -> ReturnLabel:
        self._record("create_return_label", request)
        return ReturnLabel(
            rma=request.rma, label_id="se-1", carrier="usps", tracking_number="9202001",
            label_url="https://labels.example/se-1.pdf",
        )  # fmt: skip

    @activity.defn(name="void_return_label")
    async def void_return_label(self, rma: str) -> None:
        self._record("void_return_label", rma)

    @activity.defn(name="refund_return")
    async def refund_return(self, refund: ChannelRefund) -> str:
        """Paid once per refund id, like the channels: a retry is answered, not paid again."""
        self.refunds.setdefault(refund.refund_id, refund)
        self._record("refund_return", refund)
        return f"refund-{refund.refund_id}"

    @activity.defn(name="credit_return")
    async def credit_return(self, request: CreditNoteRequest) -> ErpInvoiceRef:
        self._record("credit_return", request)
        return ErpInvoiceRef(erp_id="CM-1", order_erp_id="88214", number="CM-1")

    @activity.defn(name="refund_tax")
    async def refund_tax(self, refund: TaxRefund) -> None:
        self._record("refund_tax", refund)

    @activity.defn(name="restock_return")
    async def restock_return(self, request: ReturnRestock) -> None:
        self._record("restock_return", request)

    @activity.defn(name="erp_restock_return")
    async def erp_restock_return(self, request: ErpRestock) -> None:
        self._record("erp_restock_return", request)

    @activity.defn(name="cancel_fulfillment")
    async def cancel_fulfillment(self, key: str) -> None:
        self._record("cancel_fulfillment", key)

    def _shipped_of(self, name: str, key: str) -> list[Shipment]:
        self._record(name, key)
        return [s for s in self.shipped if s.order_key == key]

    @activity.defn(name="order_shipments")
    async def order_shipments(self, key: str) -> list[Shipment]:
        return self._shipped_of("order_shipments", key)

    @activity.defn(name="dropship_shipments")
    async def dropship_shipments(self, key: str) -> list[Shipment]:
        return self._shipped_of("dropship_shipments", key)

    @activity.defn(name="store_collection")
    async def store_collection(self, pickup: PickupRef) -> list[PickLine]:
        """What the store says the customer took: `collected` (keyed by order key)."""
        self._record("store_collection", pickup)
        return self.collected.get(pickup.order_key, [])

    @activity.defn(name="store_shipments")
    async def store_shipments(self, pickup: PickupRef) -> list[Shipment]:
        return self._shipped_of("store_shipments", pickup.order_key)

    @activity.defn(name="acknowledge_order")
    async def acknowledge_order(self, order: Order) -> None:
        self._record("acknowledge_order", order)

    @activity.defn(name="confirm_shipment")
    async def confirm_shipment(self, request: ShipmentConfirmation) -> str:
        self._record("confirm_shipment", request)
        return f"gid://shopify/Fulfillment/{request.shipment.shipment_id}"

    @activity.defn(name="confirm_collected")
    async def confirm_collected(self, request: CollectionConfirmation) -> str:
        self._record("confirm_collected", request)
        return f"gid://shopify/Fulfillment/{request.handover.handover_id}"

    @activity.defn(name="cancel_channel_order")
    async def cancel_channel_order(self, request: ChannelCancel) -> None:
        self._record("cancel_channel_order", request)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.resolve_items, self.quote_tax, self.commit_tax, self.void_tax,
            self.allocate_order, self.release_order, self.commit_shipment, self.stores_with_stock,
            self.create_pick_task,
            self.cancel_pick_task, self.hand_over, self.notify_customer,
            self.create_sales_order, self.cancel_sales_order,
            self.fulfil_sales_order, self.invoice_sales_order, self.request_fulfillment,
            self.cancel_fulfillment, self.order_shipments, self.dropship_shipments,
            self.store_shipments, self.store_collection,
            self.acknowledge_order,
            self.confirm_shipment, self.confirm_collected,
            self.cancel_channel_order, self.release_lines, self.reduce_sales_order,
            self.cancel_channel_lines, self.request_dropship, self.cancel_dropship,
            self.claim_return, self.release_return, self.create_return_label,
            self.void_return_label, self.refund_return, self.credit_return, self.refund_tax,
            self.restock_return, self.erp_restock_return, self.settled_refunds,
        ]  # fmt: skip


__all__ = ["FakePartners", "business"]
