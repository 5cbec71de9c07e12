"""ERP activities: items, sales order, cancel or reduce it, delivery, invoice, credit note for
a return, store sales, stock levels."""

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.errors import partner_call
from activities.models import ErpOrderInput
from adapters.ports import ErpPort
from canonical import (
    CreditNoteRequest,
    ErpInvoiceRef,
    ErpOrderRef,
    ItemRef,
    Order,
    OrderReduction,
    StockLevel,
)
from canonical.pos import ErpSaleRef, PosSale


class ErpActivities:
    def __init__(self, erp: ErpPort) -> None:
        self._erp = erp

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
        with partner_call():
            await self._erp.fulfil_sales_order(ref)

    @activity.defn
    async def invoice_sales_order(self, ref: ErpOrderRef) -> ErpInvoiceRef:
        with partner_call():
            return await self._erp.invoice_sales_order(ref)

    @activity.defn
    async def credit_return(self, request: CreditNoteRequest) -> ErpInvoiceRef:
        with partner_call():
            return await self._erp.credit_return(request)

    @activity.defn
    async def post_cash_sale(self, sale: PosSale) -> ErpSaleRef:
        with partner_call():
            items = await self._erp.resolve_items(sorted({line.sku for line in sale.lines}))
            return await self._erp.post_cash_sale(sale, items)

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
            self.post_cash_sale,
            self.erp_stock_levels,
        ]
