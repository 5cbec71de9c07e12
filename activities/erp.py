"""ERP activities: items, sales order, cancel or reduce it, delivery, invoice, credit note for
a return and its goods back on hand, store sales, stock levels."""

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from temporalio import activity

from activities.errors import partner_call
from activities.models import ErpOrderInput
from adapters.ports import ErpPort
from canonical import (
    CreditNoteRequest,
    ErpInvoiceRef,
    ErpOrderRef,
    ErpRestock,
    ErpStockMove,
    ItemRef,
    Order,
    OrderReduction,
    StockLevel,
)
from canonical.pos import ErpSaleRef, PosSale


class ErpLocations(Protocol):
    """Where our nodes are in the ERP's books (the inventory store knows)."""

    def location(self, node: str) -> str | None: ...

    def shipped_from(self, order_id: str) -> list[ErpStockMove]: ...


class ErpActivities:
    def __init__(self, erp: ErpPort, locations: ErpLocations) -> None:
        self._erp = erp
        self._locations = locations

    @activity.defn
    async def resolve_items(self, order: Order) -> list[ItemRef]:
        with partner_call():
            return await self._erp.resolve_items(order.skus())

    @activity.defn
    async def create_sales_order(self, request: ErpOrderInput) -> ErpOrderRef:
        with partner_call():
            return await self._erp.upsert_sales_order(request.order, request.items)

    @activity.defn
    async def cancel_sales_order(self, order_key: str) -> None:
        with partner_call():
            await self._erp.cancel_sales_order(order_key)

    @activity.defn
    async def reduce_sales_order(self, reduction: OrderReduction) -> None:
        with partner_call():
            await self._erp.reduce_sales_order(reduction)

    @activity.defn
    async def fulfil_sales_order(self, ref: ErpOrderRef) -> None:
        """The delivery, booked at the locations our ledger says the goods left."""
        shipped_from = await asyncio.to_thread(self._locations.shipped_from, ref.external_id)
        with partner_call():
            await self._erp.fulfil_sales_order(ref, shipped_from)

    @activity.defn
    async def invoice_sales_order(self, ref: ErpOrderRef) -> ErpInvoiceRef:
        with partner_call():
            return await self._erp.invoice_sales_order(ref)

    @activity.defn
    async def credit_return(self, request: CreditNoteRequest) -> ErpInvoiceRef:
        with partner_call():
            return await self._erp.credit_return(request)

    @activity.defn
    async def erp_restock_return(self, restock: ErpRestock) -> None:
        location = await asyncio.to_thread(self._locations.location, restock.node)
        moves = [
            ErpStockMove(sku=sku, quantity=units, location=location)
            for sku, units in sorted(restock.lines.items())
        ]
        with partner_call():
            await self._erp.restock_return(restock.restock_key, restock.order_key, moves)

    @activity.defn
    async def post_cash_sale(self, sale: PosSale) -> ErpSaleRef:
        location = await asyncio.to_thread(self._locations.location, sale.store_id)
        with partner_call():
            items = await self._erp.resolve_items(sorted({line.sku for line in sale.lines}))
            return await self._erp.post_cash_sale(sale, items, location)

    @activity.defn
    async def erp_stock_levels(self, skus: list[str]) -> list[StockLevel]:
        if not skus:
            return []
        with partner_call():
            return await self._erp.stock_levels(skus)

    def activities(self) -> list[Callable[..., Any]]:
        """Every ERP activity, for the worker of the ERP's queue."""
        return [
            self.resolve_items,
            self.create_sales_order,
            self.cancel_sales_order,
            self.reduce_sales_order,
            self.fulfil_sales_order,
            self.invoice_sales_order,
            self.credit_return,
            self.erp_restock_return,
            self.post_cash_sale,
            self.erp_stock_levels,
        ]
