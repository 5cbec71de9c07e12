"""The ports: what the orchestration needs from each kind of partner, in canonical terms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Protocol

from canonical import (
    CreditNoteRequest,
    ErpInvoiceRef,
    ErpOrderRef,
    ErpStockMove,
    FulfillmentRequest,
    ItemRef,
    Order,
    OrderReduction,
    Shipment,
    StockLevel,
    TaxQuote,
)
from canonical.cancellation import LineCancellation
from canonical.catalog import CatalogItem, Listing, ListingOutcome
from canonical.inventory import AvailableToSell
from canonical.journal import Journal
from canonical.notification import Notification
from canonical.pickup import Handover, PickLine, PickTask
from canonical.pos import ErpSaleRef, PosSale
from canonical.returns import ChannelRefund, ReturnLabel, ReturnLabelRequest, TaxRefund
from canonical.settlement import Settlement


class ErpPort(Protocol):
    async def resolve_items(self, skus: list[str]) -> list[ItemRef]:
        """Map channel SKUs to ERP items; `BusinessError(UNKNOWN_SKU)` names any missing."""
        ...

    async def upsert_sales_order(self, order: Order, items: list[ItemRef]) -> ErpOrderRef:
        """Create the sales order once per `order.key`, whatever the number of calls."""
        ...

    async def sales_order(self, order_key: str) -> ErpOrderRef | None:
        """The ERP's view of the order (state, delivery state), None when it never saw it."""
        ...

    async def cancel_sales_order(self, order_key: str) -> None:
        """Idempotent; an order the ERP never saw counts as cancelled. `BusinessError` when
        the ERP refuses (goods already delivered, invoice posted): it needs a return."""
        ...

    async def reduce_sales_order(self, reduction: OrderReduction) -> None:
        """Take units off lines before delivery: they will neither ship nor be billed.
        Idempotent (the quantities are what each line keeps). `BusinessError` once the
        order was delivered or billed."""
        ...

    async def fulfil_sales_order(
        self, ref: ErpOrderRef, shipped_from: Sequence[ErpStockMove] = ()
    ) -> None:
        """Our nodes shipped the order: record the delivery so the ERP's stock drops at the
        locations the goods left (`shipped_from`; what it does not cover, at the ERP's
        default one). Idempotent."""
        ...

    async def invoice_sales_order(self, ref: ErpOrderRef) -> ErpInvoiceRef:
        """Bill the order once; a second call returns the same invoice."""
        ...

    async def credit_return(self, request: CreditNoteRequest) -> ErpInvoiceRef:
        """Credit returned goods once per `request.credit_key`; returns the credit note."""
        ...

    async def restock_return(
        self, restock_key: str, order_key: str, moves: Sequence[ErpStockMove]
    ) -> None:
        """Returned goods fit to sell are back on hand at these locations, once per key."""
        ...

    async def stock_levels(self, skus: list[str]) -> list[StockLevel]:
        """What the ERP's books hold per SKU and warehouse, for reconciliation."""
        ...

    async def post_cash_sale(
        self, sale: PosSale, items: list[ItemRef], location: str | None = None
    ) -> ErpSaleRef:
        """Record a store sale once per `sale.key`, whatever the number of calls; its goods
        leave the store's `location` (the ERP's default one when None)."""
        ...

    async def customer_reference(self, customer_ref: str) -> str | None:
        """The ERP's id of the customer (party) keyed by our reference; None when it has none."""
        ...

    async def anonymize_customer(self, customer_ref: str) -> str | None:
        """Erase who the customer is (name, e-mail, phone, addresses) from their ERP record,
        keeping the record for the orders and invoices that name it; idempotent. The ERP's id,
        None when it never had them."""
        ...

    async def post_journal(self, journal: Journal) -> str:
        """Post a balanced journal once per `journal.journal_id`, however often it is called;
        returns the ERP's reference of it."""
        ...


class TaxPort(Protocol):
    async def quote(self, order: Order) -> TaxQuote:
        """Create or adjust the uncommitted tax document `order.key`."""
        ...

    async def commit(self, document_code: str) -> None: ...

    async def void(self, document_code: str) -> None:
        """Idempotent; an unknown document counts as voided."""
        ...

    async def refund(self, refund: TaxRefund) -> None:
        """Record returned units against the committed document, once per `refund_code`."""
        ...


class WmsPort(Protocol):
    async def create_fulfillment(self, request: FulfillmentRequest) -> str:
        """Upsert on `order_key`; returns the WMS order id."""
        ...

    async def cancel_fulfillment(self, order_key: str) -> None:
        """Idempotent; an order the WMS never had counts as cancelled.
        `BusinessError(ALREADY_SHIPPED)` once the warehouse shipped it."""
        ...

    async def shipments_of(self, order_key: str) -> list[Shipment]:
        """Every shipment the WMS made for the order (voided ones included)."""
        ...

    async def fetch_shipments(self, resource_url: str) -> list[Shipment]:
        """Resolve a thin shipment notification into shipments."""
        ...

    async def stock_levels(self) -> list[StockLevel]:
        """On hand per SKU and warehouse as the WMS counts it, for reconciliation."""
        ...

    async def create_return_label(self, request: ReturnLabelRequest) -> ReturnLabel:
        """A prepaid return label to the warehouse, once per RMA."""
        ...

    async def void_return_label(self, rma: str) -> None:
        """Void the RMA's label; idempotent. A used label cannot be voided (`BusinessError`)."""
        ...


class MarketplacePort(Protocol):
    inventory_batch: int  # SKUs one availability call can set
    inventory_bulk_from: int  # so many SKUs at once go in one bulk `set_available` (0: never)

    async def acknowledge(self, order: Order) -> None:
        """Tell the channel we accepted the order (idempotent)."""
        ...

    async def confirm_shipment(self, order: Order, shipment: Shipment) -> str:
        """Report a shipment with tracking; must not double-fulfil on retry."""
        ...

    async def confirm_collected(self, order: Order, handover: Handover) -> str:
        """The customer collected these lines at the store: fulfil them on the channel (no
        tracking); must not double-fulfil on retry."""
        ...

    async def cancel(self, order: Order, reason: str, by_buyer: bool = False) -> None:
        """Cancel on the channel; idempotent. `by_buyer`: the buyer asked (the channel's own
        reason for that is given)."""
        ...

    async def cancel_lines(self, cancellation: LineCancellation) -> None:
        """Cancel some units before they ship; the channel refunds them. Idempotent per
        `cancellation_id`."""
        ...

    async def refund(self, refund: ChannelRefund) -> str:
        """Pay returned units back, exactly once per `refund.refund_id`; returns the
        channel's refund reference."""
        ...

    async def set_available(self, updates: list[AvailableToSell]) -> list[str]:
        """Set what the channel may sell (absolute quantities: retries are safe), at most
        `inventory_batch` SKUs per call. Returns the SKUs the channel does not list."""
        ...


class DropShipPort(Protocol):
    """A supplier that ships for us, through its fulfilment API."""

    async def create_order(self, request: FulfillmentRequest) -> str:
        """Once per `request.order_key`; returns the supplier's order id."""
        ...

    async def cancel_order(self, order_key: str) -> None:
        """Idempotent; an order the supplier never had counts as cancelled.
        `BusinessError(ALREADY_SHIPPED)` once it shipped."""
        ...

    async def shipments_of(self, order_key: str) -> list[Shipment]:
        """Every shipment the supplier made for the order."""
        ...


class NotificationPort(Protocol):
    async def send(self, notification: Notification) -> str:
        """Send a templated message to the customer; returns the provider's message id.
        At-least-once: a retry after a lost answer may send it again."""
        ...


class StorePort(Protocol):
    """A store's POS, for orders collected in store."""

    async def create_pick_task(self, task: PickTask) -> str:
        """Upsert on (store, order key); returns the POS's task id."""
        ...

    async def cancel_pick_task(self, store: str, order_key: str) -> None:
        """Idempotent; a task the POS never had counts as cancelled. `BusinessError
        (ALREADY_SHIPPED)` once its parcel left the store, `(ALREADY_COLLECTED)` once the
        customer took it."""
        ...

    async def collected(self, store: str, order_key: str) -> list[PickLine]:
        """What the customer took at the counter for the task (nothing until collected)."""
        ...

    async def shipments(self, store: str, order_key: str) -> list[Shipment]:
        """What the store shipped for the task (ship from store)."""
        ...

    async def hand_over(self, handover: Handover) -> str:
        """Record the collection once per handover id; returns the POS receipt id."""
        ...


class SettlementSourcePort(Protocol):
    """Where a channel reports what it paid out: Amazon's settlement reports, Shopify
    Payments payouts, Walmart's reconciliation reports."""

    async def settlements(self, since: datetime) -> list[Settlement]:
        """The settlements the channel made since `since`, oldest first."""
        ...


class CatalogPort(Protocol):
    """The ERP's item master: items, their variants and prices."""

    async def items(
        self, price_lists: list[str], skus: list[str] | None = None
    ) -> list[CatalogItem]:
        """Every item (or those of `skus`), with their prices in `price_lists`."""
        ...


class ListingPort(Protocol):
    """A channel's listings of our items."""

    whole_products: ClassVar[bool]  # whether a product's every variant goes in each call
    batch_size: ClassVar[int]  # listings per publish call (a feed holds many)
    prices_apart: ClassVar[bool]  # whether a price-only change goes through `publish_prices`

    async def publish(self, listings: list[Listing]) -> list[ListingOutcome]:
        """Send the listings; each one's outcome (pending: the channel answers later)."""
        ...

    async def publish_prices(self, listings: list[Listing]) -> list[ListingOutcome]:
        """Send only the prices of listings the channel has (when `prices_apart`)."""
        ...

    async def check(self, pending: list[ListingOutcome]) -> list[ListingOutcome]:
        """What the channel says now of listings it had not answered for."""
        ...
